"""The ``jarvis`` command line."""

from __future__ import annotations

import io
import logging
import os
import sys
import traceback

import typer

# Each command lives in a module named after it; those modules import only typer at the top
# (the rest inside the command), so `jarvis --help` starts without the Temporal SDK, pydantic
# models, provider SDKs or the web stack.
from jarvis_planner.cli import (
    approve,
    cancel,
    chat,
    config,
    deploy,
    down,
    goal,
    mcp,
    plan,
    reject,
    result,
    retry,
    review,
    run,
    run_plan,
    schedule,
    schema,
    serve,
    status,
    templates,
    timeline,
    tools,
    up,
    users,
    validate,
    worker,
)
from jarvis_planner.cli import list as list_cmd
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.help_format import install as _plain_help

_plain_help()

app = typer.Typer(
    help="JARVIS Planner: validated plans run as durable Temporal workflows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for command in (up.up, down.down, run.run, plan.plan, review.review, approve.approve,
                reject.reject, goal.goal, list_cmd.list_, chat.chat, serve.serve,
                run_plan.run_plan, status.status, result.result, cancel.cancel,
                timeline.timeline, tools.tools, validate.validate, schema.schema,
                worker.worker, mcp.mcp, retry.retry):
    app.command(command.__name__.rstrip("_").replace("_", "-"))(command)
app.add_typer(templates.app, name="templates")
app.add_typer(users.app, name="users")
app.add_typer(config.app, name="config")
app.add_typer(schedule.app, name="schedule")
app.add_typer(deploy.app, name="deploy")


def _is_builtin(first: list[str]) -> bool:
    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    return bool(first) and first[0] in names


def _add_plugin_commands() -> None:
    """Commands other packages add through the ``jarvis.commands`` entry point (a typer app
    becomes a group, a function a command): evals adds `jarvis eval` and `jarvis bench` this
    way, so the interfaces never import the layer above them."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="jarvis.commands"):
        target = ep.load()
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=ep.name)
        else:
            app.command(ep.name)(target)



def main() -> None:
    """Entry point: one readable line plus a hint on errors; --verbose for the traceback."""
    verbose = "--verbose" in sys.argv or os.environ.get("JARVIS_VERBOSE") == "1"
    while "--verbose" in sys.argv:
        sys.argv.remove("--verbose")
    # a pipe gets each line as it is written (stdout and stderr interleave by whole lines)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    # An in-process worker logs each failed activity attempt (with a traceback) and each step;
    # the CLI shows the outcome itself (`jarvis worker` turns these logs back on).
    for name in ("temporalio", "activities"):
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.ERROR)
    code = 0
    try:
        if not _is_builtin(sys.argv[1:2]):  # `jarvis run ...` need not load evals
            _add_plugin_commands()
        app(prog_name="jarvis")  # standalone mode: typer prints usage errors, exits with code
    except CliError as exc:
        from rich.markup import escape

        from jarvis_planner.cli.console import err_console

        if verbose:
            traceback.print_exc()
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        if exc.hint:
            err_console.print(f"[dim]hint: {escape(exc.hint)}[/]", highlight=False)
        code = exc.code
    except (typer.Abort, KeyboardInterrupt):
        from jarvis_planner.cli.console import err_console

        err_console.print("aborted")
        code = 130
    except typer.Exit as exc:
        code = exc.exit_code
    except SystemExit as exc:
        code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except Exception as exc:  # the last resort: never a bare traceback unless asked
        from rich.markup import escape

        from jarvis_planner.cli.console import err_console

        if verbose:
            traceback.print_exc()
        err_console.print(f"[bold red]error:[/] {escape(f'{type(exc).__name__}: {exc}')}",
                          highlight=False)
        if not verbose:
            err_console.print("[dim]hint: run again with --verbose for the traceback[/]")
        code = 1
    if "agents.tracing" in sys.modules:  # a client was made: export the spans still buffered
        from agents.tracing import flush

        flush()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: the Temporal SDK's Rust threads can abort the process at exit
    # (sdk-python #300) after all work is done, which would turn success into a crash code.
    os._exit(code)


if __name__ == "__main__":
    main()
