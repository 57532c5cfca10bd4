"""Embedded mode: `jarvis up` / `jarvis down` (dev server + worker by pid), `jarvis worker`."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import typer

from activities import default_registry
from agents.devserver import (
    DevServerError,
    kill_pid,
    port_open,
    split_address,
    start_dev_server,
)
from agents.engine import TemporalUnreachable, connect_with_retry
from agents.temporal_engine import TemporalWorkflowEngine
from agents.worker import run_worker
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.render import console
from planner.settings import Settings, load_settings

LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1"}


def _pid_file(settings: Settings, name: str) -> Path:
    return settings.run_dir / f"{name}.pid"


def _read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def up(
    worker: bool = typer.Option(True, help="Also start a worker process."),
    timeout_s: float = typer.Option(60.0, help="How long to wait for the server and worker."),
) -> None:
    """Start the embedded Temporal dev server (SQLite in the data dir, UI on 8233) and a worker."""
    settings = load_settings()
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    host, port = split_address(settings.temporal_address)
    server_pid = _read_pid(_pid_file(settings, "temporal"))
    if server_pid:
        console.print(f"Temporal dev server already running (pid {server_pid})")
    elif port_open(host, port):
        console.print(f"a Temporal server already answers at {settings.temporal_address}; "
                      "using it")
    elif host not in LOCAL_HOSTS:
        raise CliError(f"`jarvis up` starts a local server, but JARVIS_TEMPORAL_ADDRESS is "
                       f"{settings.temporal_address}",
                       "unset it, or run only `jarvis worker` against that server")
    else:
        log = settings.run_dir / "temporal.log"
        with console.status(f"starting Temporal dev server on port {port} …"):
            try:
                proc = start_dev_server(settings.temporal_db, port, settings.temporal_ui_port,
                                        log_file=log, detach=True, ready_timeout_s=timeout_s)
            except DevServerError as exc:
                raise CliError(str(exc), f"see {log}") from exc
        _pid_file(settings, "temporal").write_text(str(proc.pid))
        console.print(f"[green]Temporal dev server[/] pid {proc.pid}, "
                      f"database {settings.temporal_db}, log {log}")
        console.print(f"Temporal UI: http://localhost:{settings.temporal_ui_port}")
    if worker:
        _start_worker(settings, timeout_s)


def _start_worker(settings: Settings, timeout_s: float) -> None:
    pid = _read_pid(_pid_file(settings, "worker"))
    if pid:
        console.print(f"worker already running (pid {pid})")
        return
    log = settings.run_dir / "worker.log"
    with open(log, "ab") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jarvis_planner.cli", "worker"], stdout=fh,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "JARVIS_DATA_DIR": str(settings.data_dir)},
        )
    _pid_file(settings, "worker").write_text(str(proc.pid))
    with console.status("waiting for the worker to poll …"):
        ok = asyncio.run(_wait_for_pollers(settings, timeout_s, proc))
    if not ok:
        raise CliError(f"the worker did not start polling within {timeout_s}s", f"see {log}")
    console.print(f"[green]worker[/] pid {proc.pid} on task queue '{settings.task_queue}', "
                  f"log {log}")


async def _wait_for_pollers(settings: Settings, timeout_s: float,
                            proc: subprocess.Popen[bytes]) -> bool:
    client = await connect_with_retry(settings)
    engine = TemporalWorkflowEngine(client, settings.task_queue)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if await engine.has_pollers():
            return True
        await asyncio.sleep(0.3)
    return False


def down() -> None:
    """Stop the worker and dev server that `jarvis up` started (by pid)."""
    settings = load_settings()
    stopped = False
    for name in ("worker", "temporal"):
        path = _pid_file(settings, name)
        pid = _read_pid(path)
        if pid and kill_pid(pid):
            console.print(f"stopped {name} (pid {pid})")
            stopped = True
        path.unlink(missing_ok=True)
    if not stopped:
        console.print("nothing to stop: `jarvis up` has no running processes in "
                      f"{settings.run_dir}")


def worker() -> None:
    """Run a worker in the foreground: the plan workflow and one activity per tool."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("temporalio").setLevel(logging.INFO)
    settings = load_settings()
    registry = default_registry()

    async def _main() -> None:
        try:
            client = await connect_with_retry(settings)
        except TemporalUnreachable as exc:
            raise CliError(str(exc), "start the server with `jarvis up --no-worker`") from exc
        console.print(f"worker: {len(registry)} tools, task queue '{settings.task_queue}', "
                      f"server {settings.temporal_address}; Ctrl-C to stop")
        await run_worker(client, settings, registry)

    asyncio.run(_main())


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(worker)
