"""Rendering schedules: the list and one schedule with its next and recent runs."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from agents.schedules import ScheduleView
from jarvis_planner.cli.console import plural
from jarvis_planner.cli.goal_view import plan_tree, usd
from jarvis_planner.cli.rows import Column, Rows

STAGE_STYLE = {"succeeded": "green", "failed": "red", "invalid": "red", "timed_out": "red",
               "awaiting_approval": "yellow", "rejected": "yellow", "expired": "yellow"}


NO_RUN = "no run yet"


def state_of(view: ScheduleView) -> str:
    return "paused" if view.paused else "active"


def schedules_table(views: list[ScheduleView]) -> Rows:
    rows = Rows(plural(len(views), "schedule"), (
        Column("id", no_wrap=True), Column("when"), Column("state"),
        Column("next run", fact=lambda when: f"next {when}"),
        Column("last outcome", fact=lambda last: last if last == NO_RUN else f"last run {last}"),
        Column("goal")))
    for v in views:
        last = v.last_outcome
        rows.add(v.id, v.when, state_of(v), v.next_runs[0] if v.next_runs else "",
                 Text(last or NO_RUN, style=STAGE_STYLE.get(last, "dim")), v.goal)
    return rows


def _seconds(value: float | None) -> str:
    return f"{value:g}s" if value is not None else "server default"


def schedule_view(v: ScheduleView) -> RenderableType:
    jitter = _seconds(v.jitter_s) if v.jitter_s else "none"
    deadline = _seconds(v.deadline_s) if v.deadline_s else "none"
    lines = [
        Text.assemble((v.id, "bold"), "  ", (state_of(v), "yellow" if v.paused else "green"),
                      (f"  note: {v.note}" if v.note else "", "dim")),
        Text(f"goal: {v.goal}"),
        Text(f"runs: {v.when}; overlap {v.overlap}; catch-up window "
             f"{_seconds(v.catchup_window_s)}; jitter {jitter}; deadline per goal {deadline}"),
        Text(f"approved by {v.approved_by} at {v.approved_at}; plan version "
             f"{v.plan_digest[:12]} (from {v.source}); task queue {v.task_queue}", style="dim"),
        Text(f"{plural(v.actions, 'run')} started; {v.skipped_overlap} skipped (overlap), "
             f"{v.missed_catchup} missed (catch-up window)", style="dim"),
        Text("next runs: " + (", ".join(v.next_runs) if v.next_runs and not v.paused
                              else "none (paused)" if v.paused else "none")),
    ]
    parts: list[RenderableType] = list(lines)
    if v.recent:
        table = Table(title=f"recent runs (oldest first; LLM cost {usd(v.cost_usd)})",
                      title_justify="left")
        for col in ("goal id", "scheduled", "stage", "cost"):
            table.add_column(col, no_wrap=col == "goal id")
        for run in v.recent:
            table.add_row(run.goal_id, run.scheduled_at,
                          Text(run.stage, style=STAGE_STYLE.get(run.stage, "")),
                          usd(run.cost_usd) if run.cost_usd is not None else "")
        parts.append(table)
    else:
        parts.append(Text("no run yet (`jarvis schedule trigger ID` starts one now)",
                          style="dim"))
    if v.plan is not None:
        parts.append(plan_tree(v.plan))
    return Group(*parts)
