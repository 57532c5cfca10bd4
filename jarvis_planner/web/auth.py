"""Authentication: a request's identity from a bearer token or a signed session cookie, the
cookies themselves, the limit on failed token checks, and the ASGI middleware that refuses every
``/api`` request without an identity (``/api/login`` and ``/api/logout`` excepted).

A session cookie is ``<payload>.<mac>``: the payload (base64url JSON) names the user and when the
session ends; the MAC is HMAC-SHA256 with a key derived from the admin token over the payload and
the user's token digest, so a new admin token logs everyone out and a user removed (or given a
new token) loses their sessions.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from jarvis_planner.web.error_mapping import ApiError, error_response
from jarvis_planner.web.tokens import ADMIN, TOKEN_FILE, AdminToken, UserStore, digest

COOKIE = "jarvis_session"
SESSION_S = 12 * 3600
PUBLIC = frozenset({"/api/login", "/api/logout"})
SCOPE_KEY = "jarvis.identity"
HOW = ("log in on the page with your token, or send `Authorization: Bearer <token>` (the admin "
       f"token is JARVIS_WEB_TOKEN, else the one `jarvis serve` printed, kept in <data dir>/"
       f"{TOKEN_FILE}; `jarvis users add NAME` makes more)")
BEARER = HTTPBearer(auto_error=False, description="The admin token or a user's token.")


@dataclass(frozen=True)
class Identity:
    name: str
    admin: bool

    @property
    def by(self) -> str:
        """Who decided or submitted, as the workflow records it."""
        return f"web:{self.name}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class Authenticator:
    """Tokens and session cookies to identities."""

    def __init__(self, admin: AdminToken, users: UserStore, *, session_s: int = SESSION_S,
                 clock: Callable[[], float] = time.time) -> None:
        self._admin = admin.token
        self._admin_sha = digest(admin.token)
        self._key = hmac.new(_bytes(admin.token), b"jarvis web session v1",
                             hashlib.sha256).digest()
        self.users = users
        self.session_s = session_s
        self.clock = clock

    def by_token(self, token: str) -> Identity | None:
        if hmac.compare_digest(_bytes(token), _bytes(self._admin)):
            return Identity(ADMIN, True)
        user = self.users.find(token)
        return Identity(user.name, user.admin) if user is not None else None

    def session(self, who: Identity, now: float | None = None) -> str:
        """A session cookie's value for ``who``, ending ``session_s`` after ``now``."""
        start = self.clock() if now is None else now
        payload = _b64(json.dumps({"u": who.name, "exp": int(start + self.session_s)},
                                  separators=(",", ":")).encode())
        secret = self._secret(who.name)
        if secret is None:
            raise ValueError(f"no user {who.name!r}")
        return f"{payload}.{self._mac(payload, secret)}"

    def by_cookie(self, value: str) -> Identity | None:
        if len(value) > 1024 or value.count(".") != 1:
            return None
        payload, mac = value.split(".")
        try:
            data: Any = json.loads(_unb64(payload))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(data, dict):
            return None
        name, end = data.get("u"), data.get("exp")
        if not isinstance(name, str) or not isinstance(end, int):
            return None
        secret = self._secret(name)
        if secret is None or not hmac.compare_digest(_bytes(mac), _bytes(
                self._mac(payload, secret))):
            return None
        if end <= self.clock():
            return None
        if name == ADMIN:
            return Identity(ADMIN, True)
        user = self.users.get(name)
        return Identity(name, user.admin) if user is not None else None

    def _secret(self, name: str) -> str | None:
        if name == ADMIN:
            return self._admin_sha
        user = self.users.get(name)
        return user.sha256 if user is not None else None

    def _mac(self, payload: str, secret: str) -> str:
        return _b64(hmac.new(self._key, f"{payload}.{secret}".encode(), hashlib.sha256).digest())


class FailedChecks:
    """Failed token checks per client address: after ``limit`` failures within ``window_s``
    the client must wait (``retry_after``) before its tokens are checked again."""

    def __init__(self, limit: int = 10, window_s: float = 60.0, *, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.max_clients, self.clock = (limit, window_s, max_clients,
                                                                   clock)
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> int | None:
        """Seconds to wait when ``client`` is locked out, else None."""
        failures = self._failures.get(client)
        if failures is None:
            return None
        now = self.clock()
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        if len(failures) < self.limit:
            return None
        return max(1, math.ceil(failures[0] + self.window_s - now))

    def failed(self, client: str) -> None:
        failures = self._failures.pop(client, None) or deque(maxlen=self.limit)
        failures.append(self.clock())
        self._failures[client] = failures  # most recent last: the oldest go first when full
        while len(self._failures) > self.max_clients:
            del self._failures[next(iter(self._failures))]

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def too_many_failures(wait: int) -> ApiError:
    return ApiError(429, "too many failed logins from this address",
                    f"wait {wait} s before trying again", headers={"Retry-After": str(wait)})


class Authenticate:
    """Pure ASGI (server-sent event streams pass untouched): every ``/api`` request but login
    and logout needs a bearer token or a session cookie; the identity goes in the scope."""

    def __init__(self, app: ASGIApp, auth: Authenticator, failures: FailedChecks) -> None:
        self.app, self.auth, self.failures = app, auth, failures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api(scope["path"]) or scope["path"] in PUBLIC:
            await self.app(scope, receive, send)
            return
        try:
            who = self._identify(scope)
        except ApiError as exc:
            await error_response(exc.status, exc.error, exc.hint, headers=exc.headers)(
                scope, receive, send)
            return
        if who is None:
            await error_response(401, "not logged in", HOW,
                                 headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        scope[SCOPE_KEY] = who
        await self.app(scope, receive, send)

    def _identify(self, scope: Scope) -> Identity | None:
        headers = Headers(scope=scope)
        authorization = headers.get("authorization")
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            client = client_address(scope)
            wait = self.failures.retry_after(client)
            if wait is not None:
                raise too_many_failures(wait)
            who = self.auth.by_token(token.strip())
            if who is None:
                self.failures.failed(client)
            return who
        cookie = cookie_parser(headers.get("cookie", "")).get(COOKIE)
        return self.auth.by_cookie(cookie) if cookie else None


def identity(request: Request,
             _: HTTPAuthorizationCredentials | None = Security(BEARER)) -> Identity:
    """The request's identity (set by ``Authenticate``); the bearer scheme shows in OpenAPI."""
    who = request.scope.get(SCOPE_KEY)
    if not isinstance(who, Identity):
        raise ApiError(401, "not logged in", HOW, headers={"WWW-Authenticate": "Bearer"})
    return who
