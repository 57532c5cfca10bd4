"""Real worker processes for durability tests."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from agents.client import JarvisClient
from agents.devserver import free_port, start_dev_server, stop_process
from planner.settings import Settings


def worker_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "JARVIS_DATA_DIR": str(settings.data_dir),
            "JARVIS_TEMPORAL_ADDRESS": settings.temporal_address,
            "JARVIS_TASK_QUEUE": settings.task_queue, "JARVIS_CONNECT_TIMEOUT_S": "30",
            "JARVIS_EGRESS_ALLOW": json.dumps(settings.egress_allow),
            "JARVIS_TOOL_QUEUES": json.dumps(settings.tool_queues)}


def start_worker_process(settings: Settings, log: Path, args: Sequence[str] = (), *,
                         env: Mapping[str, str] | None = None,
                         prefix: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """`jarvis worker ARGS` in a child process (``prefix``: a command to run it under, e.g.
    ``ip netns exec NAME``; ``env``: more environment)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        return subprocess.Popen([*prefix, sys.executable, "-m", "jarvis_planner.cli", "worker",
                                 *args],
                                env={**worker_env(settings), **(env or {})}, stdout=fh,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def stop_workers(*procs: subprocess.Popen[bytes] | None) -> None:
    """Terminate the worker processes still running (None: never started)."""
    for proc in procs:
        if proc and proc.poll() is None:
            proc.terminate()
            proc.wait(15)


async def wait_for_pollers(engine: JarvisClient, proc: subprocess.Popen[bytes],
                           timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"worker exited with {proc.returncode}"
        if await engine.has_pollers():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("worker never polled")


async def wait_until(predicate: object, timeout_s: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = predicate()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def private_dev_server(factory: pytest.TempPathFactory, name: str = "temporal"
                       ) -> Iterator[str]:
    """A Temporal dev server of one's own on a free port (for the session, or for a module
    whose tests list every goal on the server); yields its address."""
    folder = factory.mktemp(name)
    port = free_port()
    proc = start_dev_server(folder / "temporal.sqlite", port, log_file=folder / "server.log")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(proc)
