"""Security headers and cross-site protection, as pure ASGI middleware (server-sent event
streams pass untouched): only the host names the app serves (a page of another name that
resolves to this address, DNS rebinding, is refused); a strict same-origin CSP on every
response; writes only as JSON from the page's own origin."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jarvis_planner.web.error_mapping import error_response

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
# One policy for every response, /docs included: Swagger UI is served from this app with no
# inline script (docs.py), so the API docs need nothing from another origin either.
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
EVERY_INTERFACE = {"", "0.0.0.0", "::", "[::]"}


def host_name(host: str) -> str:
    """The host part of a Host header or a configured name, lower case, without the port or a
    final dot; IPv6 addresses keep their brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[:end + 1] if end > 0 else host
    if host.count(":") > 1:  # a bare IPv6 address (a configured name, not a Host header)
        return f"[{host}]"
    return host.partition(":")[0].rstrip(".")


def allowed_hosts(names: Iterable[str], bind_host: str | None = None) -> frozenset[str]:
    """The names the app answers to: the configured ones plus the address it listens on
    (unless that is every interface)."""
    hosts = {host_name(name) for name in names}
    if bind_host is not None and bind_host.strip() not in EVERY_INTERFACE:
        hosts.add(host_name(bind_host))
    return frozenset(hosts - {""})


class Guard:
    """Refuses requests for host names not served here; adds CSP and friends to every
    response; refuses cross-site or non-JSON API writes."""

    def __init__(self, app: ASGIApp, allowed_hosts: Collection[str]) -> None:
        self.app = app
        self.allowed_hosts = frozenset(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._misdirected(scope)
        if refusal is None and scope["method"] in UNSAFE_METHODS:
            refusal = self._refusal(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
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

    def _misdirected(self, scope: Scope) -> JSONResponse | None:
        header = Headers(scope=scope).get("host", "")
        host = host_name(header)
        if host in self.allowed_hosts:
            return None
        shown = host[:100] or "(none)"
        example = shown if host else "jarvis.example.com"
        return error_response(
            421, f"this server does not answer to the host name {shown}",
            "add it to JARVIS_WEB_ALLOWED_HOSTS if it should (a JSON list that replaces the "
            f"default localhost, 127.0.0.1 and [::1]), e.g. JARVIS_WEB_ALLOWED_HOSTS="
            f"'[\"localhost\", \"{example}\"]'")

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


