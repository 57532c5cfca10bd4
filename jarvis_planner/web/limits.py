"""Back-pressure, as pure ASGI middleware: at most ``max_requests`` API requests and
``max_streams`` event streams in flight; beyond that a request is refused at once with 429 and
``Retry-After: 1`` instead of queueing until the server falls over. A stream counts for as long
as it stays open."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from jarvis_planner.web.auth import is_api
from jarvis_planner.web.error_mapping import error_response

STREAM = re.compile(r"^/api/goals/[^/]+/events$")
MAX_REQUESTS = 64
MAX_STREAMS = 32


@dataclass
class InFlight:
    requests: int = 0
    streams: int = 0


class BackPressure:
    def __init__(self, app: ASGIApp, *, max_requests: int = MAX_REQUESTS,
                 max_streams: int = MAX_STREAMS, in_flight: InFlight | None = None) -> None:
        self.app, self.max_requests, self.max_streams = app, max_requests, max_streams
        self.in_flight = in_flight or InFlight()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api(scope["path"]):
            await self.app(scope, receive, send)
            return
        now = self.in_flight
        stream = bool(STREAM.match(scope["path"]))
        kind, limit, what = (("streams", self.max_streams, "event streams are open") if stream
                             else ("requests", self.max_requests, "requests are in flight"))
        count = getattr(now, kind)
        if count >= limit:
            await self._refuse(f"{count} {what} (at most {limit})", scope, receive, send)
            return
        setattr(now, kind, count + 1)
        try:
            await self.app(scope, receive, send)
        finally:
            setattr(now, kind, getattr(now, kind) - 1)

    @staticmethod
    async def _refuse(why: str, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(429, f"the server is busy: {why}", "retry in a second",
                             headers={"Retry-After": "1"})(scope, receive, send)
