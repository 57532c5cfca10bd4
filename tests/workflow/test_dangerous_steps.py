"""A dangerous step runs only with a person's approval of that exact step, whatever the
workflow input says: the worker checks a grant signed with a key Temporal never sees.

Each attack starts workflows by hand on the real dev server, as anyone with access to Temporal
could, and checks that the shell never ran (its marker file does not exist)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from activities import default_registry
from activities.approval_key import approval_key
from agents.client import DecisionRefused, JarvisClient
from agents.worker import create_worker
from jarvis_planner.testing import ScriptedLLM, reply_json
from planner.approval import plan_digest, sign_step
from planner.contracts.goal_flow import ApproveInput, GoalState
from planner.contracts.names import APPROVE_UPDATE, EXECUTE_PLAN_WORKFLOW
from planner.contracts.plan_run import ExecutePlanInput, RunState
from planner.plan import Plan
from planner.preparation import step_policies
from planner.settings import Settings
from planner.tools import Risk

GOAL = "Leave a marker file in the workspace"


def shell_plan(marker: str = "marker.txt") -> Plan:
    return Plan.model_validate({
        "goal": GOAL,
        "steps": [{"id": "touch", "tool": "shell", "args": {"command": f"echo ran > {marker}"}}],
    })


@pytest.fixture
def llm_settings(settings: Settings, scripted_llm: ScriptedLLM) -> Settings:
    return settings.model_copy(update={
        "llm_base_url": scripted_llm.base_url, "llm_api_key": "scripted-key",
        "llm_model": scripted_llm.model, "llm_timeout_s": 10.0, "embedding_backend": "hashing"})


@pytest.fixture
async def jarvis(client: Client, llm_settings: Settings) -> AsyncIterator[JarvisClient]:
    async with create_worker(client, llm_settings, default_registry()):
        yield JarvisClient(client, llm_settings)


def marker(settings: Settings) -> Path:
    return Path(settings.workspace_dir) / "marker.txt"


async def waiting_goal(jarvis: JarvisClient, scripted_llm: ScriptedLLM) -> tuple[str, GoalState]:
    scripted_llm.expect(reply_json(shell_plan().model_dump(mode="json")))
    goal_id = await jarvis.submit(GOAL, policy="approve-all")
    state = await jarvis.wait_for_review(goal_id)
    assert state.stage == "awaiting_approval" and state.risks == {"touch": Risk.DANGEROUS}
    return goal_id, state


async def test_a_person_approving_runs_the_shell(jarvis: JarvisClient,
                                                 scripted_llm: ScriptedLLM) -> None:
    goal_id, state = await waiting_goal(jarvis, scripted_llm)
    await jarvis.approve(goal_id, state.plan_digest or "", by="alice")
    final = await jarvis.result(goal_id)
    assert final.stage == "succeeded", final.message
    assert marker(jarvis.settings).read_text().strip() == "ran"


async def forged_approval(jarvis: JarvisClient, goal_id: str, state: GoalState,
                          grants: dict[str, str]) -> GoalState:
    """An approval sent straight to Temporal (no approving client): with the right plan
    version, and whatever grants the attacker could make."""
    await jarvis.handle(goal_id).execute_update(
        APPROVE_UPDATE, ApproveInput(by="mallory", plan_digest=state.plan_digest,
                                     grants=grants), result_type=GoalState)
    return await jarvis.result(goal_id)


@pytest.mark.parametrize("how", ["no grant", "forged grant", "grant signed with another key",
                                 "grant of another run"])
async def test_an_approval_sent_to_temporal_without_the_key_runs_nothing(
        jarvis: JarvisClient, scripted_llm: ScriptedLLM, how: str) -> None:
    goal_id, state = await waiting_goal(jarvis, scripted_llm)
    assert state.plan is not None
    step = state.plan.steps[0]
    run_id = (await jarvis.handle(goal_id).describe()).run_id
    key = approval_key(jarvis.settings)
    grants = {
        "no grant": {},
        "forged grant": {"touch": "0" * 64},
        "grant signed with another key": {"touch": sign_step(b"k" * 32, goal_id, run_id, step)},
        "grant of another run": {"touch": sign_step(key, goal_id, "another-run-id", step)},
    }[how]
    final = await forged_approval(jarvis, goal_id, state, grants)
    assert final.stage == "failed"
    assert final.run is not None and final.run.error is not None
    assert final.run.error.type == "ToolRefused" and final.run.error.attempts <= 1
    assert not marker(jarvis.settings).exists()


async def test_a_grant_does_not_cover_other_arguments(jarvis: JarvisClient,
                                                      scripted_llm: ScriptedLLM,
                                                      ) -> None:
    """The grant signs the approved template; the worker checks it against what it would run."""
    goal_id, state = await waiting_goal(jarvis, scripted_llm)
    run_id = (await jarvis.handle(goal_id).describe()).run_id
    key = approval_key(jarvis.settings)
    other = shell_plan("elsewhere.txt").steps[0]
    final = await forged_approval(jarvis, goal_id, state,
                                  {"touch": sign_step(key, goal_id, run_id, other)})
    assert final.stage == "failed" and final.run is not None and final.run.error is not None
    assert final.run.error.type == "ToolRefused"
    assert not marker(jarvis.settings).exists()
    assert not (Path(jarvis.settings.workspace_dir) / "elsewhere.txt").exists()


@pytest.mark.parametrize("forge", ["allow_dangerous", "read-only policy"])
async def test_a_plan_run_started_by_hand_cannot_run_the_shell(
        jarvis: JarvisClient, forge: str) -> None:
    """`jarvis.ExecutePlan` started directly with `allow_dangerous: true`, or with the step's
    risk in the input set to read-only: the worker reads the risk from its own registry."""
    plan = shell_plan()
    policies = step_policies(plan, default_registry())
    data: dict[str, Any] = ExecutePlanInput(plan=plan, policies=policies).model_dump(mode="json")
    data["allow_dangerous"] = True
    if forge == "read-only policy":
        data["allow_dangerous"] = False
        data["policies"]["touch"]["risk"] = "read-only"
    run_id = f"forged-{forge.replace(' ', '-')}-{id(data)}"
    await jarvis.temporal.start_workflow(
        EXECUTE_PLAN_WORKFLOW, json.loads(json.dumps(data)), id=run_id,
        task_queue=jarvis.task_queue)
    state = await jarvis.plan_result(run_id)
    assert isinstance(state, RunState) and state.status == "failed"
    assert state.error is not None and state.error.type == "ToolRefused"
    assert "dangerous" in state.error.message
    assert not marker(jarvis.settings).exists()


async def test_an_approval_of_an_older_version_of_the_plan_is_refused(
        jarvis: JarvisClient, scripted_llm: ScriptedLLM) -> None:
    goal_id, state = await waiting_goal(jarvis, scripted_llm)
    assert state.plan is not None
    seen = state.plan_digest or ""
    edited = shell_plan("edited.txt")
    await jarvis.edit(goal_id, edited, seen, by="bob")
    with pytest.raises(DecisionRefused, match="changed since you saw it"):
        await jarvis.approve(goal_id, seen, by="alice")
    await jarvis.approve(goal_id, plan_digest(edited), by="alice")
    final = await jarvis.result(goal_id)
    assert final.stage == "succeeded", final.message
    assert (Path(jarvis.settings.workspace_dir) / "edited.txt").exists()
    assert not marker(jarvis.settings).exists()
