"""Tool routing (JARVIS_TOOL_QUEUES): which queue each step's policy names, and what a worker
on a queue serves (agents.worker_queues)."""

from __future__ import annotations

import pytest

from activities import default_registry
from agents.worker_queues import WorkerConfigError, served
from planner.plan import Plan
from planner.preparation import prepare
from planner.settings import Settings

ROUTES = {"shell": "privileged", "write_file": "privileged", "calc": "jarvis"}


def routed(**extra: object) -> Settings:
    return Settings(task_queue="jarvis", tool_queues=ROUTES, **extra)  # type: ignore[arg-type]


def plan() -> Plan:
    return Plan.model_validate({"goal": "routing", "steps": [
        {"id": "sum", "tool": "calc", "args": {"expression": "1+1"}},
        {"id": "read", "tool": "read_file", "args": {"path": "a.txt"}},
        {"id": "write", "tool": "write_file", "args": {"path": "b.txt", "text": "x"}},
        {"id": "pause", "tool": "wait", "args": {"seconds": 1}},
        {"id": "run", "tool": "shell", "args": {"command": "true"}}]})


def test_each_step_names_its_tools_queue_and_routed_tools_never_run_local() -> None:
    inp = prepare(plan(), default_registry(), routed(), allow_dangerous=True)
    queues = {sid: p.queue for sid, p in inp.policies.items()}
    assert queues == {"sum": None, "read": None, "write": "privileged", "pause": None,
                      "run": "privileged"}
    assert inp.policies["read"].local, "unrouted read-only tools still run as local activities"
    assert not inp.policies["write"].local and not inp.policies["run"].local


def test_without_routing_policies_name_no_queue() -> None:
    inp = prepare(plan(), default_registry(), Settings(), allow_dangerous=True)
    assert all(p.queue is None for p in inp.policies.values())


def test_the_default_queue_serves_workflows_and_every_unrouted_tool() -> None:
    registry = default_registry()
    serve = served(routed(), registry)
    assert serve.workflows and serve.queue == "jarvis"
    assert "shell" not in serve.tools and "write_file" not in serve.tools
    assert {"calc", "read_file", "notes_append"} <= serve.tools


def test_another_queue_serves_only_tools() -> None:
    registry = default_registry()
    serve = served(routed(), registry, "privileged")
    assert not serve.workflows and serve.tools == {"shell", "write_file"}
    chosen = served(routed(), registry, "privileged", ["shell", "write_file", "read_file"])
    assert chosen.tools == {"shell", "write_file", "read_file"}
    assert chosen.unrouted == {"read_file"}  # served, but its steps go to the default queue


@pytest.mark.parametrize(("settings", "queue", "tools", "message"), [
    (Settings(), "privileged", None, "no tool is routed to task queue 'privileged'"),
    (Settings(), None, ["shel"], "no tool named shel"),
    (Settings(tool_queues={"sh": "x"}), None, None, "JARVIS_TOOL_QUEUES routes sh"),
])
def test_a_worker_that_would_serve_nothing_or_unknown_tools_says_so(
        settings: Settings, queue: str | None, tools: list[str] | None, message: str) -> None:
    with pytest.raises(WorkerConfigError, match=message):
        served(settings, default_registry(), queue, tools)
