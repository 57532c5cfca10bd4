"""What the web page is sent to show (jarvis_planner/web/view.py): dependency levels and
reference segments computed in Python, so the page derives nothing itself."""

from __future__ import annotations

from jarvis_planner.web.view import STAGES, goal_view, levels, segments
from planner.contracts.goal_flow import GoalState
from planner.plan import Plan
from tests.plans import fan_plan


def kinds(value: object) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in segments(value)]


def test_fan_out_and_fan_in_levels() -> None:
    plan = fan_plan()  # who -> a, b, c -> sum (after a, b; reads c) ; note -> back
    assert levels(plan) == {"who": 0, "a": 1, "b": 1, "c": 1, "sum": 2, "note": 3, "back": 4}
    view = goal_view(GoalState(goal=plan.goal, stage="awaiting_approval", plan=plan,
                               risks={"note": "side-effecting"}))
    assert [[s.id for s in level] for level in view.levels] == [
        ["who"], ["a", "b", "c"], ["sum"], ["note"], ["back"]]
    by_id = {s.id: s for level in view.levels for s in level}
    assert by_id["sum"].deps == ["a", "b", "c", "who"] and by_id["sum"].level == 2
    assert by_id["note"].risk == "side-effecting" and by_id["who"].risk is None
    assert not view.finished
    assert [s.text for s in view.outputs["summary"]] == ["${back.text}"]


def test_segments_of_whole_references_interpolation_escapes_and_json() -> None:
    assert kinds("${a.b}") == [("ref", "${a.b}")]
    assert kinds("x ${a} and ${b[0]}!") == [("text", "x "), ("ref", "${a}"), ("text", " and "),
                                           ("ref", "${b[0]}"), ("text", "!")]
    assert kinds("price $${cost} ${a}") == [("text", "price $${cost} "), ("ref", "${a}")]
    assert kinds("open ${a") == [("text", "open "), ("text", "${a")]
    assert kinds({"n": "${who.stats.len}", "k": 2}) == [
        ("text", '{"n":"'), ("ref", "${who.stats.len}"), ("text", '","k":2}')]
    assert kinds(3) == [("text", "3")]
    assert kinds("") == []


def test_an_invalid_draft_is_shown_with_the_references_that_parse() -> None:
    plan = Plan.model_validate({"goal": "g", "steps": [
        {"id": "a", "tool": "calc", "args": {"expression": "1"}},
        {"id": "b", "tool": "calc", "args": {"expression": "${a.value"}, "deps": ["a"]},
        {"id": "c", "tool": "calc", "args": {"expression": "${c.value}"}}]})
    view = goal_view(GoalState(goal="g", stage="invalid", plan=plan))
    by_id = {s.id: s for level in view.levels for s in level}
    assert by_id["b"].deps == ["a"] and by_id["b"].level == 1  # explicit deps still count
    assert by_id["c"].deps == [] and by_id["c"].level == 0  # a self reference is no edge
    assert view.finished


def test_a_goal_without_a_plan_and_the_stage_lists() -> None:
    view = goal_view(GoalState(goal="g", stage="planning"))
    assert view.levels == [] and view.outputs == {} and not view.finished
    assert STAGES.flow[0] == "retrieving" and "awaiting_approval" in STAGES.flow
    assert set(STAGES.final) >= {"succeeded", "failed", "rejected", "expired"}
    assert not set(STAGES.flow) & set(STAGES.final)
