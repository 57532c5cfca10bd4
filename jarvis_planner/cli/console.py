"""Rich rendering shared by the CLI commands."""

from __future__ import annotations

import json
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from planner.contracts.plan_run import RunState
from planner.scheduler import StepStatus
from planner.validation import Problem

console = Console()
err_console = Console(stderr=True)

STATUS_STYLE = {
    StepStatus.PENDING: "dim",
    StepStatus.RUNNING: "yellow",
    StepStatus.SUCCEEDED: "green",
    StepStatus.FAILED: "bold red",
    StepStatus.SKIPPED: "cyan",
    StepStatus.BLOCKED: "red",
    StepStatus.CANCELLED: "magenta",
}


def steps_table(state: RunState, title: str | None = None) -> Table:
    table = Table(title=title or f"{state.goal} [{state.status}]", title_justify="left")
    for col in ("step", "tool", "status", "attempts", "time", "detail"):
        table.add_column(col)
    now = time.time()
    for st in state.steps:
        took = ""
        if st.started_at:
            took = f"{(st.finished_at or now) - st.started_at:.2f}s"
        detail = st.error.message if st.error else _preview(st.output)
        table.add_row(st.id, st.tool, f"[{STATUS_STYLE[st.status]}]{st.status.value}[/]",
                      str(st.attempts or ""), took, detail)
    return table


def _preview(value: Any, limit: int = 60) -> str:
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_problems(problems: list[Problem]) -> None:
    err_console.print(f"[bold red]plan is invalid[/] ({len(problems)} problem(s)):")
    for p in problems:
        where = " ".join(x for x in (p.step_id and f"step {p.step_id}", p.location) if x)
        err_console.print(f"  [red]{p.code}[/] [bold]{where}[/]: {p.message}", highlight=False)


def print_json(value: Any) -> None:
    console.print_json(json.dumps(value, ensure_ascii=False, default=str))
