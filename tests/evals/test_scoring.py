"""The TaskBench-style scorer: gold against itself is perfect, hand-made cases have known F1."""

from __future__ import annotations

from typing import Any

import pytest

from evals.gold import load_gold
from evals.scoring import (
    Counts,
    PlanGraph,
    aggregate,
    match,
    normalise_value,
    score_plan,
)
from planner.plan import Plan


def plan(*steps: dict[str, Any]) -> Plan:
    return Plan.model_validate({"goal": "g", "steps": list(steps)})


def step(step_id: str, tool: str, deps: list[str] | None = None, **args: Any) -> dict[str, Any]:
    return {"id": step_id, "tool": tool, "args": args, "deps": deps or []}


# ------------------------------------------------------------------------------- gold vs gold


@pytest.mark.parametrize("name", ["nestful-executable", "nestful-sgd", "sealtools-in-domain",
                                  "tmdb", "ultratool", "worfbench-wikihow"])
def test_gold_against_itself_is_perfect(name: str) -> None:
    gold = load_gold(name)
    scores = [score_plan(r.plan, r.plan, valid=True, id=r.id) for r in gold.records if r.plan]
    assert len(scores) == len(gold.records)
    agg = aggregate(scores)
    assert agg.node_f1 == agg.node_f1_macro == agg.edge_f1 == agg.edge_f1_macro == 1.0
    assert agg.validity_rate == 1.0 and agg.exact == len(scores)
    if name.startswith(("nestful", "sealtools", "worfbench")):  # worfbench: instructions
        assert agg.arg_accuracy == agg.arg_name_f1 == agg.arg_value_f1 == 1.0
        assert agg.records_with_gold_args > 0
    else:
        assert agg.arg_accuracy is None and agg.records_with_gold_args == 0
    assert aggregate([score_plan(r.plan, r.plan, valid=True, counting="set")
                      for r in gold.records if r.plan]).node_f1 == 1.0


def test_gold_with_renamed_step_ids_is_still_perfect() -> None:
    gold = plan(step("a", "search", query="Rome"),
                step("b", "details", id="${a.id}", note="about ${a.name}"),
                step("c", "notify", deps=["b"], text="done"))
    renamed = plan(step("x1", "search", query="  rome "),
                   step("x2", "details", id="${x1.id}", note="About ${x1.name}"),
                   step("x3", "notify", deps=["x2"], text="Done"))
    score = score_plan(renamed, gold, valid=True)
    assert score.node_f1 == score.edge_f1 == score.arg_accuracy == 1.0


# --------------------------------------------------------------------------------- counting


def test_counts_and_f1() -> None:
    assert match(["A", "B", "B"], ["A", "B", "C"]) == Counts(tp=2, fp=1, fn=1)
    assert match(["A", "B", "B"], ["A", "B", "C"]).f1 == pytest.approx(2 / 3)
    # TaskBench's set counting collapses the repeated B first
    assert match(["A", "B", "B"], ["A", "B", "C"], "set") == Counts(tp=2, fp=0, fn=1)
    assert match(["A", "B", "B"], ["A", "B", "C"], "set").f1 == pytest.approx(0.8)
    assert match([], []).f1 == 1.0  # nothing to find, nothing found
    assert match(["A"], []).f1 == 0.0 and match([], ["A"]).f1 == 0.0
    c = Counts(tp=3, fp=1, fn=2)
    assert (c.precision, c.recall) == (0.75, 0.6) and c.f1 == pytest.approx(6 / 9)


def test_hand_made_plan_scores() -> None:
    gold = plan(step("s1", "SearchMovie", query="Titanic"),
                step("s2", "GetMovieCredit", id="${s1.id}"),
                step("s3", "GetPersonImage", id="${s2.cast[0].id}"))
    # right tools, but the last step depends on the first instead of the second, one wrong value
    pred = plan(step("a", "SearchMovie", query="titanic"),
                step("b", "GetMovieCredit", id="${a.id}"),
                step("c", "GetPersonImage", id="${a.id}"))
    s = score_plan(pred, gold, valid=True)
    assert s.nodes == Counts(tp=3)
    assert s.edges == Counts(tp=1, fp=1, fn=1) and s.edge_f1 == 0.5
    assert s.arg_names == Counts(tp=3)
    assert s.arg_values == Counts(tp=2, fp=1, fn=1)
    assert s.arg_accuracy == pytest.approx(2 / 3)
    # a missing step: node F1 2*2/(2*2+1) = 0.8, its edge missed, its argument missed
    short = plan(step("a", "SearchMovie", query="Titanic"),
                 step("b", "GetMovieCredit", id="${a.id}"))
    s2 = score_plan(short, gold, valid=True)
    assert s2.nodes == Counts(tp=2, fn=1) and s2.node_f1 == pytest.approx(0.8)
    assert s2.edges == Counts(tp=1, fn=1) and s2.edge_f1 == pytest.approx(2 / 3)
    assert s2.arg_accuracy == pytest.approx(2 / 3)
    # no plan at all: everything missed
    s3 = score_plan(None, gold, valid=False)
    assert s3.nodes == Counts(fn=3) and s3.edges == Counts(fn=2) and s3.arg_accuracy == 0.0

    agg = aggregate([s, s2, s3])
    assert agg.records == 3 and agg.valid == 2 and agg.validity_rate == pytest.approx(2 / 3)
    # micro: nodes tp 5, fn 4 -> 10/14; edges tp 2, fp 1, fn 4 -> 4/9
    assert agg.node_f1 == pytest.approx(10 / 14)
    assert agg.edge_f1 == pytest.approx(4 / 9)
    # macro: mean of 1, 0.8, 0 and of 0.5, 2/3, 0
    assert agg.node_f1_macro == pytest.approx(1.8 / 3)
    assert agg.edge_f1_macro == pytest.approx((0.5 + 2 / 3) / 3)
    # argument accuracy: (2 + 2 + 0) / (3 * 3) gold arguments
    assert agg.arg_accuracy == pytest.approx(4 / 9)
    assert agg.exact == 0


def test_deps_and_references_are_both_edges_and_self_references_are_not() -> None:
    p = plan(step("a", "t1"), step("b", "t2", deps=["a"]), step("c", "t3", x="${a} and ${b.y}"))
    assert sorted(PlanGraph.from_plan(p).edges) == [("t1", "t2"), ("t1", "t3"), ("t2", "t3")]


def test_unknown_tools_count_as_false_positives() -> None:
    gold = plan(step("a", "known"))
    s = score_plan(plan(step("a", "known"), step("b", "hallucinated")), gold, valid=False)
    assert s.nodes == Counts(tp=1, fp=1)


def test_value_normalisation() -> None:
    tools = {"s1": "getRevenue"}
    assert normalise_value("40.7") == normalise_value(40.7)
    assert normalise_value(5) == normalise_value(5.0) == normalise_value(" 5 ")
    assert normalise_value("New  York ") == normalise_value("new york")
    assert normalise_value("${s1.total}", tools) == normalise_value("${x.total}",
                                                                    {"x": "getRevenue"})
    assert normalise_value("${s1.total}", tools) != normalise_value("${s1.net}", tools)
    assert normalise_value(True) != normalise_value("true")
    assert normalise_value([1, "A"]) == normalise_value([1.0, "a"])
    assert normalise_value({"b": 1, "a": "X"}) == normalise_value({"a": "x", "b": 1.0})


def test_taskbench_record_graph() -> None:
    record = {"task_nodes": [
        {"task": "Image Downloader", "arguments": ["https://x.org/a.png"]},
        {"task": "Image Editing", "arguments": ["<node-0>", "make it blue"]},
        {"task": "Image-to-Text", "arguments": ["<node-1>"]}],
        "task_links": [{"source": "Image Downloader", "target": "Image Editing"},
                       {"source": "Nowhere", "target": "Image-to-Text"}, "junk"]}
    graph = PlanGraph.from_taskbench(record)
    assert graph.nodes == ["Image Downloader", "Image Editing", "Image-to-Text"]
    assert graph.edges == [("Image Downloader", "Image Editing"), ("Nowhere", "Image-to-Text"),
                           ("Image Editing", "Image-to-Text")]
