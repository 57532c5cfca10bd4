from __future__ import annotations

from typing import Any

import pytest

from activities import default_registry
from planner.plan import Plan, PlanLoadError, parse_plan, plan_json_schema
from planner.tools import ToolRegistry
from planner.validation import Limits, validate_plan
from tests.plans import add_test_tools


@pytest.fixture(scope="module")
def tools() -> dict[str, Any]:
    reg: ToolRegistry = add_test_tools(default_registry())
    return {t.name: t for t in reg}


def plan(*steps: dict[str, Any], outputs: dict[str, Any] | None = None) -> Plan:
    return Plan.model_validate({"goal": "g", "steps": list(steps), "outputs": outputs or {}})


def codes(p: Plan, tools: dict[str, Any], **kw: Any) -> list[tuple[str, str | None, str]]:
    return [(x.code, x.step_id, x.location) for x in validate_plan(p, tools, **kw)]


def test_valid_plan_has_no_problems(tools: dict[str, Any]) -> None:
    from tests.plans import fan_plan
    assert validate_plan(fan_plan(), tools) == []


def test_unknown_tool_suggests(tools: dict[str, Any]) -> None:
    problems = validate_plan(plan({"id": "a", "tool": "read_fil", "args": {"path": "x"}}), tools)
    assert [p.code for p in problems] == ["unknown_tool"]
    assert "did you mean 'read_file'" in problems[0].message


def test_bad_args(tools: dict[str, Any]) -> None:
    p = plan({"id": "a", "tool": "read_file", "args": {"pathh": "x"}},
             {"id": "b", "tool": "slow_span", "args": {"label": "x", "seconds": "soon"}})
    found = codes(p, tools)
    assert ("invalid_args", "a", "args.pathh") in found
    assert ("invalid_args", "a", "args.path") in found
    assert ("invalid_args", "b", "args.seconds") in found
    msgs = [x.message for x in validate_plan(p, tools)]
    assert any("did you mean 'path'" in m for m in msgs)


def test_references(tools: dict[str, Any]) -> None:
    p = plan(
        {"id": "who", "tool": "profile", "args": {"name": "x"}},
        {"id": "a", "tool": "slow_span", "args": {"label": "${who.nam}"}},
        {"id": "b", "tool": "slow_span", "args": {"label": "${ghost.x}"}},
        {"id": "c", "tool": "slow_span", "args": {"label": "${c.label}"}},
        {"id": "d", "tool": "slow_span", "args": {"label": "${who.tags.first}"}},
        {"id": "e", "tool": "slow_span", "args": {"label": "x", "seconds": "${who.tags}"}},
        {"id": "f", "tool": "calc", "args": {"expression": "x",
                                             "variables": {"x": "${who.stats.anything}"}}},
        outputs={"r": "${who.nope}"},
    )
    found = codes(p, tools)
    assert ("unknown_field", "a", "args.label") in found
    assert ("unknown_step", "b", "${ghost.x}") in found
    assert ("not_ancestor", "c", "${c.label}") in found
    assert ("unknown_field", "d", "args.label") in found
    assert ("type_mismatch", "e", "args.seconds") in found
    assert ("unknown_field", None, "outputs.r") in found
    assert not any(step == "f" for _, step, _ in found), "dict[str, int] accepts any key"
    msg = next(x.message for x in validate_plan(p, tools) if x.step_id == "a")
    assert "no field 'nam'" in msg and "name" in msg


def test_cycle_and_duplicates(tools: dict[str, Any]) -> None:
    p = plan({"id": "a", "tool": "calc", "args": {"expression": "${c.value}"}},
             {"id": "b", "tool": "calc", "args": {"expression": "${a.value}"}},
             {"id": "c", "tool": "calc", "args": {"expression": "1"}, "deps": ["b"]})
    found = validate_plan(p, tools)
    assert [x.code for x in found] == ["cycle"]
    assert found[0].message.endswith("a -> c -> b -> a")
    dup = plan({"id": "a", "tool": "calc", "args": {"expression": "1"}},
               {"id": "a", "tool": "calc", "args": {"expression": "2"}})
    assert codes(dup, tools) == [("duplicate_id", "a", "steps[1].id")]


def test_interpolated_text_into_a_number(tools: dict[str, Any]) -> None:
    p = plan({"id": "who", "tool": "profile", "args": {"name": "x"}},
             {"id": "s", "tool": "slow_span", "args": {"label": "x",
                                                      "seconds": "0.${who.stats.len}"}})
    assert ("type_mismatch", "s", "args.seconds") in codes(p, tools)


def test_limits_and_conditions(tools: dict[str, Any]) -> None:
    steps = [{"id": f"s{i}", "tool": "calc", "args": {"expression": "1"}} for i in range(5)]
    assert ("too_large", None, "steps") in codes(plan(*steps), tools, limits=Limits(max_steps=4))
    p = plan({"id": "a", "tool": "calc", "args": {"expression": "1"}, "when": "import os"})
    assert [x.code for x in validate_plan(p, tools)] == ["bad_condition"]
    p = plan({"id": "a", "tool": "calc", "args": {"expression": "1"}, "when": "${a.value > 1"})
    assert "bad_reference" in [x.code for x in validate_plan(p, tools)]


def test_parse_errors_are_precise() -> None:
    with pytest.raises(PlanLoadError, match="line 1, column"):
        parse_plan('{"goal": "x", "steps": [}', "p.json")
    with pytest.raises(PlanLoadError, match=r"steps.0.id"):
        parse_plan('{"goal": "x", "steps": [{"id": "bad id!", "tool": "calc"}]}', "p.json")
    assert plan_json_schema()["title"] == "Plan"
