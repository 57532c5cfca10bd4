"""The chat web app: one page (``static/``) and a small JSON API under ``/api``.

Every call goes through ``jarvis_planner.api.JarvisClient``, the same client the CLI and host
applications use, so the three always agree on a goal's state.

    POST /api/goals                   {goal, yes?, dry_run?}  -> 201 {id}
    GET  /api/goals                   ?pending=true&limit=20  -> [{id, goal, stage, started}]
    GET  /api/goals/{id}              the goal's GoalState
    POST /api/goals/{id}/approve      {note?}                 -> GoalState
    POST /api/goals/{id}/reject       {reason?}               -> GoalState
    POST /api/goals/{id}/edit         {plan, note?}           -> GoalState (422 + problems)
    POST /api/goals/{id}/cancel                               -> {id, cancelled}
    GET  /api/goals/{id}/events       server-sent events until the goal finishes
    GET  /api/goals/{id}/timeline.svg a Gantt picture of the run
    GET  /api/info                    Temporal UI address, namespace, task queue

Errors are JSON ``{error, hint}`` (plus ``problems`` for a refused edit or a malformed body);
a decision on a goal that is not waiting is 409. POSTs must send ``Content-Type:
application/json`` (a cross-site form cannot, which keeps other sites from approving goals),
and every response carries a same-origin Content-Security-Policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import uvicorn
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.service import RPCError, RPCStatusCode

from agents.client import DecisionRefused, EditRefused, Gone
from jarvis_planner.api import GoalEvent, JarvisClient
from jarvis_planner.gantt import render_svg
from planner.contracts.goal import GoalState
from planner.plan import Plan
from planner.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
BY = "web"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
# FastAPI's /docs and /redoc pages load Swagger UI / ReDoc from a CDN with an inline script.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net "
            "https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; "
            "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
            "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'")
DOCS_PATHS = {"/docs", "/redoc", "/docs/oauth2-redirect"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
           '<rect width="32" height="32" rx="7" fill="#2457c5"/>'
           '<path d="M9 21l5-10 4 7 3-4 3 7" fill="none" stroke="#fff" stroke-width="2.6" '
           'stroke-linecap="round" stroke-linejoin="round"/></svg>')


# -- request and response bodies -----------------------------------------------------------
class SubmitBody(BaseModel):
    goal: str = Field(min_length=1, max_length=4000, description="The goal, in plain language.")
    yes: bool = Field(False, description="Pre-approve the plan (dangerous steps still ask).")
    dry_run: bool = Field(False, description="Stop after planning; nothing is executed.")
    by: str = Field(BY, max_length=200, description="Who submits (kept with the goal).")


class Submitted(BaseModel):
    id: str


class GoalItem(BaseModel):
    id: str
    goal: str
    stage: str
    started: str


class ApproveBody(BaseModel):
    note: str = Field("", max_length=2000)
    by: str = Field(BY, max_length=200)


class RejectBody(BaseModel):
    reason: str = Field("", max_length=2000)
    by: str = Field(BY, max_length=200)


class EditBody(BaseModel):
    plan: Plan = Field(description="The whole edited plan; re-validated before it replaces "
                                   "the current one.")
    note: str = Field("", max_length=2000)
    by: str = Field(BY, max_length=200)


class Cancelled(BaseModel):
    id: str
    cancelled: bool


class Info(BaseModel):
    temporal_ui: str
    namespace: str
    task_queue: str
    temporal_address: str


class ProblemOut(BaseModel):
    code: str
    step_id: str | None = None
    location: str = ""
    message: str


class ErrorOut(BaseModel):
    error: str
    hint: str = ""
    problems: list[ProblemOut] | None = None


class ApiError(Exception):
    def __init__(self, status: int, error: str, hint: str = "",
                 problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.hint, self.problems = status, error, hint, problems


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in ((404, "No such goal"), (409, "The goal is not awaiting approval"),
                       (410, "The goal was cancelled or terminated"),
                       (503, "The Temporal server is unreachable"))
}


def error_response(status: int, error: str, hint: str = "",
                   problems: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": error, "hint": hint}
    if problems is not None:
        body["problems"] = problems
    return JSONResponse(body, status_code=status)


# -- security headers and cross-site protection (pure ASGI: SSE streams pass untouched) ------
class Guard:
    """Adds CSP and friends to every response; refuses cross-site or non-JSON API writes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        refusal = self._refusal(scope) if scope["method"] in UNSAFE_METHODS else None
        csp = DOCS_CSP if path in DOCS_PATHS else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = csp
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "no-referrer"
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _refusal(scope: Scope) -> JSONResponse | None:
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != headers.get("host"):
            return error_response(403, f"cross-origin request from {origin} refused",
                                  "the API accepts writes from its own page only")
        if origin == "null":
            return error_response(403, "request from an opaque origin refused")
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return error_response(415, "POST bodies must be JSON",
                                  "send `Content-Type: application/json` and a JSON body "
                                  "(`{}` when there is nothing to say)")
        return None


# -- the app --------------------------------------------------------------------------------
def temporal_ui_base(settings: Settings) -> str:
    return f"http://localhost:{settings.temporal_ui_port}"


def temporal_ui_link(settings: Settings, goal_id: str) -> str:
    return (f"{temporal_ui_base(settings)}/namespaces/{quote(settings.temporal_namespace, '')}"
            f"/workflows/{quote(goal_id, '')}")


def event_json(event: GoalEvent) -> dict[str, Any]:
    return {"kind": event.kind, "stage": event.stage, "step_id": event.step_id,
            "status": event.status, "state": event.state.model_dump(mode="json")}


def sse(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def create_app(settings: Settings, jarvis: JarvisClient | None = None, *,
               poll_s: float = 0.25, keepalive_s: float = 15.0) -> FastAPI:
    """The web app. Without ``jarvis`` it connects to Temporal at startup (no worker is
    started: `jarvis serve` runs one when none polls)."""
    holder: dict[str, JarvisClient] = {}
    if jarvis is not None:
        holder["jarvis"] = jarvis

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if "jarvis" not in holder:
            holder["jarvis"] = await JarvisClient.connect(settings)
        yield

    def client() -> JarvisClient:
        return holder["jarvis"]

    app = FastAPI(title="JARVIS Planner", version="0.1.0", lifespan=lifespan,
                  description="Goals in plain language -> validated plans -> review -> "
                              "durable execution. The chat page lives at `/`.")
    app.add_middleware(Guard)
    _install_error_handlers(app)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/favicon.svg", include_in_schema=False)
    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(FAVICON, media_type="image/svg+xml",
                         headers={"Cache-Control": "max-age=86400"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/info", response_model=Info, tags=["info"])
    async def info() -> Info:
        """Where the Temporal UI is; a goal's run is at
        ``{temporal_ui}/namespaces/{namespace}/workflows/{id}``."""
        return Info(temporal_ui=temporal_ui_base(settings),
                    namespace=settings.temporal_namespace, task_queue=settings.task_queue,
                    temporal_address=settings.temporal_address)

    @app.post("/api/goals", status_code=201, response_model=Submitted, tags=["goals"],
              responses={503: ERRORS[503]})
    async def submit(body: SubmitBody) -> Submitted:
        """Start a goal: it is planned, then waits for review unless policy lets it run."""
        goal_id = await client().submit(body.goal, yes=body.yes, dry_run=body.dry_run,
                                        by=body.by)
        return Submitted(id=goal_id)

    final_stages: dict[str, str] = {}  # closed goals never change: their final stage, by id
    lookups = asyncio.Semaphore(8)

    async def final_stage(goal_id: str, listed: str) -> str:
        """A closed goal is listed as "completed"; its state says succeeded, rejected, ..."""
        if listed != "completed":
            return listed
        if goal_id not in final_stages:
            async with lookups:
                try:
                    final_stages[goal_id] = (await client().state(goal_id)).stage
                except Gone:
                    final_stages[goal_id] = "cancelled"
                except RPCError:
                    return listed
        return final_stages[goal_id]

    @app.get("/api/goals", response_model=list[GoalItem], tags=["goals"])
    async def list_goals(pending: bool = Query(False, description="Only goals waiting for "
                                                                  "a decision."),
                         limit: int = Query(20, ge=1, le=200)) -> list[GoalItem]:
        """Recent goals, newest first, with their stage."""
        goals = await client().list(limit, pending=pending)
        stages = await asyncio.gather(*(final_stage(g.id, g.stage) for g in goals))
        return [GoalItem(id=g.id, goal=g.goal, stage=stage, started=g.started)
                for g, stage in zip(goals, stages, strict=True)]

    @app.get("/api/goals/{goal_id}", response_model=GoalState, tags=["goals"],
             responses={404: ERRORS[404], 410: ERRORS[410]})
    async def goal_state(goal_id: str) -> GoalState:
        """Stage, plan, problems, risks, decisions, per-step run state, token usage."""
        return await client().state(goal_id)

    @app.post("/api/goals/{goal_id}/approve", response_model=GoalState, tags=["review"],
              responses={404: ERRORS[404], 409: ERRORS[409]})
    async def approve(goal_id: str, body: ApproveBody | None = None) -> GoalState:
        """Approve the plan of a goal that waits for review; it starts executing."""
        body = body or ApproveBody()
        return await client().approve(goal_id, by=body.by, note=body.note)

    @app.post("/api/goals/{goal_id}/reject", response_model=GoalState, tags=["review"],
              responses={404: ERRORS[404], 409: ERRORS[409]})
    async def reject(goal_id: str, body: RejectBody | None = None) -> GoalState:
        """Reject the plan; nothing runs."""
        body = body or RejectBody()
        return await client().reject(goal_id, by=body.by, reason=body.reason)

    @app.post("/api/goals/{goal_id}/edit", response_model=GoalState, tags=["review"],
              responses={404: ERRORS[404], 409: ERRORS[409],
                         422: {"model": ErrorOut, "description": "The edited plan does not "
                               "validate; the goal still waits on its current plan"}})
    async def edit(goal_id: str, body: EditBody) -> GoalState:
        """Replace the waiting goal's plan. It is validated against the tools first; an
        invalid plan is refused with its problems and the goal keeps waiting."""
        return await client().edit(goal_id, body.plan, by=body.by, note=body.note)

    @app.post("/api/goals/{goal_id}/cancel", response_model=Cancelled, tags=["goals"],
              responses={404: ERRORS[404], 409: ERRORS[409]})
    async def cancel(goal_id: str) -> Cancelled:
        """Cancel a goal that has not finished (running steps are cancelled)."""
        state = await client().state(goal_id)
        if state.finished:
            raise ApiError(409, f"goal {goal_id} is {state.stage}; nothing to cancel")
        await client().cancel(goal_id)
        return Cancelled(id=goal_id, cancelled=True)

    @app.get("/api/goals/{goal_id}/events", tags=["goals"],
             response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "Server-sent events `stage`, `plan`, `step`, "
                                             "`decision`, `done` (and `error`); each `data` "
                                             "is `{kind, stage, step_id, status, state}`."},
                        404: ERRORS[404], 410: ERRORS[410]})
    async def events(goal_id: str) -> StreamingResponse:
        """The goal's changes as they happen, starting with its current state. The stream
        stays open while the goal waits for review and ends after `done`."""
        await client().state(goal_id)  # 404 / 410 before the stream starts
        return StreamingResponse(
            _event_stream(client(), goal_id, poll_s, keepalive_s),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/api/goals/{goal_id}/timeline.svg", tags=["goals"],
             response_class=Response,
             responses={200: {"content": {"image/svg+xml": {}},
                              "description": "A Gantt chart of the run's steps"},
                        404: ERRORS[404]})
    async def timeline(goal_id: str) -> Response:
        """The run's steps on a time axis (404 while nothing has run)."""
        state = await client().state(goal_id)
        if state.run is None:
            raise ApiError(404, f"goal {goal_id} is {state.stage}: none of its steps ran yet",
                           "the timeline exists once the goal executes")
        svg = render_svg(state.run, title=state.goal, subtitle=goal_id,
                         now=time.time() if state.run.status == "running" else None)
        return Response(svg, media_type="image/svg+xml")

    return app


async def _event_stream(jarvis: JarvisClient, goal_id: str, poll_s: float,
                        keepalive_s: float) -> AsyncIterator[str]:
    """SSE from ``JarvisClient.events``, with keep-alive comments while nothing changes."""
    queue: asyncio.Queue[GoalEvent | BaseException | None] = asyncio.Queue()

    async def produce() -> None:
        try:
            async for event in jarvis.events(goal_id, poll_s=poll_s):
                queue.put_nowait(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reported to the page as an `error` event
            queue.put_nowait(exc)
        queue.put_nowait(None)

    task = asyncio.create_task(produce())
    try:
        yield "retry: 2000\n\n"
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=keepalive_s)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item is None:
                return
            if isinstance(item, BaseException):
                error, hint, _ = _describe(item)
                yield sse("error", {"error": error, "hint": hint})
                return
            yield sse(item.kind, event_json(item))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _describe(exc: BaseException) -> tuple[str, str, int]:
    """(message, hint, HTTP status) for the errors the client raises."""
    if isinstance(exc, EditRefused):
        return str(exc), "fix the problems, or approve / reject the current plan", 422
    if isinstance(exc, DecisionRefused):
        return str(exc), "GET /api/goals/{id} shows the goal's stage", 409
    if isinstance(exc, LookupError):
        return str(exc), "", 410
    if isinstance(exc, RPCError):
        if exc.status == RPCStatusCode.NOT_FOUND:
            return "no such goal", "GET /api/goals lists the recent goals", 404
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return (f"the Temporal server is unreachable: {exc.message}",
                    "start it with `jarvis up`", 503)
        return f"Temporal error: {exc.message}", "", 502
    return f"{type(exc).__name__}: {exc}", "", 500


def _validation_problems(exc: RequestValidationError) -> Iterator[dict[str, Any]]:
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] == "body":
            loc = loc[1:]
        in_plan = bool(loc) and loc[0] == "plan"
        yield {"code": "invalid_plan" if in_plan else "invalid_request", "step_id": None,
               "location": ".".join(loc[1:] if in_plan else loc), "message": err.get("msg", "")}


def _install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.error, exc.hint, exc.problems)

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        message, hint, status = _describe(exc)
        problems = ([p.model_dump(mode="json") for p in exc.problems]
                    if isinstance(exc, EditRefused) else None)
        return error_response(status, message, hint, problems)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        hint = "GET /openapi.json lists the routes" if exc.status_code in (404, 405) else ""
        return error_response(exc.status_code, str(exc.detail), hint)

    async def invalid_request(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = list(_validation_problems(exc))
        is_plan = any(p["code"] == "invalid_plan" for p in problems)
        return error_response(
            422, "the edited plan does not match the plan schema" if is_plan
            else "the request does not match the API", "GET /openapi.json has the schemas",
            problems)

    app.add_exception_handler(ApiError, api_error)
    for kind in (DecisionRefused, LookupError, RPCError):
        app.add_exception_handler(kind, refused)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)


# -- serving --------------------------------------------------------------------------------
class UvicornServer(uvicorn.Server):
    """uvicorn's server; with ``handle_signals=False`` it leaves signal handling to its host
    (tests, or a command that must stop its worker cleanly after the server)."""

    def __init__(self, config: uvicorn.Config, *, handle_signals: bool = True) -> None:
        super().__init__(config)
        self.handle_signals = handle_signals

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if not self.handle_signals:
            yield
            return
        with super().capture_signals():
            try:
                yield
            finally:
                # uvicorn re-raises a captured SIGINT/SIGTERM after shutdown, which would kill
                # the process before the caller's cleanup (the in-process worker) runs
                captured = getattr(self, "_captured_signals", None)
                if isinstance(captured, list):
                    captured.clear()


def server_config(app: FastAPI, host: str, port: int, log_level: str = "info"
                  ) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on",
                          timeout_graceful_shutdown=3, access_log=log_level == "debug")
