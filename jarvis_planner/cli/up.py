"""`jarvis up`: the embedded Temporal dev server (SQLite in the data dir) and a worker."""

from __future__ import annotations

import typer


def up(
    worker: bool = typer.Option(True, help="Also start a worker process."),
    timeout_s: float = typer.Option(60.0, help="How long to wait for the server and worker."),
    restart: bool = typer.Option(False, "--restart",
                                 help="Restart the worker so it reads the settings again "
                                      "(`jarvis config set`, JARVIS_* variables); the server "
                                      "and every goal keep running."),
) -> None:
    """Start the embedded Temporal dev server (SQLite in the data dir, UI on 8233) and a worker."""
    from agents.devserver import DevServerError, port_open, split_address, start_dev_server
    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.embedded import (
        LOCAL_HOSTS,
        pid_file,
        read_pid,
        start_worker,
        stop_worker,
    )
    from jarvis_planner.cli.errors import CliError
    from planner.settings import load_settings

    settings = load_settings()
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    host, port = split_address(settings.temporal_address)
    server_pid = read_pid(pid_file(settings, "temporal"))
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
        pid_file(settings, "temporal").write_text(str(proc.pid))
        console.print(f"[green]Temporal dev server[/] pid {proc.pid}, "
                      f"database {settings.temporal_db}, log {log}")
        console.print(f"Temporal UI: http://localhost:{settings.temporal_ui_port}")
    if worker:
        if restart:
            stop_worker(settings)
        start_worker(settings, timeout_s)
