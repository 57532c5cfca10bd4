"""The default of every field of every model that travels in a Temporal payload, compared with
a checked-in list.

Payloads leave out the fields at their defaults (agents/payload_json.py), so a recorded
payload that left a field out reads as the default of the code reading it: a changed default
would change what a recorded workflow input, marker or result means on replay, and what a
worker of an earlier version reads. A default must never change; add a new field instead.
The models are found from the definitions themselves (the workflows' run, query, update and
signal types, every activity's argument and result types, and every model inside them).

New models or fields: ``python -m tests.unit.test_payload_defaults --write`` adds them to
tests/data/payload_defaults.json (it refuses while a recorded default differs)."""

from __future__ import annotations

import json
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from temporalio import activity, workflow

from activities import default_registry
from activities.execution import tool_activities, tool_runtime
from activities.local_chain import local_chain_activity
from activities.local_group import local_group_activity
from activities.metrics import ActivityMetrics
from activities.planning import PlannerActivities
from agents.goal_workflow import GoalWorkflow
from agents.payload_json import data_converter
from agents.plan_workflow import ExecutePlanWorkflow
from planner.contracts.plan_run import RunState, StepState
from planner.plan import Plan
from planner.settings import Settings
from tests.paths import DATA

CHECKED_IN = DATA / "payload_defaults.json"


def _hints(tmp_path: Path) -> Iterator[Any]:
    for cls in (ExecutePlanWorkflow, GoalWorkflow):
        defn = workflow._Definition.must_from_class(cls)
        handlers = [*defn.queries.values(), *defn.updates.values(), *defn.signals.values()]
        for fn in [defn.run_fn, *(h.fn for h in handlers)]:
            yield from typing.get_type_hints(fn).values()
    settings = Settings(data_dir=tmp_path)
    registry = default_registry(plugins=False)
    planner = PlannerActivities(settings, registry, lambda: None)  # type: ignore[arg-type,return-value]
    runtime = tool_runtime(settings, registry)
    for fn in [*planner.all(), local_chain_activity(runtime, ActivityMetrics()),
               local_group_activity(runtime, ActivityMetrics()), *tool_activities(runtime)]:
        defn = activity._Definition.must_from_callable(fn)
        yield from defn.arg_types or []
        yield defn.ret_type


def _models(hint: Any, found: dict[str, type[BaseModel]]) -> None:
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        name = f"{hint.__module__}.{hint.__qualname__}"
        if name in found:
            return
        found[name] = hint
        for field in hint.model_fields.values():
            _models(field.annotation, found)
        return
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is not None:
        for arg in typing.get_args(hint):
            _models(arg, found)


def payload_defaults(tmp_path: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, type[BaseModel]] = {}
    for hint in _hints(tmp_path):
        _models(hint, found)
    return {name: {field: ("<required>" if info.is_required() else to_jsonable_python(
        info.get_default(call_default_factory=True)))
        for field, info in sorted(model.model_fields.items())}
        for name, model in sorted(found.items())}


def _changed(recorded: dict[str, dict[str, Any]], found: dict[str, dict[str, Any]]
             ) -> list[str]:
    return [f"{model}.{field}: {value!r} -> {found.get(model, {}).get(field, '(gone)')!r}"
            for model, fields in recorded.items() for field, value in fields.items()
            if found.get(model, {}).get(field, "(gone)") != value]


def test_no_payload_default_ever_changes(tmp_path: Path) -> None:
    found = payload_defaults(tmp_path)
    recorded = json.loads(CHECKED_IN.read_text())
    changed = _changed(recorded, found)
    assert not changed, ("defaults of payload fields changed, removed or retyped (a recorded "
                         "payload that left them out would read differently): "
                         + "; ".join(changed))
    assert found == recorded, ("new payload models or fields: `python -m "
                               "tests.unit.test_payload_defaults --write` records them")


def test_the_models_found_are_the_payloads_and_leave_their_defaults_out(
        tmp_path: Path) -> None:
    found = payload_defaults(tmp_path)
    for model in (Plan, RunState, StepState):
        assert f"{model.__module__}.{model.__qualname__}" in found, model
    state = RunState(goal="g", steps=[StepState(id="a", tool="calc")])
    payload = data_converter.payload_converter.to_payloads([state])[0]
    assert json.loads(payload.data) == {"goal": "g", "steps": [{"id": "a", "tool": "calc"}]}
    assert data_converter.payload_converter.from_payloads([payload], [RunState]) == [state]
    plan = Plan.model_validate({"goal": "g", "steps": [{"id": "a", "tool": "calc"}]})
    written = json.loads(data_converter.payload_converter.to_payloads([plan])[0].data)
    assert written["schema_version"] == plan.schema_version, "a plan always says its version"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        current = payload_defaults(Path(tmp))
    if CHECKED_IN.exists():
        changed = _changed(json.loads(CHECKED_IN.read_text()), current)
        if changed:
            sys.exit("refused: recorded defaults differ: " + "; ".join(changed))
    CHECKED_IN.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    print(f"wrote {CHECKED_IN}: {len(current)} models")
