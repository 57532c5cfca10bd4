"""Recorded histories of real runs replay against today's workflow code (sandboxed Replayer).

tests/histories holds every recording ever made: the top folder was recorded before the layers
refactor (issue 8), ``v2/`` by ``python -m tests.record_histories tests/histories/v2`` with plan
schema version 2, search attributes, budgets, schedules and continue-as-new (issue 11; for
the ``*-continued`` paths, the second run: resumed, and continued as new itself), one file per
path in ``tests.record_histories.PATHS`` (the top folder's goal-scheduled* came from the first
schedules code); ``v3/`` after template memory and the plan check became local activities and
goals gained recovery (issue 14; v2 keeps the regular-activity histories of the goals running
then); ``v4/`` after pure tools' steps (calc) began to run in the workflow itself (issue 14:
no activity, computed again on replay, so the replayer installs the pure tools as a worker
does); ``v5/`` after goals began to decide every patch in their first workflow task
(``goal-patches-at-start``: a patch decided after a local activity could fail a replay). A
change that alters what a workflow does for any of them
shows up here as a nondeterminism error: put it behind ``workflow.patched()``."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from activities import default_registry
from agents.goal_workflow import GoalWorkflow
from agents.plan_workflow import ExecutePlanWorkflow
from planner.pure_tools import install as install_pure_tools
from tests.paths import HISTORIES
from tests.record_histories import PATHS

HISTORY_FILES = sorted(HISTORIES.rglob("*.json"))
NEWEST = HISTORIES / "v6"


def test_histories_are_present_for_every_path() -> None:
    assert len(list(HISTORIES.glob("*.json"))) >= 13, "tests/histories lost its first recordings"
    assert {p.stem for p in NEWEST.glob("*.json")} == set(PATHS), (
        "record every path: python -m tests.record_histories tests/histories/v5")


@pytest.mark.parametrize("path", HISTORY_FILES,
                         ids=[str(p.relative_to(HISTORIES).with_suffix("")) for p in HISTORY_FILES])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    install_pure_tools(default_registry())  # pure steps run in workflow code, as on a worker
    replayer = Replayer(workflows=[ExecutePlanWorkflow, GoalWorkflow],
                        data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
