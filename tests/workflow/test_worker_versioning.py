"""Worker Versioning on the real dev server: every goal records the worker version that ran it;
with versioning on, a goal started on version A finishes on A (pinned) while new goals start on
the current version B."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import Client

from activities import default_registry
from agents.versioning import (
    VersioningError,
    adopt_if_first,
    code_build_id,
    current_build_id,
    pinned_version,
    set_current_version,
)
from agents.worker import create_worker
from jarvis_planner.api import JarvisClient
from planner.settings import Settings

REMIND = "remind me to stretch in 1 seconds"  # a shipped template with a side effect: it asks


async def task_build_ids(client: Client, goal_id: str) -> set[str]:
    """The build id of every workflow task the server recorded as completed for the goal."""
    history = await client.get_workflow_handle(goal_id).fetch_history()
    return {e.workflow_task_completed_event_attributes.deployment_version.build_id
            for e in history.events if e.HasField("workflow_task_completed_event_attributes")}


async def waiting_goal(jarvis: JarvisClient) -> tuple[str, str]:
    goal_id = await jarvis.submit(REMIND)
    state = await jarvis.wait_for_review(goal_id)
    assert state.stage == "awaiting_approval", state.message
    return goal_id, state.plan_digest or ""


def versions_a_and_b(settings: Settings) -> tuple[str, Settings, Settings, Settings]:
    """A fresh deployment with versioning on: its name, its settings, and builds a and b."""
    deployment = f"jarvis-{uuid.uuid4().hex[:8]}"
    base = settings.model_copy(update={"embedding_backend": "hashing", "worker_versioning": True,
                                       "deployment_name": deployment})
    return (deployment, base, base.model_copy(update={"build_id": "a"}),
            base.model_copy(update={"build_id": "b"}))


async def test_goals_started_on_a_finish_on_a_while_new_goals_start_on_b(
        client: Client, settings: Settings) -> None:
    deployment, base, on_a, on_b = versions_a_and_b(settings)
    registry = default_registry()
    jarvis = JarvisClient(client, base)
    async with create_worker(client, on_a, registry):
        await set_current_version(client, deployment, "a", wait_s=30)
        g1, digest1 = await waiting_goal(jarvis)
        assert (await jarvis.state(g1)).worker_version == f"{deployment}.a"
        async with create_worker(client, on_b, registry):
            await set_current_version(client, deployment, "b", wait_s=30)
            g2, digest2 = await waiting_goal(jarvis)
            assert (await jarvis.state(g2)).worker_version == f"{deployment}.b"
            # both workers poll the same task queue; the server sends each goal's tasks to the
            # version it is pinned to (auto_upgrade would move g1 to b at its next task)
            await jarvis.approve(g1, digest1, by="ops")
            await jarvis.approve(g2, digest2, by="ops")
            first, second = await jarvis.result(g1), await jarvis.result(g2)
    assert (first.stage, first.worker_version) == ("succeeded", f"{deployment}.a")
    assert (second.stage, second.worker_version) == ("succeeded", f"{deployment}.b")
    # the server's view agrees: the version each goal is pinned to, and every workflow task
    assert await pinned_version(client, g1) == f"{deployment}.a"
    assert await pinned_version(client, g2) == f"{deployment}.b"
    assert await task_build_ids(client, g1) == {"a"}
    assert await task_build_ids(client, g2) == {"b"}


async def test_without_versioning_goals_record_the_code_version_and_are_not_pinned(
        client: Client, settings: Settings) -> None:
    offline = settings.model_copy(update={"embedding_backend": "hashing",
                                          "auto_approve": ["read-only", "side-effecting"]})
    assert not offline.worker_versioning  # the default
    async with create_worker(client, offline, default_registry()):
        jarvis = JarvisClient(client, offline)
        goal_id = await jarvis.submit(REMIND)
        final = await jarvis.result(goal_id)
    assert final.stage == "succeeded"
    assert final.worker_version == f"jarvis.{code_build_id()}"
    assert await pinned_version(client, goal_id) is None


async def test_the_first_worker_of_a_deployment_becomes_current_later_ones_wait_for_an_operator(
        client: Client, settings: Settings) -> None:
    deployment, _, on_a, on_b = versions_a_and_b(settings)
    registry = default_registry()
    assert await current_build_id(client, deployment) is None  # unknown until a worker polls
    with pytest.raises(VersioningError, match=r"could not make .*\.zzz current.*--build-id zzz"):
        await set_current_version(client, deployment, "zzz")
    async with create_worker(client, on_a, registry):
        assert await adopt_if_first(client, on_a, wait_s=30)
        assert await current_build_id(client, deployment) == "a"
        async with create_worker(client, on_b, registry):
            assert not await adopt_if_first(client, on_b, wait_s=30)
            assert await current_build_id(client, deployment) == "a"
