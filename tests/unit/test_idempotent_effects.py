"""A retry after a crash does not repeat a side effect: notes and appends, once per step.

A worker killed after the effect and before the activity completed is simulated by running the
same call again with the same ``run_key`` and step id (the same idempotency key); a worker
killed mid-append by a write that stops half-way and raises.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from activities import default_registry, effects
from activities.builtins import notes as notes_module
from activities.execution import StepFailure, ToolRuntime, execute_call, tool_runtime
from planner.contracts.plan_run import ToolCall
from planner.settings import Settings

pytestmark = [pytest.mark.unit, pytest.mark.timeout(30)]

RUN = "wf-1/run-1"


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so no handler on the way treats it as a failure."""


@pytest.fixture
def runtime(tmp_path: Path) -> ToolRuntime:
    data = tmp_path / "data"
    return tool_runtime(Settings(data_dir=data, workspace=data / "workspace", webhook_url=None),
                        default_registry(plugins=False))


@pytest.fixture
def workspace(runtime: ToolRuntime) -> Path:
    return Path(runtime.context.workspace)


def notes(runtime: ToolRuntime) -> list[dict[str, Any]]:
    path = Path(runtime.context.data_dir) / "notes.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


async def run(runtime: ToolRuntime, tool: str, args: dict[str, Any], *,
              run_key: str | None = RUN, step: str = "s", attempt: int = 1) -> Any:
    call = ToolCall(step_id=step, tool=tool, args=args)
    return (await execute_call(runtime, call, attempt, run_key=run_key)).output


APPEND = {"path": "log.txt", "text": "one line\n", "mode": "append"}


def test_side_effecting_tools_declare_idempotence_and_run_as_regular_activities() -> None:
    registry = default_registry(plugins=False)
    for name in ("notes_append", "write_file"):
        assert registry[name].idempotent is True
        assert registry[name].runs_local is False


# --- notes_append --------------------------------------------------------------------------------


async def test_note_is_not_repeated_by_a_retry_of_the_same_step(runtime: ToolRuntime) -> None:
    first = await run(runtime, "notes_append", {"text": "Buy milk"})
    again = await run(runtime, "notes_append", {"text": "Buy milk"}, attempt=2)
    assert first == again == {"count": 1}
    assert [(n["text"], n["key"]) for n in notes(runtime)] == [("Buy milk", f"{RUN}/s")]
    hits = await run(runtime, "notes_search", {"query": "milk"})
    assert hits["notes"][0] == {"text": "Buy milk", "tags": [], "created_at":
                                notes(runtime)[0]["created_at"]}  # the key stays private


async def test_note_from_another_run_or_step_or_no_run_is_appended(runtime: ToolRuntime) -> None:
    await run(runtime, "notes_append", {"text": "x"})
    assert await run(runtime, "notes_append", {"text": "x"}, run_key="wf-1/run-2") == {"count": 2}
    assert await run(runtime, "notes_append", {"text": "x"}, step="t") == {"count": 3}
    assert await run(runtime, "notes_append", {"text": "x"}, run_key=None) == {"count": 4}
    assert await run(runtime, "notes_append", {"text": "x"}, run_key=None) == {"count": 5}
    assert "key" not in notes(runtime)[-1]


async def test_concurrent_attempts_of_one_step_append_one_note(
        runtime: ToolRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two attempts at once (a retry while a stuck attempt still runs): the lock around the
    look-up and the append lets one append; the other finds its key."""
    read_at = effects.read_at

    def slow_read(fd: int, offset: int, length: int) -> bytes:
        held = read_at(fd, offset, length)
        time.sleep(0.3)  # every attempt would read the file before any appends, unlocked
        return held

    monkeypatch.setattr(notes_module, "read_at", slow_read)
    outputs = await asyncio.gather(*(run(runtime, "notes_append", {"text": "once"},
                                         attempt=n) for n in range(1, 4)))
    assert outputs == [{"count": 1}] * 3
    assert len(notes(runtime)) == 1


async def test_note_after_a_torn_line_gets_its_own_line(runtime: ToolRuntime) -> None:
    path = Path(runtime.context.data_dir) / "notes.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"text": "ok", "tags": [], "created_at": 1}\n{"text": "half')
    assert await run(runtime, "notes_append", {"text": "new"}) == {"count": 3}
    assert json.loads(path.read_text().splitlines()[-1])["text"] == "new"


# --- write_file in append mode --------------------------------------------------------------------


async def test_append_is_not_repeated_by_a_retry_of_the_same_step(runtime: ToolRuntime,
                                                                   workspace: Path) -> None:
    (workspace / "log.txt").write_text("head\n")
    first = await run(runtime, "write_file", APPEND)
    again = await run(runtime, "write_file", APPEND, attempt=2)
    assert first == again == {"path": "log.txt", "bytes": 14}
    assert (workspace / "log.txt").read_text() == "head\none line\n"


async def test_append_from_another_run_or_step_is_made(runtime: ToolRuntime,
                                                       workspace: Path) -> None:
    await run(runtime, "write_file", APPEND)
    await run(runtime, "write_file", APPEND, run_key="wf-1/run-2")
    await run(runtime, "write_file", APPEND, step="t")
    await run(runtime, "write_file", APPEND, run_key=None)
    assert (workspace / "log.txt").read_text() == "one line\n" * 4


@pytest.mark.parametrize("written", [0, 4], ids=["before-the-append", "mid-append"])
async def test_crash_during_the_append_is_repaired_to_one_copy(
        runtime: ToolRuntime, workspace: Path, monkeypatch: pytest.MonkeyPatch,
        written: int) -> None:
    """The journal entry is written, then the worker dies with ``written`` bytes appended."""
    (workspace / "log.txt").write_text("head\n")

    def dies(fd: int, data: bytes) -> None:
        os.write(fd, data[:written])
        raise WorkerKilled

    monkeypatch.setattr(effects, "write_all", dies)
    with pytest.raises(WorkerKilled):
        await run(runtime, "write_file", APPEND)
    assert (workspace / "log.txt").read_text() == "head\n" + APPEND["text"][:written]
    monkeypatch.undo()
    await run(runtime, "write_file", APPEND, attempt=2)
    await run(runtime, "write_file", APPEND, attempt=3)
    assert (workspace / "log.txt").read_text() == "head\none line\n"


async def test_append_after_the_file_was_rewritten_is_made_again(runtime: ToolRuntime,
                                                                 workspace: Path) -> None:
    """The journal names the file (device, inode) and the bytes: a replaced file no longer
    shows the append, so the retry makes it (at least once beats silently lost)."""
    await run(runtime, "write_file", APPEND)
    await run(runtime, "write_file", {"path": "log.txt", "text": "fresh\n"}, step="w")
    await run(runtime, "write_file", APPEND, attempt=2)
    assert (workspace / "log.txt").read_text() == "fresh\none line\n"


async def test_overwrite_retried_leaves_the_same_file(runtime: ToolRuntime,
                                                      workspace: Path) -> None:
    args = {"path": "out.txt", "text": "same"}
    assert await run(runtime, "write_file", args) == await run(runtime, "write_file", args)
    assert (workspace / "out.txt").read_text() == "same"


async def test_a_crash_is_still_reported_to_the_retry_policy(runtime: ToolRuntime,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    def fails(fd: int, data: bytes) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(effects, "write_all", fails)
    with pytest.raises(StepFailure) as info:
        await run(runtime, "write_file", APPEND)
    assert info.value.retryable is True
