"""Rich rendering shared by the CLI commands.

When a stream is not a terminal (a pipe, a log file, CI) nothing is redrawn: no live display,
no cursor control, no hard line breaks in messages; each line ends before the next begins.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, RenderableType
from rich.live import Live
from rich.text import Text

from jarvis_planner.cli.rows import Column, Rows
from planner.contracts.plan_run import RunState
from planner.scheduler import StepStatus
from planner.validation import Problem

console = Console()
err_console = Console(stderr=True)
for _c in (console, err_console):
    _c.soft_wrap = not _c.is_terminal  # a pipe gets whole lines, never wrapped at 80 columns

STATUS_STYLE = {
    StepStatus.PENDING: "dim",
    StepStatus.RUNNING: "yellow",
    StepStatus.SUCCEEDED: "green",
    StepStatus.FAILED: "bold red",
    StepStatus.SKIPPED: "cyan",
    StepStatus.BLOCKED: "red",
    StepStatus.CANCELLED: "magenta",
}


# What LLM errors said before they named their retry posture instead (goals recorded then):
# wrong once nothing will try again.
_WILL_RETRY = re.compile(r"[;,]?\s*the retry policy will try again", re.IGNORECASE)


def settled(message: str) -> str:
    """A final failure's message without promises of another attempt."""
    return _WILL_RETRY.sub("", message)


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 goal``, ``2 goals``."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


IN_WORKFLOW = "in the workflow"  # where a pure step ran
STEP_COLUMNS = (Column("step"), Column("tool"), Column("status"),
                Column("attempts", fact=lambda n: plural(int(n), "attempt")), Column("time"),
                Column("worker", fact=lambda w: w if w == IN_WORKFLOW else f"on {w}"),
                Column("detail"))


def steps_table(state: RunState, title: str | None = None) -> Rows:
    """The run's steps (a table where there is room for one, jarvis_planner/cli/rows.py);
    ``title`` is plain text."""
    now = time.time()
    rows = Rows(title or f"{state.goal} [{state.status}]", STEP_COLUMNS)
    for st in state.steps:
        took = ""
        if st.started_at:
            took = f"{(st.finished_at or now) - st.started_at:.2f}s"
        detail = (st.waiting if st.waiting else settled(st.error.message) if st.error
                  else _preview(st.output))
        if st.gate == "waiting":  # a person decides on these arguments before it starts
            detail = ("waits at its gate for a person (`jarvis approve|reject GOAL --step "
                      f"{st.id}`) with {_preview(st.gate_args, 200)}")
        elif st.gate_note:
            detail = f"{st.gate_note}\n{detail}".strip()
        if st.conversions:  # what the step boundary converted, e.g. a number passed as text
            detail += "".join(f"\n{note}" for note in st.conversions)
        rows.add(st.id, st.tool, Text(st.status.value, style=STATUS_STYLE[st.status]),
                 str(st.attempts or ""), took, st.worker or (IN_WORKFLOW if st.inline else ""),
                 detail)
    return rows


def step_changes(state: RunState, seen: dict[str, str]) -> str | None:
    """Progress lines for the steps whose status changed since ``seen`` (updated)."""
    lines = []
    for st in state.steps:
        if seen.get(st.id, StepStatus.PENDING.value) != st.status.value:
            lines.append(f"step {st.id}: {st.status.value}")
        seen[st.id] = st.status.value
    return "\n".join(lines) or None


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


class LiveView:
    """A display that follows something changing. On a terminal it redraws in place (rich
    Live); elsewhere it prints each progress line once and the last picture at the end, every
    line ended."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self.last: RenderableType | None = None
        self._live: Live | None = None

    def update(self, picture: RenderableType, line: str | None = None) -> None:
        """Show ``picture`` now (terminal) and ``line`` as a progress line (pipe)."""
        self.last = picture
        if self._live is not None:
            self._live.update(picture)
        elif line:
            self.out.print(line, highlight=False, markup=False)


@contextmanager
def live_view(out: Console) -> Iterator[LiveView]:
    view = LiveView(out)
    if out.is_terminal:
        with Live(console=out, refresh_per_second=8, transient=False) as live:
            view._live = live
            yield view
        return
    yield view
    if view.last is not None:
        out.print(view.last)
