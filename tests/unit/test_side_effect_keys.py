"""Side effects keyed by their step: a retry of the same step (a crash after the effect and
before the activity completed) does not repeat the effect; another run does it again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from activities import default_registry
from activities.execution import ToolRuntime, execute_call, tool_runtime
from planner.contracts.plan_run import ToolCall
from planner.settings import Settings

pytestmark = pytest.mark.unit


@pytest.fixture
def runtime(tmp_path: Path) -> ToolRuntime:
    return tool_runtime(Settings(data_dir=tmp_path), default_registry())


def notes(runtime: ToolRuntime) -> list[dict[str, object]]:
    path = Path(runtime.context.data_dir) / "notes.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


async def append(runtime: ToolRuntime, run_key: str | None, step: str = "s") -> int:
    call = ToolCall(step_id=step, tool="notes_append", args={"text": "buy milk"})
    result = await execute_call(runtime, call, 1, run_key=run_key)
    return int(result.output["count"])


async def test_a_retried_step_appends_its_note_once(runtime: ToolRuntime) -> None:
    assert await append(runtime, "goal-1/run-1") == 1
    assert await append(runtime, "goal-1/run-1") == 1  # the retry after a crash: no second note
    assert [n["key"] for n in notes(runtime)] == ["goal-1/run-1/s"]
    assert await append(runtime, "goal-1/run-1", step="t") == 2  # another step
    assert await append(runtime, "goal-1/run-2") == 3  # another run of the same goal
    assert await append(runtime, None) == 4  # outside a run: no key, always appends
    assert await append(runtime, None) == 5


async def test_concurrent_attempts_of_one_step_append_once(runtime: ToolRuntime) -> None:
    counts = await asyncio.gather(*(append(runtime, "goal-9/run-1") for _ in range(8)))
    assert counts == [1] * 8 and len(notes(runtime)) == 1
