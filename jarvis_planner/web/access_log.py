"""One log line per request, as pure ASGI middleware (outermost, so refusals by the other
middleware are logged too): method, path, status, duration. Never the query string (it may
carry a token) nor any header (Authorization, cookies). An event stream is logged when it
closes, with how long it was open."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("jarvis.web")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500  # until the response starts: an exception is answered with 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            took_ms = (time.monotonic() - started) * 1000
            method, path = str(scope.get("method", "")), str(scope.get("path", ""))
            fields: dict[str, Any] = {"event": "request", "method": method, "path": path,
                                      "status": status, "duration_ms": round(took_ms, 1)}
            log.info("%s %s %d in %.1fms", method, path, status, took_ms,
                     extra={"jarvis": fields})
