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


def test_the_graph_is_laid_out_by_level_with_edges_joining_the_boxes() -> None:
    plan = fan_plan()
    view = goal_view(GoalState(goal=plan.goal, stage="awaiting_approval", plan=plan))
    graph = view.graph
    nodes = {n.id: n for n in graph.nodes}
    assert [n.id for n in graph.nodes] == ["who", "a", "b", "c", "sum", "note", "back"]
    rows = sorted({n.y for n in graph.nodes})
    assert [rows.index(nodes[i].y) for i in ("who", "a", "b", "c", "sum", "note", "back")] == [
        0, 1, 1, 1, 2, 3, 4]
    for n in graph.nodes:  # inside the picture, and no two boxes of a row overlap
        assert n.x >= 0 and n.x + n.width <= graph.width and n.y + n.height <= graph.height
    a, b, c = nodes["a"], nodes["b"], nodes["c"]
    assert a.x + a.width < b.x and b.x + b.width < c.x
    deps = {s.id: s.deps for level in view.levels for s in level}
    assert {(e.source, e.target) for e in graph.edges} == {
        (d, t) for t, ds in deps.items() for d in ds}
    boxes = list(graph.nodes)
    for e in graph.edges:
        src, dst = nodes[e.source], nodes[e.target]
        assert e.points[0] == (e.x1, e.y1) and e.points[-1] == (e.x2, e.y2)
        assert src.x <= e.x1 <= src.x + src.width and e.y1 == src.y + src.height
        assert dst.x <= e.x2 <= dst.x + dst.width and e.y2 == dst.y
        for x, y in e.points[1:-1]:  # a row skipped: through a lane between boxes
            assert not any(n.x <= x <= n.x + n.width and n.y <= y <= n.y + n.height
                           for n in boxes)
    skip = next(e for e in graph.edges if (e.source, e.target) == ("who", "sum"))
    assert len(skip.points) == 4
    ins = sorted(e.x2 for e in graph.edges if e.target == "sum")  # fan-in spreads
    assert len(set(ins)) == len(ins) == 4


def test_long_step_ids_are_shortened_in_the_graph_only() -> None:
    long_id = "fetch_the_weather_forecast_for_tomorrow"
    plan = Plan.model_validate({"goal": "g", "steps": [
        {"id": long_id, "tool": "calc", "args": {"expression": "1"}}]})
    graph = goal_view(GoalState(goal="g", stage="planned", plan=plan)).graph
    node = graph.nodes[0]
    assert node.id == long_id and node.label.endswith("…") and len(node.label) <= 17
    assert graph.edges == [] and graph.width == node.width + 24
    assert goal_view(GoalState(goal="g", stage="planning")).graph.nodes == []
