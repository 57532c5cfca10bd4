"""`jarvis bench`: the engine benchmarks of ``evals/bench`` (see docs/performance.md), and
`jarvis bench chaos`, the fault and load suite of ``evals/chaos`` (docs/reliability.md); added to
the CLI by the ``jarvis.commands`` entry point."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from jarvis_planner.cli.errors import CliError

bench = typer.Typer(invoke_without_command=True, no_args_is_help=False,
                    help="Engine benchmarks (no subcommand) and the chaos suite.")


@bench.callback()
def engines(
    ctx: typer.Context,
    size: Annotated[str, typer.Option(help="smoke (seconds, what CI runs) or full.")] = "full",
    out: Annotated[Path, typer.Option(help="Folder for the JSON and Markdown reports.")] = Path(
        "eval-reports"),
    baseline: Annotated[bool, typer.Option(
        help="Also run with every lever off: before/after from one run.")] = False,
    ablate: Annotated[bool, typer.Option(
        help="Also run the tuned configuration minus one lever at a time.")] = False,
    explore: Annotated[bool, typer.Option(
        help="Also run levers that were tried and not adopted.")] = False,
    kill_check: Annotated[bool, typer.Option(
        help="SIGKILL the dev server after acknowledged runs and count what survived.")] = False,
    rounds: Annotated[int, typer.Option(
        help="Run every configuration this many times and report medians.")] = 1,
    only: Annotated[str | None, typer.Option(
        help="Comma-separated subset: overhead,parallelism,throughput,planning.")] = None,
) -> None:
    """Measure the engines against an embedded dev server this command starts (free port,
    temporary SQLite file): per-step overhead, fan-out parallelism, throughput, planning."""
    if ctx.invoked_subcommand is not None:
        return
    from evals.bench import parse_args, run
    from jarvis_planner.cli.console import console

    argv = ["--size", size, "--out", str(out)]
    argv += ["--baseline"] * baseline + ["--ablate"] * ablate + ["--explore"] * explore
    argv += ["--kill-check"] * kill_check + ["--rounds", str(rounds)]
    argv += ["--only", only] if only else []
    try:
        options = parse_args(argv)
    except SystemExit as exc:
        raise CliError(f"invalid options: {' '.join(argv)}",
                       "sizes are smoke and full; see `jarvis bench --help`", code=2) from exc
    report = asyncio.run(run(options))
    for path in report.write(options.out):
        console.print(f"wrote {path}")



@bench.command()
def chaos(
    size: Annotated[str, typer.Option(help="small (what CI runs) or large.")] = "small",
    seed: Annotated[int, typer.Option(help="Seed of the fault schedule.")] = 7,
    out: Annotated[Path, typer.Option(help="Folder for chaos.json and chaos.md.")] = Path(
        "eval-reports"),
) -> None:
    """Goals and plan runs through worker and server SIGKILLs, failing tools and a failing LLM,
    then a web API load test: started / completed / failed / lost / side effects repeated."""
    from evals.chaos.__main__ import main, parse_args

    code = asyncio.run(main(parse_args(["--size", size, "--seed", str(seed),
                                        "--out", str(out)])))
    if code:
        raise typer.Exit(code)
