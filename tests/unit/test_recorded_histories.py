"""Recorded histories of real runs replay against today's workflow code (sandboxed Replayer).

The files in tests/histories were recorded before the layers refactor (issue 8), so a moved
module, a renamed class or a changed import that alters what the workflows do shows up here as
a nondeterminism error. Newer paths are recorded by ``tests/record_histories.py`` when they are
added (goal-scheduled*: goals started by a schedule)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from agents.goal_workflow import GoalWorkflow
from agents.plan_workflow import ExecutePlanWorkflow
from tests.paths import HISTORIES

HISTORY_FILES = sorted(HISTORIES.glob("*.json"))


def test_histories_are_present() -> None:
    assert len(HISTORY_FILES) >= 13, "tests/histories lost its recorded runs"
    names = {p.stem for p in HISTORY_FILES}
    assert {"goal-scheduled", "goal-scheduled-review"} <= names


@pytest.mark.parametrize("path", HISTORY_FILES, ids=[p.stem for p in HISTORY_FILES])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[ExecutePlanWorkflow, GoalWorkflow],
                        data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
