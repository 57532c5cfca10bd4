"""What the replay corpus is for: a change to what a workflow does, made without a patch, fails
the replay of a recorded goal; the same change behind ``workflow.patched()`` replays."""

from __future__ import annotations

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from agents.goal_workflow import GoalWorkflow
from tests.paths import HISTORIES
from tests.unit.replay_variants import PatchedPauseBeforeRemembering, PauseBeforeRemembering

RECORDED = HISTORIES / "goal-template.json"  # a template goal that ran its plan and remembered


async def replay(workflow_class: type) -> BaseException | None:
    history = WorkflowHistory.from_json(RECORDED.stem, RECORDED.read_text())
    replayer = Replayer(workflows=[workflow_class], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure


async def test_an_unpatched_change_fails_the_replay() -> None:
    failure = await replay(PauseBeforeRemembering)
    assert failure is not None
    assert "nondetermin" in str(failure).lower(), failure


async def test_the_same_change_behind_a_patch_replays() -> None:
    assert await replay(PatchedPauseBeforeRemembering) is None
    assert await replay(GoalWorkflow) is None
