"""The ``jarvis`` command line."""

from __future__ import annotations

import logging
import os
import sys
import traceback

import typer

from jarvis_planner.cli import (
    bench,
    catalog,
    chat,
    evals,
    goals,
    runs,
    serve,
    server,
    templates,
    timeline,
)
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.render import err_console

app = typer.Typer(
    help="JARVIS Planner: validated plans run as durable Temporal workflows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
server.register(app)
runs.register(app)
catalog.register(app)
goals.register(app)
templates.register(app)
chat.register(app)
timeline.register(app)
evals.register(app)
serve.register(app)
bench.register(app)


def main() -> None:
    """Entry point: one readable line plus a hint on errors; --verbose for the traceback."""
    verbose = "--verbose" in sys.argv or os.environ.get("JARVIS_VERBOSE") == "1"
    if "--verbose" in sys.argv:
        sys.argv.remove("--verbose")
    # An in-process worker logs each failed activity attempt with a traceback; the CLI shows
    # the outcome itself (`jarvis worker` turns these logs back on).
    logging.getLogger("temporalio").setLevel(logging.INFO if verbose else logging.ERROR)
    code = 0
    try:
        app()  # standalone mode: typer prints usage errors and exits with their code
    except CliError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err_console.print(f"[dim]hint: {exc.hint}[/]", highlight=False)
        code = exc.code
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        code = 130
    except typer.Exit as exc:
        code = exc.exit_code
    except SystemExit as exc:
        code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except Exception as exc:  # the last resort: never a bare traceback unless asked
        if verbose:
            traceback.print_exc()
        err_console.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}", highlight=False)
        err_console.print("[dim]hint: run again with --verbose for the traceback[/]")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: the Temporal SDK's Rust threads can abort the process at exit
    # (sdk-python #300) after all work is done, which would turn success into a crash code.
    os._exit(code)


if __name__ == "__main__":
    main()
