"""A small, real HTTP server for tests: ``ThreadingHTTPServer`` on 127.0.0.1:<free port>
(or another loopback address: ``LocalHTTPServer("127.0.0.2")``, ``LocalHTTPServer("::1")``).

Usage::

    with LocalHTTPServer() as server:
        server.json("/data", {"a": 1})
        server.html("/page", "<html><title>T</title><body>hi</body></html>")
        server.flaky("/flaky", failures=2)          # 503, 503, then 200 {"ok": true}
        sink = server.sink("/hook")                 # records POST bodies, answers 204
        server.echo("/echo")                        # answers with what it received
        server.route("/custom", lambda req: Response.text("x", status=418), methods=("GET",))
        url = server.url("/data")

or, in pytest, import the ``http_server`` fixture into a test module (or a conftest):
``from tests.http_fixtures import http_server``. Every request is recorded in ``server.requests``.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
FIXED_DATE = "Thu, 01 Jan 2026 00:00:00 GMT"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None
             ) -> Response:
        return cls(status, json.dumps(data).encode(),
                   {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8"
             ) -> Response:
        return cls(status, text.encode(), {"Content-Type": content_type})

    @classmethod
    def html(cls, html: str, status: int = 200) -> Response:
        return cls.text(html, status, "text/html; charset=utf-8")


Handler = Callable[[Request], Response]


@dataclass
class Flaky:
    """Fails ``failures`` times with ``status``, then answers ``then``; counts the calls."""

    failures: int
    status: int = 503
    then: Response = field(default_factory=lambda: Response.json({"ok": True}))
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self.calls += 1
            failing = self.calls <= self.failures
        if failing:
            return Response.json({"error": "unavailable", "call": self.calls}, self.status)
        return self.then


@dataclass
class Sink:
    """A webhook sink: records every request it receives and answers ``status``."""

    status: int = 204
    received: list[Request] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        self.received.append(request)
        return Response(self.status)

    def bodies(self) -> list[Any]:
        return [r.json() for r in self.received]


def echo(request: Request) -> Response:
    """Answer with the request itself (method, path, query, headers, text and parsed JSON)."""
    try:
        parsed = request.json()
    except ValueError:
        parsed = None
    return Response.json({"method": request.method, "path": request.path,
                          "query": request.query, "headers": request.headers,
                          "text": request.text, "json": parsed})


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class LocalHTTPServer:
    """``host``: the loopback address to listen on (127.0.0.1, another 127.x.y.z, or ::1);
    ``port``: 0 for a free one."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._port = port
        self._routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- routes -------------------------------------------------------------------------------

    def route(self, path: str, handler: Handler, methods: Iterable[str] = ("GET",)) -> Handler:
        for method in methods:
            self._routes[(method.upper(), path)] = handler
        return handler

    def json(self, path: str, data: Any, status: int = 200,
             methods: Iterable[str] = ("GET",)) -> None:
        response = Response.json(data, status)
        self.route(path, lambda _req: response, methods)

    def html(self, path: str, html: str, status: int = 200) -> None:
        response = Response.html(html, status)
        self.route(path, lambda _req: response)

    def text(self, path: str, text: str, status: int = 200) -> None:
        response = Response.text(text, status)
        self.route(path, lambda _req: response)

    def status(self, path: str, status: int, methods: Iterable[str] = ALL_METHODS) -> None:
        """A route that always answers ``status`` with a small JSON error body."""
        self.json(path, {"error": status}, status, methods)

    def flaky(self, path: str, failures: int, status: int = 503, then: Response | None = None,
              methods: Iterable[str] = ("GET",)) -> Flaky:
        handler = Flaky(failures, status, then or Response.json({"ok": True}))
        self.route(path, handler, methods)
        return handler

    def sink(self, path: str, status: int = 204, methods: Iterable[str] = ("POST",)) -> Sink:
        handler = Sink(status)
        self.route(path, handler, methods)
        return handler

    def echo(self, path: str, methods: Iterable[str] = ALL_METHODS) -> None:
        self.route(path, echo, methods)

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def start(self) -> LocalHTTPServer:
        server_class = _IPv6Server if ":" in self.host else ThreadingHTTPServer
        self._server = server_class((self.host, self._port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name=f"http-fixture-{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
        handler = self._routes.get((request.method, request.path))
        if handler is None:
            known = any(path == request.path for _, path in self._routes)
            return Response.json({"error": "method not allowed" if known else "not found"},
                                 405 if known else 404)
        try:
            return handler(request)
        except Exception as exc:  # a broken handler is a 500, visible in the test
            return Response.json({"error": f"{type(exc).__name__}: {exc}"}, 500)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                response = server._dispatch(request)
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def date_time_string(self, timestamp: float | None = None) -> str:
                # a fixed Date header: the same route answers the same bytes every time, so
                # content-addressed outputs can be compared across requests
                return FIXED_DATE

        return _Handler


@pytest.fixture
def http_server() -> Iterator[LocalHTTPServer]:
    """A started LocalHTTPServer, stopped after the test."""
    with LocalHTTPServer() as server:
        yield server
