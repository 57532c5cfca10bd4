"""A strict, scripted OpenAI-compatible HTTP server for tests (yours and ours), and a guard
against real providers.

A real ``ThreadingHTTPServer`` on 127.0.0.1:<free port> that the real ``openai`` client talks to::

    def test_plan(scripted_llm: ScriptedLLM) -> None:
        scripted_llm.expect(reply_json({"steps": []}), expects_response_format="json_schema")
        scripted_llm.expect(reply_error(429, headers={"retry-after": "1"}))
        config = scripted_llm.llm_config()          # or scripted_llm.settings_env()

``POST /v1/chat/completions`` answers the script in order. A chat call that arrives when the script
is exhausted, or that fails its step's matchers, gets HTTP 500 with an explanation and is recorded
as a violation (the step stays unconsumed); ``assert_done()`` raises listing violations and
unconsumed steps, and the ``scripted_llm`` fixture calls it at teardown. ``POST /v1/embeddings``
answers scripted vectors (``expect_embeddings``) or else deterministic ones. Any other request is
a violation too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import struct
import threading
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from activities.llm import LLMConfig
from jarvis_planner.testing.replies import Reply, Step, message_text, step

# Refuses connections: an accidental real-provider call fails fast and loudly.
UNROUTABLE_BASE_URL = "http://127.0.0.1:9/v1"
_PROVIDER_ENV = ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
                 "OPENAI_CUSTOM_HEADERS")


# --- embeddings ----------------------------------------------------------------------------------

def deterministic_embedding(text: str, dim: int = 8) -> list[float]:
    """A unit vector derived from sha256(text): equal texts, equal vectors."""
    raw = b"".join(hashlib.sha256(f"{i}:{text}".encode()).digest() for i in range(dim // 8 + 1))
    values = [(b - 127.5) / 127.5 for b in raw[:dim]]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def _encode_vector(vector: list[float], encoding: str | None) -> Any:
    if encoding != "base64":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


# --- the server ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class ScriptedLLM:
    def __init__(self, script: list[Step] | None = None, *, model: str = "scripted-model",
                 embedding_dim: int = 8) -> None:
        self.model = model
        self.embedding_dim = embedding_dim
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.consumed: list[Step] = []
        self._steps: list[Step] = list(script or [])
        self._embeddings: list[list[list[float]]] = []
        self._held: list[tuple[float, threading.Event]] = []  # delays of the next embeddings
        self._calls = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- script ---------------------------------------------------------------------------------

    def add(self, *steps: Step) -> ScriptedLLM:
        with self._lock:
            self._steps.extend(steps)
        return self

    def expect(self, reply: Reply, **matchers: Any) -> ScriptedLLM:
        """Append one expected chat call; keyword arguments as for :func:`step`."""
        return self.add(step(reply, **matchers))

    def expect_embeddings(self, vectors: list[list[float]]) -> ScriptedLLM:
        """The next embeddings call answers these vectors (one per input)."""
        with self._lock:
            self._embeddings.append(vectors)
        return self

    def hold_embeddings(self, seconds: float) -> threading.Event:
        """The next embeddings call is answered (as usual) only after ``seconds``: e.g. to kill
        a worker while the call is in flight. The returned event is set when that call
        arrives."""
        arrived = threading.Event()
        with self._lock:
            self._held.append((seconds, arrived))
        return arrived

    @property
    def calls(self) -> int:
        """Chat-completion calls received (including refused ones)."""
        return self._calls

    @property
    def remaining(self) -> list[Step]:
        return list(self._steps)

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.requests if r.path.endswith("/chat/completions")]

    def problems(self) -> list[str]:
        with self._lock:
            return [*(f"violation: {v}" for v in self.violations),
                    *(f"unconsumed: {s.describe()}" for s in self._steps),
                    *(f"unconsumed: embeddings reply #{i + 1}"
                      for i, _ in enumerate(self._embeddings))]

    def assert_done(self) -> None:
        problems = self.problems()
        if problems:
            raise AssertionError("scripted LLM: " + "\n  ".join(["script not honoured:",
                                                                   *problems]))

    # --- configuration for the code under test -------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the scripted LLM server is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def settings_env(self, **extra: str) -> dict[str, str]:
        """``JARVIS_LLM_*`` variables pointing at this server (``extra``: more, e.g.
        ``JARVIS_LLM_STRUCTURED_MODE="tools"``)."""
        return {"JARVIS_LLM_BASE_URL": self.base_url, "JARVIS_LLM_API_KEY": "scripted-key",
                "JARVIS_LLM_MODEL": self.model, "JARVIS_LLM_TIMEOUT_S": "10", **extra}

    def llm_config(self, **overrides: Any) -> LLMConfig:
        values: dict[str, Any] = {"base_url": self.base_url, "api_key": "scripted-key",
                                  "model": self.model, "timeout_s": 10.0}
        return LLMConfig(**{**values, **overrides})

    # --- serving --------------------------------------------------------------------------------

    def _serve(self, request: RecordedRequest) -> tuple[int, Any, Mapping[str, str], float]:
        with self._lock:
            self.requests.append(request)
            if request.method == "POST" and request.path == "/v1/chat/completions":
                return self._chat(request)
            if request.method == "POST" and request.path == "/v1/embeddings":
                return self._embed(request)
            return self._refuse(f"unexpected request {request.method} {request.path}", 404)

    def _chat(self, request: RecordedRequest) -> tuple[int, Any, Mapping[str, str], float]:
        self._calls += 1
        try:
            payload = request.json()
        except ValueError:
            return self._refuse(f"chat call #{self._calls}: body is not JSON")
        summary = _summary(payload)
        if not self._steps:
            return self._refuse(f"unexpected chat call #{self._calls} (script exhausted after "
                                f"{len(self.consumed)} step(s)): {summary}")
        failed = self._steps[0].mismatches(payload)
        if failed:
            return self._refuse(f"chat call #{self._calls} does not match "
                                f"{self._steps[0].describe()}: failed {failed}; got {summary}")
        current = self._steps.pop(0)
        self.consumed.append(current)
        status, body = current.reply.render(payload)
        return status, body, current.reply.headers, current.reply.delay_s

    def _embed(self, request: RecordedRequest) -> tuple[int, Any, Mapping[str, str], float]:
        try:
            payload = request.json()
            raw = payload.get("input")
        except (ValueError, AttributeError):
            return self._refuse(f"embeddings call: body is not a JSON object: {request.body!r}")
        inputs = [raw] if isinstance(raw, str) or (raw and isinstance(raw[0], int)) else raw
        if not inputs:
            return self._refuse(f"embeddings call without input: {_summary(payload)}")
        texts = [t if isinstance(t, str) else json.dumps(t) for t in inputs]
        vectors = (self._embeddings.pop(0) if self._embeddings else
                   [deterministic_embedding(t, self.embedding_dim) for t in texts])
        if len(vectors) != len(texts):
            return self._refuse(f"embeddings call has {len(texts)} input(s), "
                                f"the script has {len(vectors)} vector(s)")
        encoding = payload.get("encoding_format")
        tokens = sum(len(t.split()) for t in texts)
        delay_s = 0.0
        if self._held:  # (the caller holds the lock)
            delay_s, arrived = self._held.pop(0)
            arrived.set()
        return 200, {"object": "list", "model": payload.get("model", self.model),
                     "data": [{"object": "embedding", "index": i,
                               "embedding": _encode_vector(v, encoding)}
                              for i, v in enumerate(vectors)],
                     "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}, {}, delay_s

    def _refuse(self, why: str, status: int = 500) -> tuple[int, Any, Mapping[str, str], float]:
        self.violations.append(why)
        return status, {"error": {"message": f"scripted LLM refused: {why}",
                                  "type": "scripted_llm_violation", "param": None,
                                  "code": None}}, {}, 0.0

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> ScriptedLLM:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="scripted-llm")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes delayed replies
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _summary(payload: Any) -> str:
    if not isinstance(payload, dict):
        return repr(payload)[:300]
    keys = sorted(k for k in payload if k not in ("messages", "model"))
    return (f"model={payload.get('model')!r}, params={keys}, "
            f"messages={message_text(payload)[:200]!r}")


def _handler_for(server: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = RecordedRequest(self.command, self.path.split("?")[0],
                                      {k.lower(): v for k, v in self.headers.items()}, body)
            status, payload, headers, delay_s = server._serve(request)
            if delay_s and server._stopping.wait(delay_s):
                return  # stopped while delaying: the client has given up anyway
            data = json.dumps(payload).encode() if payload is not None else b""
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


# --- the guard -----------------------------------------------------------------------------------

def forbid_real_llm(environ: MutableMapping[str, str] = os.environ) -> None:
    """Make an accidental real-provider call impossible: the openai client's default base URL
    becomes a local port that refuses connections, provider keys are removed, and a developer's
    ``JARVIS_LLM_*`` settings are ignored (tests configure the scripted server explicitly)."""
    environ["OPENAI_BASE_URL"] = UNROUTABLE_BASE_URL
    for name in [*_PROVIDER_ENV, *(k for k in list(environ) if k.startswith("JARVIS_LLM_"))]:
        environ.pop(name, None)
