"""A state request never hangs: the ``state`` query of a running goal or run is bounded, asked
again after a fresh look at the workflow, and ends in a clear error when no worker answers
(agents/client.py ``_now``); the web app answers that with a 504."""

from __future__ import annotations

import time

import pytest
from temporalio.client import Client

import agents.client
from activities import default_registry
from agents.client import JarvisClient, NoAnswer
from agents.worker import create_worker
from jarvis_planner.web.error_mapping import describe_error
from planner.plan import Plan
from planner.preparation import prepare
from planner.settings import Settings

PLAN = Plan.model_validate({"goal": "sum", "steps": [
    {"id": "c", "tool": "calc", "args": {"expression": "2 + 3"}}]})


async def test_a_run_no_worker_answers_for_is_a_clear_error_not_a_hang(
        client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agents.client, "QUERY_WAIT_S", 0.5)
    jarvis = JarvisClient(client, settings)
    run_id = await jarvis.start_plan(prepare(PLAN, default_registry(), settings))  # no worker
    started = time.monotonic()
    with pytest.raises(NoAnswer, match=f"{run_id} is running but no worker answered"):
        await jarvis.plan_state(run_id)
    assert time.monotonic() - started < 10, "three bounded tries, not the client's own timeout"
    message, hint, status = describe_error(NoAnswer("g is running but no worker answered"))
    assert message == "g is running but no worker answered"
    assert status == 504 and "worker" in hint

    async with create_worker(client, settings, default_registry()):
        state = await jarvis.plan_result(run_id)
        assert state.status == "succeeded"
        assert (await jarvis.plan_state(run_id)).outputs == state.outputs, \
            "a closed run's state is its outcome"
