"""`jarvis eval plans|convert`: benchmark evals (the same code as `python -m evals.plans` and
`python -m evals.gold`), added to the CLI by the ``jarvis.commands`` entry point."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from evals.reports import DEFAULT_OUT
from jarvis_planner.cli.errors import CliError

app = typer.Typer(help="Benchmark evals: gold records as plans, plan quality of the LLM planner.",
                  no_args_is_help=True)


@app.command()
def plans(
    dataset: Annotated[str, typer.Option(
        "--dataset", "-d", help="ultratool, tmdb, nestful, nestful-glaive, nestful-sgd, "
        "sealtools, sealtools-in-domain or sealtools-out-domain.")],
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1,
                                              help="First N requests only.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the JSON and Markdown "
                                      "reports.")] = DEFAULT_OUT,
    counting: Annotated[str, typer.Option(
        "--counting", help="multiset (default) or set (TaskBench's counting of repeated "
        "tools).")] = "multiset",
) -> None:
    """Run the LLM planner on a benchmark's requests and score the plans like TaskBench.

    The endpoint comes from JARVIS_LLM_*; without a usable one, the stored model predictions
    are scored instead, and the report says so.
    """
    from evals.datasets import DatasetNotFound
    from evals.plans import EVAL_DATASETS, render_text, run_plan_eval, write

    if dataset not in EVAL_DATASETS:
        raise CliError(f"unknown dataset '{dataset}'",
                       f"choose one of {', '.join(EVAL_DATASETS)}", code=2)
    if counting not in ("multiset", "set"):
        raise CliError(f"unknown counting '{counting}'", "use multiset or set", code=2)
    try:
        report = asyncio.run(run_plan_eval(dataset, limit,
                                           counting="set" if counting == "set" else "multiset"))
    except DatasetNotFound as exc:
        raise CliError(str(exc), "set JARVIS_DATASETS to the shared datasets folder") from exc
    typer.echo(render_text(report))
    json_path, md_path = write(report, out)
    typer.echo(f"reports: {json_path}, {md_path}")


@app.command()
def convert(
    dataset: Annotated[list[str] | None, typer.Option(
        "--dataset", "-d", help="A gold dataset (repeatable; default: all), e.g. "
        "nestful-glaive, sealtools-in-domain, ultratool, worfbench-alfworld.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for gold.json and "
                                      "gold.md.")] = DEFAULT_OUT,
) -> None:
    """Convert the benchmarks' gold records to plans and report what does not validate.

    Each dataset's tool specs become stub tools; every record not a valid plan is listed with
    its reason.
    """
    from evals import gold
    from evals.datasets import DatasetNotFound

    known = gold.gold_datasets()
    unknown = [d for d in dataset or [] if d not in known]
    if unknown:
        raise CliError(f"unknown gold dataset(s): {', '.join(unknown)}",
                       f"choose from {', '.join(known)}", code=2)
    args = [x for d in dataset or [] for x in ("--dataset", d)] + ["--out", str(out)]
    try:
        gold.main(args)
    except DatasetNotFound as exc:
        raise CliError(str(exc), "set JARVIS_DATASETS to the shared datasets folder") from exc

