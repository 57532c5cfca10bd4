"""Logging in and out: a token for a session cookie (``HttpOnly; SameSite=Strict; Path=/``,
``Secure`` over https), and the cookie cleared again."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from jarvis_planner.web.auth import (
    COOKIE,
    HOW,
    Authenticator,
    FailedChecks,
    client_address,
    too_many_failures,
)
from jarvis_planner.web.bodies import ErrorOut
from jarvis_planner.web.error_mapping import ApiError

router = APIRouter(prefix="/api", tags=["login"])


class LoginBody(BaseModel):
    token: str = Field(min_length=1, max_length=512, description="The admin token or a "
                                                                  "user's token.")


class Me(BaseModel):
    user: str
    admin: bool


class LoggedOut(BaseModel):
    logged_out: bool


@router.post("/login", response_model=Me,
             responses={401: {"model": ErrorOut, "description": "Wrong token"},
                        429: {"model": ErrorOut, "description": "Too many failed logins from "
                                                                "this address; see Retry-After"}})
async def login(body: LoginBody, request: Request, response: Response) -> Me:
    """Exchange a token for a session cookie (valid 12 hours)."""
    auth: Authenticator = request.app.state.auth
    failures: FailedChecks = request.app.state.failures
    client = client_address(request.scope)
    wait = failures.retry_after(client)
    if wait is not None:
        raise too_many_failures(wait)
    who = auth.by_token(body.token)
    if who is None:
        failures.failed(client)
        raise ApiError(401, "wrong token", HOW)
    failures.succeeded(client)
    response.set_cookie(COOKIE, auth.session(who), max_age=auth.session_s, path="/",
                        secure=request.url.scheme == "https", httponly=True, samesite="strict")
    return Me(user=who.name, admin=who.admin)


@router.post("/logout", response_model=LoggedOut)
async def logout(request: Request, response: Response) -> LoggedOut:
    """Clear the session cookie."""
    response.delete_cookie(COOKIE, path="/", secure=request.url.scheme == "https",
                           httponly=True, samesite="strict")
    return LoggedOut(logged_out=True)
