"""Every durable name (workflow, activity, query, update) compared with a checked-in list.

These names are recorded in running workflows' histories and used by operators; a rename breaks
them. The list is read off the definitions themselves (what the worker registers), not off the
constants, so a definition that stops using its constant is caught too. Adding a name is fine:
add it to tests/data/durable_names.json in the same change. Removing or renaming one is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from temporalio import activity, workflow

from activities import default_registry
from activities.execution import tool_activities, tool_runtime
from activities.local_chain import local_chain_activity
from activities.local_group import local_group_activity
from activities.metrics import ActivityMetrics
from activities.planning import PlannerActivities
from agents.goal_workflow import GoalWorkflow
from agents.plan_workflow import ExecutePlanWorkflow
from planner.contracts.names import SEARCH_ATTRIBUTES, durable_names
from planner.settings import Settings
from planner.tools import ToolRegistry
from tests.paths import DATA, HISTORIES
from tests.plans import add_test_tools

CHECKED_IN = DATA / "durable_names.json"


def registered_names(tmp_path: Path) -> dict[str, Any]:
    workflows = {}
    for cls in (ExecutePlanWorkflow, GoalWorkflow):
        defn = workflow._Definition.must_from_class(cls)
        workflows[defn.name] = {"queries": sorted(q for q in defn.queries if q),
                                "updates": sorted(u for u in defn.updates if u)}
    settings = Settings(data_dir=tmp_path)
    registry = default_registry(plugins=False)
    planner = PlannerActivities(settings, registry, lambda: None)  # type: ignore[arg-type,return-value]
    runtime = tool_runtime(settings, registry)
    # what a worker of the workflows registers (agents/worker.py create_worker)
    fns = [*planner.all(), local_chain_activity(runtime, ActivityMetrics()),
           local_group_activity(runtime, ActivityMetrics()), *tool_activities(runtime)]
    activities = sorted(activity._Definition.must_from_callable(fn).name or "" for fn in fns)
    return {"workflows": workflows, "activities": activities,
            "search_attributes": dict(sorted(SEARCH_ATTRIBUTES.items()))}


def test_durable_names_never_change(tmp_path: Path) -> None:
    found = registered_names(tmp_path)
    recorded = json.loads(CHECKED_IN.read_text())
    missing = sorted(set(recorded["activities"]) - set(found["activities"]))
    lost = {k: v for k, v in recorded["search_attributes"].items()
            if found["search_attributes"].get(k) != v}
    assert not lost, f"search attributes renamed, removed or retyped: {lost}"
    assert not missing, f"activities renamed or removed: {missing}"
    for name, handlers in recorded["workflows"].items():
        assert name in found["workflows"], f"workflow {name} renamed or removed"
        for kind in ("queries", "updates"):
            lost = set(handlers[kind]) - set(found["workflows"][name][kind])
            assert not lost, f"{name}: {kind} renamed or removed: {sorted(lost)}"
    assert found == recorded, ("new durable names: add them to tests/data/durable_names.json "
                               "in the same change")


def test_the_contracts_module_names_what_is_registered(tmp_path: Path) -> None:
    found = registered_names(tmp_path)
    names = durable_names()
    assert sorted(names["workflows"]) == sorted(found["workflows"])
    planner_activities = [a for a in found["activities"] if not a.startswith("tool.")]
    # tool.* and mcp.* name families (one activity per tool; no MCP server in this registry)
    assert sorted(planner_activities) == sorted(a for a in names["activities"]
                                                if not a.startswith(("tool.", "mcp.")))
    handlers = {h for w in found["workflows"].values() for h in w["queries"] + w["updates"]}
    assert handlers == set(names["queries"]) | set(names["updates"])


def test_names_in_recorded_histories_are_still_registered(tmp_path: Path) -> None:
    """Every workflow and activity type the recorded histories name (tests/histories, of every
    recording) must still be registered."""
    found = registered_names(tmp_path)
    seen_workflows, seen_activities = set(), set()
    for path in HISTORIES.rglob("*.json"):
        for event in json.loads(path.read_text())["events"]:
            started = event.get("workflowExecutionStartedEventAttributes")
            if started:
                seen_workflows.add(started["workflowType"]["name"])
            scheduled = event.get("activityTaskScheduledEventAttributes")
            if scheduled:
                seen_activities.add(scheduled["activityType"]["name"])
    assert seen_workflows == set(found["workflows"])
    # the test-only tools (tests/plans.py) some recordings use
    test_tools = {"tool." + t.name for t in add_test_tools(ToolRegistry())}
    assert seen_activities and seen_activities - test_tools <= set(found["activities"])
