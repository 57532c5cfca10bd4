"""The interactive API docs at ``/docs``, served from this app alone: Swagger UI's script and
stylesheet come from the ``fastapi-offline`` wheel (Swagger UI 5, which reads FastAPI's OpenAPI
3.1; no CDN, so the page works offline; only its static files are used), and the page has no
inline script (its start-up script is ``static/docs/init.js``), so the docs keep the chat page's
strict Content-Security-Policy."""

from __future__ import annotations

import importlib.util
from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

ASSETS = "/static/swagger-ui"
SERVED = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}


def swagger_ui_dir() -> Path | None:
    """Swagger UI's files, shipped in the ``fastapi-offline`` package (None when it is not
    installed); found without importing it."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    return folder if all((folder / name).is_file() for name in SERVED) else None


def docs_html(title: str, openapi_url: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{escape(title)} - API docs</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  <link rel="stylesheet" href="/static/docs/docs.css">
  <script src="{ASSETS}/swagger-ui-bundle.js" defer></script>
  <script src="/static/docs/init.js" defer></script>
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
</body>
</html>
"""


MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>API docs</title></head>
<body><p>The interactive docs need the <code>fastapi-offline</code> package (a dependency of
jarvis-planner). <a href="/openapi.json">/openapi.json</a> describes the API.</p></body></html>
"""


def install_docs(app: FastAPI) -> None:
    """``/docs`` and Swagger UI's two files (call it before mounting ``/static``; the app is
    made with ``docs_url=None``)."""
    folder = swagger_ui_dir()
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if folder is None:
            return HTMLResponse(MISSING, status_code=503)
        return HTMLResponse(docs_html(app.title, openapi_url),
                            headers={"Cache-Control": "no-cache"})

    @app.get(ASSETS + "/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if folder is None or name not in SERVED:
            return Response(status_code=404)
        return FileResponse(folder / name, media_type=SERVED[name],
                            headers={"Cache-Control": "max-age=86400"})
