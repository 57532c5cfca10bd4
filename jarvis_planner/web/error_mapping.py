"""Errors as JSON ``{error, hint}`` (plus ``problems``): the exceptions the client raises mapped
to HTTP statuses in one place, and the handlers that send them. What the handlers send is in web
wording (:func:`jarvis_planner.web.wording.web_wording`): the page shows these errors, so a hint
written for the terminal (`jarvis tools` lists them) says what to do on the page instead."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from agents.client import DecisionRefused, EditRefused, NoAnswer
from agents.stuck_runs import Stuck
from jarvis_planner.web.bodies import ErrorOut
from jarvis_planner.web.wording import web_wording


class ApiError(Exception):
    def __init__(self, status: int, error: str, hint: str = "",
                 problems: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.hint, self.problems = status, error, hint, problems
        self.headers = headers


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in ((404, "No such goal"), (409, "The goal is not awaiting approval"),
                       (410, "The goal was cancelled or terminated"),
                       (503, "The Temporal server is unreachable"))
}
NO_SUCH_GOAL = ("no such goal", "GET /api/goals lists the recent goals")


def error_response(status: int, error: str, hint: str = "",
                   problems: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": error, "hint": hint}
    if problems is not None:
        body["problems"] = problems
    return JSONResponse(body, status_code=status, headers=headers)


def describe_error(exc: BaseException) -> tuple[str, str, int]:
    """(message, hint, HTTP status) for the errors the client raises."""
    if isinstance(exc, EditRefused):
        return str(exc), "fix the problems, or approve / reject the current plan", 422
    if isinstance(exc, DecisionRefused):
        return str(exc), "GET /api/goals/{id} shows the goal's stage", 409
    if isinstance(exc, LookupError):
        return str(exc), "", 410
    if isinstance(exc, Stuck):
        return str(exc), "ask whoever runs this app to read the worker's log", 500
    if isinstance(exc, NoAnswer):
        return str(exc), "ask whoever runs this app whether its worker runs", 504
    if isinstance(exc, RPCError):
        if exc.status == RPCStatusCode.NOT_FOUND:
            return *NO_SUCH_GOAL, 404
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return (f"the Temporal server is unreachable: {exc.message}",
                    web_wording("start it with `jarvis up`"), 503)
        return f"Temporal error: {exc.message}", "", 502
    return f"{type(exc).__name__}: {exc}", "", 500


def worded(problems: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Problems with their messages in web wording."""
    if problems is None:
        return None
    return [{**p, "message": web_wording(str(p.get("message", "")))} for p in problems]


def _validation_problems(exc: RequestValidationError) -> Iterator[dict[str, Any]]:
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] == "body":
            loc = loc[1:]
        in_plan = bool(loc) and loc[0] == "plan"
        yield {"code": "invalid_plan" if in_plan else "invalid_request", "step_id": None,
               "location": ".".join(loc[1:] if in_plan else loc), "message": err.get("msg", "")}


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, web_wording(exc.error), web_wording(exc.hint),
                              worded(exc.problems), exc.headers)

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        message, hint, status = describe_error(exc)
        problems = ([p.model_dump(mode="json") for p in exc.problems]
                    if isinstance(exc, EditRefused) else None)
        return error_response(status, web_wording(message), web_wording(hint), worded(problems))

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
    for kind in (DecisionRefused, LookupError, NoAnswer, Stuck, RPCError):
        app.add_exception_handler(kind, refused)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)


