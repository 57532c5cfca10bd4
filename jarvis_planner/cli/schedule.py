"""`jarvis schedule create|list|describe|pause|resume|trigger|backfill|delete`: recurring goals
on Temporal Schedules, reviewed once when created (docs/schedules.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from jarvis_planner.cli.options import JsonFlag

if TYPE_CHECKING:
    from agents.client import JarvisClient
    from agents.schedules import ScheduleView

T = TypeVar("T")
LIST_HINT = "`jarvis schedule list` shows the schedules"

app = typer.Typer(help="Recurring goals (Temporal Schedules): reviewed once, when created; "
                       "each run executes the approved plan with no LLM call.",
                  no_args_is_help=True)
ScheduleId = Annotated[str, typer.Argument(metavar="ID", help="A schedule id (from `jarvis "
                                                              "schedule list`).")]
OVERLAP_HELP = ("What a run due while the last one still runs does: skip, buffer_one, "
                "buffer_all, cancel_other, terminate_other, allow_all.")


def _with_client(work: Callable[[JarvisClient], Awaitable[T]]) -> T:
    """Run ``work`` with a connected client; unknown ids and bad values as one-line errors."""
    import asyncio

    from agents.schedules import ScheduleExists, ScheduleNotFound
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.session import connect_or_fail
    from planner.settings import load_settings

    async def _go() -> T:
        return await work(await connect_or_fail(load_settings()))

    try:
        return asyncio.run(_go())
    except ScheduleNotFound as exc:
        raise CliError(str(exc), LIST_HINT) from exc
    except ScheduleExists as exc:
        raise CliError(str(exc), "choose another --id, or `jarvis schedule delete ID` "
                                 "first") from exc
    except ValueError as exc:  # e.g. a cron expression or time zone the server refused
        raise CliError(str(exc), "check --cron (5 fields: minute hour day month weekday) "
                                 "and --time-zone", code=2) from exc


@app.command()
def create(
        goal: Annotated[str | None, typer.Argument(
            help="The goal, planned now (template memory or the LLM).")] = None,
        cron: Annotated[list[str] | None, typer.Option(
            help="A cron expression (UTC unless --time-zone), e.g. \"0 8 * * *\"; may be "
                 "repeated.")] = None,
        time_zone: Annotated[str | None, typer.Option(
            help="The IANA time zone of the cron expressions, e.g. Europe/Paris.")] = None,
        every: Annotated[str | None, typer.Option(help="An interval: 30s, 10m, 1h, 1d.")] = None,
        plan_file: Annotated[Path | None, typer.Option(
            "--plan", help="Schedule this plan file instead of planning a goal.")] = None,
        template: Annotated[str | None, typer.Option(
            help="Schedule the plan of this stored template (`jarvis templates list`).")] = None,
        schedule_id: Annotated[str | None, typer.Option("--id", help="The schedule's id.")] = None,
        overlap: Annotated[str, typer.Option(help=OVERLAP_HELP)] = "skip",
        catchup_window: Annotated[str | None, typer.Option(
            help="How late a missed run may still start (e.g. after an outage): 10m, 1h.")
        ] = None,
        jitter: Annotated[str | None, typer.Option(
            help="Start each run up to this much later, at random: 30s, 5m.")] = None,
        deadline: Annotated[str | None, typer.Option(
            help="Each goal's deadline (its workflow execution timeout): 30m, 2h.")] = None,
        paused: Annotated[bool, typer.Option("--paused", help="Create it paused.")] = False,
        note: Annotated[str, typer.Option(help="A note kept with the schedule.")] = "",
        yes: Annotated[bool, typer.Option(
            "--yes", "--approve", "-y",
            help="Approve the plan shown without asking (for scripts).")] = False,
        as_json: JsonFlag = False) -> None:
    """Create a schedule: plan the goal now (or take --plan / --template), show the plan, and
    ask for its approval once; every run then executes that plan with no LLM call."""
    import asyncio
    import json

    from jarvis_planner.cli import schedule_plan as sp
    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.session import user
    from planner.settings import load_settings

    if sum(x is not None for x in (goal, plan_file, template)) != 1:
        raise CliError("say what to schedule: a GOAL, or --plan FILE, or --template ID "
                       "(exactly one)", code=2)
    if not cron and every is None:
        raise CliError("say when it runs: --cron \"0 8 * * *\" and/or --every 1h", code=2)
    from agents.schedules import OVERLAPS, describe_when

    if overlap not in OVERLAPS:
        raise CliError(f"unknown overlap policy '{overlap}'", f"use one of "
                       f"{', '.join(OVERLAPS)}", code=2)
    interval = sp.duration(every, "--every") if every else None
    windows = {name: sp.duration(value, f"--{name.replace('_', '-')}") if value else None
               for name, value in (("catchup_window", catchup_window), ("jitter", jitter),
                                   ("deadline", deadline))}
    by = user()
    if plan_file is not None:
        plan, source = sp.read_plan_file(plan_file), f"file:{plan_file.name}"
    elif template is not None:
        plan, source = sp.template_plan(template), f"template:{template}"
    else:
        plan, source = asyncio.run(sp.plan_now(load_settings(), goal or "", by))
    reviewed = sp.checked(plan, source)
    when = describe_when(cron or [], interval) + (f" ({time_zone})" if time_zone and cron
                                                  else "")
    sp.approve(reviewed, when, yes, quiet_stdout=as_json)

    async def _create(jarvis: JarvisClient) -> ScheduleView:
        sid = await jarvis.create_schedule(
            reviewed.plan, approve=True, by=by, cron=cron or [], every=interval,
            schedule_id=schedule_id, overlap=overlap,  # type: ignore[arg-type]
            paused=paused, note=note, source=source, time_zone=time_zone, **windows)
        return await jarvis.describe_schedule(sid)

    view = _with_client(_create)
    from agents.schedules import goal_id_prefix

    if as_json:
        print(json.dumps(view.to_json(), indent=2))
        return
    nxt = view.next_runs[0] if view.next_runs and not view.paused else "none (paused)"
    console.print(f"schedule [bold]{view.id}[/] created, approved by {by}; next run: {nxt}; "
                  f"its goals are {goal_id_prefix(view.id)}-<time>", highlight=False)
    console.print("[dim]a worker must be running for the runs (`jarvis up`)[/]")


@app.command("list")
def list_schedules(as_json: JsonFlag = False) -> None:
    """List the schedules with their next run and the outcome of their last run."""
    import json

    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.schedule_view import schedules_table

    views = _with_client(lambda jarvis: jarvis.list_schedules())
    if as_json:
        print(json.dumps([v.to_json(with_plan=False) for v in views], indent=2))
        return
    if not views:
        console.print("no schedules (`jarvis schedule create --every 1h \"GOAL\"` makes one)")
        return
    console.print(schedules_table(views))


@app.command()
def describe(schedule_id: ScheduleId, as_json: JsonFlag = False) -> None:
    """One schedule: times, policies, who approved its plan, next runs, recent runs with the
    stage of each goal, and the plan."""
    import json

    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.schedule_view import schedule_view

    view = _with_client(lambda jarvis: jarvis.describe_schedule(schedule_id))
    if as_json:
        print(json.dumps(view.to_json(), indent=2))
        return
    console.print(schedule_view(view))


@app.command()
def pause(schedule_id: ScheduleId,
          note: Annotated[str, typer.Option(help="Why (kept with the schedule).")] = "") -> None:
    """Pause a schedule: no run starts until it is resumed (trigger still starts one)."""
    from jarvis_planner.cli.console import console

    _with_client(lambda jarvis: jarvis.pause_schedule(schedule_id, note))
    console.print(f"schedule {schedule_id} paused", highlight=False)


@app.command()
def resume(schedule_id: ScheduleId,
           note: Annotated[str, typer.Option(help="A note kept with the schedule.")] = ""
           ) -> None:
    """Resume a paused schedule."""
    from jarvis_planner.cli.console import console

    _with_client(lambda jarvis: jarvis.resume_schedule(schedule_id, note))
    console.print(f"schedule {schedule_id} resumed", highlight=False)


@app.command()
def trigger(schedule_id: ScheduleId) -> None:
    """Start a run now (the schedule's overlap policy applies)."""
    from jarvis_planner.cli.console import console

    _with_client(lambda jarvis: jarvis.trigger_schedule(schedule_id))
    console.print(f"schedule {schedule_id} triggered; `jarvis schedule describe "
                  f"{schedule_id}` shows the run", highlight=False)


@app.command()
def backfill(schedule_id: ScheduleId,
             start: Annotated[str, typer.Option(help="From (exclusive), ISO 8601; local time "
                                                     "without a zone.")],
             end: Annotated[str, typer.Option(help="Until, ISO 8601.")],
             overlap: Annotated[str, typer.Option(help=OVERLAP_HELP)] = "buffer_all") -> None:
    """Start now the runs the schedule would have started between --start and --end (one
    after the other by default)."""
    from agents.schedules import OVERLAPS
    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.schedule_plan import moment

    if overlap not in OVERLAPS:
        raise CliError(f"unknown overlap policy '{overlap}'", f"use one of "
                       f"{', '.join(OVERLAPS)}", code=2)
    begin, until = moment(start, "--start"), moment(end, "--end")
    if until <= begin:
        raise CliError("--end must come after --start", code=2)
    _with_client(lambda jarvis: jarvis.backfill_schedule(
        schedule_id, begin, until, overlap))  # type: ignore[arg-type]
    console.print(f"schedule {schedule_id} backfilled from {begin.isoformat()} to "
                  f"{until.isoformat()}", highlight=False)


@app.command()
def delete(schedule_id: ScheduleId) -> None:
    """Delete a schedule (the goals it started are kept)."""
    from jarvis_planner.cli.console import console

    _with_client(lambda jarvis: jarvis.delete_schedule(schedule_id))
    console.print(f"schedule {schedule_id} deleted", highlight=False)
