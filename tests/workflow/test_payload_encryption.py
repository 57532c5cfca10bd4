"""With a payload key set, the Temporal server stores ciphertext only: a client without the key
sees no argument or output of a run, a client with it reads the result as usual."""

from __future__ import annotations

import pytest

from activities import default_registry
from agents.client import JarvisClient
from agents.connection import connect, connect_with_retry
from agents.worker import create_worker
from planner.plan import Plan
from planner.preparation import prepare
from planner.settings import Settings

SECRET = "correct-horse-battery-staple-7f3a"


async def test_histories_hold_ciphertext_only(settings: Settings, temporal_address: str) -> None:
    settings = settings.model_copy(update={"payload_keys": {"k1": "ab" * 32},
                                           "payload_key_id": "k1"})
    client = await connect_with_retry(settings)
    plan = Plan.model_validate({"goal": f"note {SECRET}", "steps": [
        {"id": "n", "tool": "calc", "args": {"expression": f"len('{SECRET}')"}}]})
    async with create_worker(client, settings, default_registry()):
        jarvis = JarvisClient(client, settings)
        run_id = await jarvis.start_plan(prepare(plan, default_registry(), settings))
        state = await jarvis.plan_result(run_id)
    assert state.status == "succeeded" and state.step("n").output["value"] == len(SECRET)

    blind = await connect(temporal_address)  # no key: what the server and its UI hold
    history = await blind.get_workflow_handle(run_id).fetch_history()
    raw = history.to_json()
    assert SECRET not in raw
    encodings = {p.metadata["encoding"] for e in history.events
                 if e.HasField("workflow_execution_started_event_attributes")
                 for p in e.workflow_execution_started_event_attributes.input.payloads}
    assert encodings == {b"binary/encrypted"}
    with pytest.raises(KeyError, match="binary/encrypted"):
        await blind.get_workflow_handle(run_id).result()
