"""The embedded stack that `jarvis up` starts and `jarvis down` stops: pid files in the data
dir, the dev server and a worker as detached processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from agents.client import JarvisClient
from agents.connection import connect_with_retry
from agents.devserver import free_port
from agents.metrics_endpoint import MetricsEndpoint
from jarvis_planner.cli.console import console
from jarvis_planner.cli.errors import CliError
from planner.settings import Settings

LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1"}


def pid_file(settings: Settings, name: str) -> Path:
    return settings.run_dir / f"{name}.pid"


def read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def start_worker(settings: Settings, timeout_s: float) -> None:
    pid = read_pid(pid_file(settings, "worker"))
    if pid:
        console.print(f"worker already running (pid {pid})")
        return
    log = settings.run_dir / "worker.log"
    env = {**os.environ, "JARVIS_DATA_DIR": str(settings.data_dir)}
    metrics = _metrics_endpoint(settings)
    if metrics is not None:  # port 0 chosen here, so that it can be printed
        env["JARVIS_METRICS_PORT"] = str(metrics.port)
    with open(log, "ab") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jarvis_planner.cli", "worker"], stdout=fh,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env=env,
        )
    pid_file(settings, "worker").write_text(str(proc.pid))
    with console.status("waiting for the worker to poll …"):
        ok = asyncio.run(_wait_for_pollers(settings, timeout_s, proc))
    if not ok:
        raise CliError(f"the worker did not start polling within {timeout_s}s", f"see {log}")
    console.print(f"[green]worker[/] pid {proc.pid} on task queue '{settings.task_queue}', "
                  f"log {log}")
    if metrics is not None:
        console.print(f"Metrics: {metrics.url}")


def _metrics_endpoint(settings: Settings) -> MetricsEndpoint | None:
    """Where the worker will serve /metrics (JARVIS_METRICS_PORT; 0: a free port)."""
    if settings.metrics_port is None:
        return None
    return MetricsEndpoint(settings.metrics_host, settings.metrics_port or free_port())


def stop_worker(settings: Settings) -> None:
    """Stop the worker `jarvis up` started (it finishes its running tool calls first: a goal
    in flight carries on with the next worker)."""
    from agents.devserver import kill_pid

    path = pid_file(settings, "worker")
    pid = read_pid(path)
    if pid and kill_pid(pid):
        console.print(f"stopped worker (pid {pid})")
    path.unlink(missing_ok=True)


async def _wait_for_pollers(settings: Settings, timeout_s: float,
                            proc: subprocess.Popen[bytes]) -> bool:
    jarvis = JarvisClient(await connect_with_retry(settings), settings)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if await jarvis.has_pollers():
            return True
        await asyncio.sleep(0.3)
    return False
