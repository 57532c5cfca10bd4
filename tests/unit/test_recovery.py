"""planner/recovery.py and the write undo: what a replan or a retry re-runs, how a replacement
joins the finished steps, the run state that keeps them, and undo_write_file putting back what
a write replaced (or removing what it created), keyed by the step's idempotency key."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from activities import default_registry
from activities.errors import ToolInputError
from planner.contracts.plan_run import CompensationPolicy, RunState, StepError, StepState
from planner.plan import Plan
from planner.recovery import (
    check_finished_refs,
    compensation_args,
    descendants,
    failed_step,
    merge_replacement,
    resume_from,
    with_args,
)
from planner.scheduler import StepStatus
from planner.tools import ToolContext
from planner.validation import validate_plan

PLAN = Plan.model_validate({"goal": "g", "steps": [
    {"id": "a", "tool": "calc", "args": {"expression": "1+1"}},
    {"id": "b", "tool": "calc", "args": {"expression": "${a.value} * 2"}},
    {"id": "c", "tool": "calc", "args": {"expression": "${b.value} + 1"}},
    {"id": "d", "tool": "calc", "args": {"expression": "3"}},
    {"id": "e", "tool": "notes_append", "args": {"text": "${c.value} ${d.value}"}}],
    "outputs": {"sum": "${c.value}", "three": "${d.value}"}})


def run_state(**statuses: StepStatus) -> RunState:
    outputs = {"a": {"value": 2}, "d": {"value": 3}}
    steps = []
    for s in PLAN.steps:
        status = statuses.get(s.id, StepStatus.PENDING)
        st = StepState(id=s.id, tool=s.tool, status=status, attempts=1,
                       output=outputs.get(s.id) if status is StepStatus.SUCCEEDED else None)
        if status is StepStatus.FAILED:
            st.error = StepError(step_id=s.id, tool=s.tool, type="InvalidArguments",
                                 message="no")
        steps.append(st)
    return RunState(goal="g", status="failed", steps=steps)


def test_descendants_follow_every_path_down() -> None:
    deps = PLAN.dependency_map()
    assert descendants(["b"], deps) == {"b", "c", "e"}
    assert descendants(["d"], deps) == {"d", "e"}
    assert descendants(["e"], deps) == {"e"}


def test_resume_keeps_finished_steps_and_restarts_the_rest() -> None:
    run = run_state(a=StepStatus.SUCCEEDED, b=StepStatus.FAILED, c=StepStatus.BLOCKED,
                    d=StepStatus.SUCCEEDED, e=StepStatus.BLOCKED)
    resume = resume_from(PLAN, run, descendants(["b"], PLAN.dependency_map()))
    assert [(s.id, s.status) for s in resume.state.steps] == [
        ("a", StepStatus.SUCCEEDED), ("b", StepStatus.PENDING), ("c", StepStatus.PENDING),
        ("d", StepStatus.SUCCEEDED), ("e", StepStatus.PENDING)]
    assert resume.outputs == {"a": {"value": 2}, "d": {"value": 3}}
    assert resume.state.usage.total_tokens == 0  # the goal counted the earlier run already
    # a retry from a step that succeeded runs it (and what follows) again
    again = resume_from(PLAN, run, descendants(["d"], PLAN.dependency_map()))
    assert again.outputs == {"a": {"value": 2}}
    assert again.state.step("d").status is StepStatus.PENDING


def test_a_replacement_joins_the_finished_steps() -> None:
    replacement = Plan.model_validate({"goal": "g", "steps": [
        {"id": "b2", "tool": "calc", "args": {"expression": "${a.value} * 3"}},
        {"id": "e2", "tool": "notes_append", "args": {"text": "${b2.value} ${d.value}"}}]})
    merged, clashes = merge_replacement(PLAN, {"b", "c", "e"}, replacement)
    assert clashes == []
    assert [s.id for s in merged.steps] == ["a", "d", "b2", "e2"]
    assert merged.outputs == {"three": "${d.value}"}  # "sum" named a replaced step
    assert validate_plan(merged, {t.name: t for t in default_registry()}) == []


def test_a_replacement_may_not_reuse_an_id() -> None:
    replacement = Plan.model_validate({"goal": "g", "steps": [
        {"id": "b", "tool": "calc", "args": {"expression": "4"}},
        {"id": "a", "tool": "calc", "args": {"expression": "5"}}],
        "outputs": {"x": "${b.value}"}})
    merged, clashes = merge_replacement(PLAN, {"b", "c", "e"}, replacement)
    assert [(p.step_id, p.code) for p in clashes] == [("b", "duplicate_id"),
                                                      ("a", "duplicate_id")]
    assert "taken by a replaced step" in clashes[0].message
    assert "taken by a kept step" in clashes[1].message
    assert merged.outputs == {"x": "${b.value}"}  # the replacement's outputs win


def test_references_into_finished_steps_are_checked_against_real_outputs() -> None:
    plan = Plan.model_validate({"goal": "g", "steps": [
        {"id": "a", "tool": "calc", "args": {"expression": "1"}},
        {"id": "n", "tool": "notes_append", "args": {"text": "${a.total} and ${a.value}"}}]})
    problems = check_finished_refs(plan, {"a": {"value": 1}})
    assert [(p.step_id, p.code) for p in problems] == [("n", "unknown_field")]
    assert "no key 'total'" in problems[0].message and "{'value': 1}" in problems[0].message
    assert check_finished_refs(plan, {}) == []  # nothing finished: the validator's job


def test_only_failures_a_plan_can_fix_are_replanned() -> None:
    run = run_state(a=StepStatus.SUCCEEDED, b=StepStatus.FAILED)
    found = failed_step(run)
    assert found is not None and found.id == "b"
    run.steps[1].error = StepError(step_id="b", tool="calc", type="OverBudget", message="x")
    assert failed_step(run) is None
    assert failed_step(run_state(a=StepStatus.SUCCEEDED)) is None


def test_retry_with_new_arguments_changes_only_that_step() -> None:
    changed = with_args(PLAN, "d", {"expression": "4"})
    assert changed.step("d").args == {"expression": "4"}
    assert [s.args for s in changed.steps if s.id != "d"] == [
        s.args for s in PLAN.steps if s.id != "d"]
    assert with_args(PLAN, "d", None) is PLAN


def test_compensation_arguments_come_from_the_output_or_the_resolved_arguments() -> None:
    step = Plan.model_validate({"goal": "g", "steps": [
        {"id": "w", "tool": "write_file", "args": {"path": "${a.value}.txt", "text": "x"}},
        {"id": "a", "tool": "calc", "args": {"expression": "1"}}]}).step("w")
    outputs: dict[str, Any] = {"w": {"path": "out.txt", "bytes": 1}, "a": {"value": 7}}
    comp = CompensationPolicy(tool="undo", activity="tool.undo",
                              args={"path": "output.path", "asked": "args.path"})
    assert compensation_args(comp, step, outputs) == {"path": "out.txt", "asked": "7.txt"}
    missing = CompensationPolicy(tool="undo", activity="tool.undo", args={"p": "output.nope"})
    with pytest.raises(LookupError, match="no key 'nope'"):
        compensation_args(missing, step, outputs)
    odd = CompensationPolicy(tool="undo", activity="tool.undo", args={"p": "input.path"})
    with pytest.raises(LookupError, match="neither output"):
        compensation_args(odd, step, outputs)


def _ctx(tmp_path: Path, key: str | None) -> ToolContext:
    return ToolContext(workspace=tmp_path / "ws", data_dir=tmp_path / "data",
                       idempotency_key=key)


def _call(name: str, args: dict[str, Any], ctx: ToolContext) -> Any:
    return asyncio.run(default_registry()[name].invoke(args, ctx))


def test_undo_write_file_restores_an_overwrite_and_removes_a_new_file(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "old.txt").write_text("before")
    over, new = _ctx(tmp_path, "run/1/over"), _ctx(tmp_path, "run/1/new")
    _call("write_file", {"path": "old.txt", "text": "after"}, over)
    _call("write_file", {"path": "old.txt", "text": "after again"}, over)  # a retry: 1st wins
    _call("write_file", {"path": "sub/new.txt", "text": "fresh"}, new)
    assert _call("undo_write_file", {"path": "old.txt"}, over) == {
        "path": "old.txt", "action": "restored"}
    assert (tmp_path / "ws" / "old.txt").read_text() == "before"
    assert _call("undo_write_file", {"path": "sub/new.txt"}, new)["action"] == "deleted"
    assert not (tmp_path / "ws" / "sub" / "new.txt").exists()
    with pytest.raises(ToolInputError, match="nothing to undo"):  # undone once, not twice
        _call("undo_write_file", {"path": "old.txt"}, over)
    with pytest.raises(ToolInputError, match="nothing to undo"):  # no key: no record
        _call("undo_write_file", {"path": "old.txt"}, _ctx(tmp_path, None))


def test_the_undo_tool_is_not_for_plans() -> None:
    registry = default_registry()
    assert registry["write_file"].compensation is not None
    plan = Plan.model_validate({"goal": "g", "steps": [
        {"id": "u", "tool": "undo_write_file", "args": {"path": "x"}}]})
    problems = validate_plan(plan, {t.name: t for t in registry})
    assert [p.code for p in problems] == ["unknown_tool"]
    assert "only undoes other steps' effects" in problems[0].message
    from planner.prompting import render_catalog
    assert "undo_write_file" not in render_catalog(registry)
