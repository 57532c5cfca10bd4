"""The chat web app: one page (``static/``) and a small JSON API under ``/api``.

Every call goes through ``jarvis_planner.api.JarvisClient``, the same client the CLI and host
applications use, so the three always agree on a goal's state.

    POST /api/goals                   {goal, yes?, dry_run?}  -> 201 {id}
    GET  /api/goals                   ?pending=true&limit=20  -> [{id, goal, stage, started,
                                                                   group, short_id}]
    GET  /api/goals/{id}              the goal's GoalState plus its ``view``
    POST /api/goals/{id}/approve      {note?}                 -> GoalState
    POST /api/goals/{id}/reject       {reason?}               -> GoalState
    POST /api/goals/{id}/edit         {plan, note?}           -> GoalState (422 + problems)
    POST /api/goals/{id}/cancel                               -> {id, cancelled}
    GET  /api/goals/{id}/events       server-sent events until the goal finishes
    GET  /api/goals/{id}/timeline.svg a Gantt picture of the run
    GET  /api/schedules               recurring goals: when, next run, last outcome
    POST /api/schedules/{id}/pause|resume|trigger  {note?}
    GET  /api/info                    Temporal UI address, namespace, task queue, stages, who
    POST /api/login                   {token} -> session cookie, {user, admin}
    POST /api/logout                  clears the session cookie

Errors are JSON ``{error, hint}`` (plus ``problems`` for a refused edit or a malformed body);
a decision on a goal that is not waiting is 409. Every request must name a host the app serves
(``JARVIS_WEB_ALLOWED_HOSTS`` plus the address it listens on; else 421: DNS rebinding). Every
``/api`` route but login and logout needs a token (``Authorization: Bearer``) or the session
cookie (else 401); people who are not admins see only their own goals (others are 404). POSTs
must send ``Content-Type: application/json`` (a cross-site form cannot, which keeps other sites
from approving goals), and every response carries a same-origin Content-Security-Policy. Too
many requests or event streams in flight are refused with 429 and ``Retry-After``.

Modules: ``routes`` (the API), ``bodies`` (request and response models), ``view`` (what the
page shows, computed here; with ``graph``, the plan laid out for drawing, ``failure``, why a goal
failed in words, and ``wording``, CLI hints in web wording), ``sse`` (the event stream),
``error_mapping`` (errors as JSON), ``docs`` (``/docs``, Swagger UI served from here),
``security`` (host names, headers and cross-site refusals), ``access_log`` (a line per
request), ``tokens`` (the admin token and the
users file), ``auth`` (identities, session cookies, the authentication middleware), ``login``
(login and logout), ``limits`` (back-pressure), ``server`` (uvicorn); this one wires them.
"""


from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from agents.client import JarvisClient
from jarvis_planner.web.access_log import AccessLog
from jarvis_planner.web.auth import Authenticate, Authenticator, FailedChecks, Identity, identity
from jarvis_planner.web.bodies import Info
from jarvis_planner.web.docs import install_docs
from jarvis_planner.web.error_mapping import install_error_handlers
from jarvis_planner.web.failure import PLANNER_ATTEMPTS
from jarvis_planner.web.limits import MAX_REQUESTS, MAX_STREAMS, BackPressure, InFlight
from jarvis_planner.web.login import router as login_routes
from jarvis_planner.web.routes import goals, review
from jarvis_planner.web.schedule_routes import schedules
from jarvis_planner.web.security import Guard, allowed_hosts
from jarvis_planner.web.server import UvicornServer, server_config
from jarvis_planner.web.tokens import AdminToken, UserStore, admin_token
from jarvis_planner.web.view import STAGES
from planner.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"

FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
           '<rect width="32" height="32" rx="7" fill="#2457c5"/>'
           '<path d="M9 21l5-10 4 7 3-4 3 7" fill="none" stroke="#fff" stroke-width="2.6" '
           'stroke-linecap="round" stroke-linejoin="round"/></svg>')


def temporal_ui_base(settings: Settings) -> str:
    return f"http://localhost:{settings.temporal_ui_port}"


def temporal_ui_link(settings: Settings, goal_id: str) -> str:
    return (f"{temporal_ui_base(settings)}/namespaces/{quote(settings.temporal_namespace, '')}"
            f"/workflows/{quote(goal_id, '')}")


def create_app(settings: Settings, jarvis: JarvisClient | None = None, *,
               poll_s: float = 0.25, keepalive_s: float = 15.0, bind_host: str | None = None,
               token: AdminToken | None = None, max_requests: int = MAX_REQUESTS,
               max_streams: int = MAX_STREAMS) -> FastAPI:
    """The web app. Without ``jarvis`` it connects to Temporal at startup (no worker is
    started: `jarvis serve` runs one when none polls). It answers to the host names in
    ``settings.web_allowed_hosts`` plus ``bind_host`` (the address it listens on); ``token``
    is the admin token (default: ``JARVIS_WEB_TOKEN``, else ``<data dir>/web-token``, made
    when missing); at most ``max_requests`` API requests and ``max_streams`` event streams are
    in flight at once."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "jarvis", None) is None:
            app.state.jarvis = await JarvisClient.connect(settings)
        yield

    app = FastAPI(title="JARVIS Planner", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # /docs is served from here (docs.py)
                  description="Goals in plain language -> validated plans -> review -> "
                              "durable execution. The chat page lives at `/`.")
    app.state.jarvis = jarvis
    app.state.stream = {"poll_s": poll_s, "keepalive_s": keepalive_s}
    app.state.auth = Authenticator(token or admin_token(settings), UserStore.of(settings))
    app.state.failures = FailedChecks()
    app.state.in_flight = InFlight()
    # the last added runs first: the access log, host names and headers, then identity, then
    # back-pressure
    app.add_middleware(BackPressure, max_requests=max_requests, max_streams=max_streams,
                       in_flight=app.state.in_flight)
    app.add_middleware(Authenticate, auth=app.state.auth, failures=app.state.failures)
    app.add_middleware(Guard, allowed_hosts=allowed_hosts(settings.web_allowed_hosts,
                                                          bind_host))
    app.add_middleware(AccessLog)  # outermost: every request, refused ones too
    install_error_handlers(app)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/favicon.svg", include_in_schema=False)
    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(FAVICON, media_type="image/svg+xml",
                        headers={"Cache-Control": "max-age=86400"})

    install_docs(app)  # before /static: Swagger UI's files are under it
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/info", response_model=Info, tags=["info"])
    async def info(who: Identity = Depends(identity)) -> Info:
        """Where the Temporal UI is (a goal's run is at
        ``{temporal_ui}/namespaces/{namespace}/workflows/{id}``), the stages a goal moves
        through and can end in, who is logged in, and how often planning tries the LLM."""
        return Info(temporal_ui=temporal_ui_base(settings),
                    namespace=settings.temporal_namespace, task_queue=settings.task_queue,
                    temporal_address=settings.temporal_address, stages=STAGES,
                    user=who.name, admin=who.admin, planner_attempts=PLANNER_ATTEMPTS)

    app.include_router(login_routes)
    app.include_router(goals)
    app.include_router(review)
    app.include_router(schedules)
    return app


__all__ = ["UvicornServer", "create_app", "server_config", "temporal_ui_base",
           "temporal_ui_link"]
