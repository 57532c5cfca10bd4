"""Serving the app with uvicorn (signal handling left to the host when asked)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI


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
