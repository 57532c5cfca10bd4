"""`jarvis mcp` over stdio (a local process: no token) or streamable HTTP at ``/mcp``.

Over HTTP every request needs ``Authorization: Bearer <token>``: the web app's admin token
(``JARVIS_WEB_TOKEN`` or ``<data dir>/web-token``) or an admin's (`jarvis users add NAME
--admin`); other users' tokens are refused, since the tools act on every goal (the web app
shows a user only their own). The SDK's
transport security refuses a Host header not among ``JARVIS_WEB_ALLOWED_HOSTS`` (plus the bind
address), DNS rebinding, and an Origin header of another site (a page in a browser), CSRF."""

from __future__ import annotations

import getpass
import hmac
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from jarvis_planner.web.tokens import ADMIN, UserStore, admin_token
from planner.settings import Settings

USER_KEY = "jarvis.mcp_user"  # the ASGI scope key the token check leaves for the tools
MAX_BODY_BYTES = 256 * 1024  # a goal is at most 4,000 characters: no request needs more


def local_user() -> str:
    try:
        return f"mcp:{getpass.getuser()}"
    except OSError:
        return "mcp"


def stdio_identity(ctx: Context[Any, Any]) -> str:
    return local_user()


def http_identity(ctx: Context[Any, Any]) -> str:
    request = ctx.request_context.request
    if isinstance(request, Request):
        name = request.scope.get(USER_KEY)
        if isinstance(name, str):
            return f"mcp:{name}"
    return "mcp"


def transport_security(settings: Settings, host: str) -> TransportSecuritySettings:
    """Host names this server answers to (with any port) and the origins of those names."""
    from jarvis_planner.web.security import allowed_hosts

    names = sorted(allowed_hosts(settings.web_allowed_hosts, host))
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[h for name in names for h in (name, f"{name}:*")],
        allowed_origins=[o for name in names for scheme in ("http", "https")
                         for o in (f"{scheme}://{name}", f"{scheme}://{name}:*")])


class BearerToken:
    """Refuses HTTP requests without the admin token or an admin user's token (401)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.admin = admin_token(settings).token
        self.users = UserStore.of(settings)

    def _who(self, scope: Scope) -> str | None:
        header = Headers(scope=scope).get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if hmac.compare_digest(token.encode(), self.admin.encode()):
            return ADMIN
        user = self.users.find(token)  # admins only: the tools act on every goal, unlike
        return user.name if user is not None and user.admin else None  # the web app's users

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        who = self._who(scope)
        if who is None:
            response = JSONResponse(
                {"error": "this MCP server needs `Authorization: Bearer <token>`: the web "
                          "token (JARVIS_WEB_TOKEN or <data dir>/web-token) or an admin's "
                          "(`jarvis users add NAME --admin`)"},
                status_code=401, headers={"WWW-Authenticate": 'Bearer realm="jarvis"'})
            await response(scope, receive, send)
            return
        scope[USER_KEY] = who
        await self.app(scope, receive, send)


def http_app(server: MCPServer, settings: Settings, host: str) -> ASGIApp:
    app = server.streamable_http_app(transport_security=transport_security(settings, host),
                                     max_request_body_size=MAX_BODY_BYTES, host=host)
    return BearerToken(app, settings)
