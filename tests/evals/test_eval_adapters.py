"""Gold records of NESTFUL, Seal-Tools, the TaskBench-format sets (UltraTool, TMDB) and WorfBench
as plans: every record converts and validates (or is listed with its reason), the approximations
are the documented ones, and the plans run on stub tools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from activities.execution import tool_runtime
from agents.simple_engine import SimpleWorkflowEngine
from evals.cli_eval import app as eval_app
from evals.datasets import dataset_file
from evals.gold import (
    GoldRecord,
    fix_nestful_sample,
    gold_datasets,
    load_gold,
    main,
    summarise,
    widen_arg,
)
from evals.nestful import Call, Sample
from evals.sealtools import SealConversionError, SealRecord, catalog, load_tools, to_sample
from evals.worfbench import TASKS, WorfParseError, parse_graph, task_text
from planner.preparation import prepare
from planner.settings import Settings

# Counts from the dataset READMEs.
COUNTS = {"nestful-executable": 85, "nestful-glaive": 169, "nestful-sgd": 46,
          "sealtools-in-domain": 700, "sealtools-out-domain": 654, "ultratool": 3527,
          "tmdb": 100}
WORFBENCH_COUNTS = {"alfworld": 312, "intercodesql": 500, "lumos": 489, "os": 20,
                    "seal_tools": 223, "toolalpaca": 93, "toolbench": 114, "webshop": 133,
                    "wikihow": 262}


@pytest.mark.parametrize("name", list(COUNTS))
def test_every_gold_record_converts_and_validates(name: str) -> None:
    summary = summarise(load_gold(name))
    assert summary.records == COUNTS[name]
    assert summary.failures == [] and summary.reasons == {}
    assert summary.valid == summary.records


@pytest.mark.parametrize("task", TASKS)
def test_every_worfbench_graph_converts(task: str) -> None:
    gold = load_gold(f"worfbench-{task}")
    assert len(gold.records) == WORFBENCH_COUNTS[task]
    assert [r.id for r in gold.records if not r.ok] == []
    assert all(s.tool == "subtask" for r in gold.records if r.plan for s in r.plan.steps)


def test_dataset_names() -> None:
    names = gold_datasets()
    assert set(COUNTS) <= set(names)
    assert {f"worfbench-{t}" for t in TASKS} <= set(names)
    with pytest.raises(ValueError, match="unknown gold dataset"):
        load_gold("nope")


# ----------------------------------------------------------------------------------- NESTFUL


def test_nestful_gold_defects_are_mended_and_noted() -> None:
    glaive = load_gold("nestful-glaive").by_id()
    # call 4 reuses 'var3'; the result's $var4$ names it
    r45 = glaive["45"]
    assert [s.id for s in r45.plan.steps] == ["var1", "var2", "var3", "var4"]  # type: ignore[union-attr]
    assert r45.plan.outputs["joke"] == "${var4}"  # type: ignore[union-attr]
    assert [n.kind for n in r45.notes if n.kind == "duplicate_label"] == ["duplicate_label"]
    # the result references $var3$ in a two-call sample: dropped, not kept as literal text
    r103 = glaive["103"]
    assert "books" not in r103.plan.outputs  # type: ignore[union-attr]
    assert any(n.kind == "dangling_result_ref" and "$var3" in n.detail for n in r103.notes)
    # create_task is not in the glaive spec: an inferred stub, noted
    r4 = glaive["4"]
    assert any(n.kind == "tool_not_in_spec" and "create_task" in n.detail for n in r4.notes)
    tool = load_gold("nestful-glaive").registry.get("create_task")
    assert tool is not None and set(tool.args_model.model_fields) == {"title", "due_date",
                                                                      "priority"}
    sgd = load_gold("nestful-sgd").by_id()
    assert sgd["18"].plan.step("var3").tool == "Movies.BuyMovieTickets"  # type: ignore[union-attr]


def test_nestful_dangling_reference_in_a_call_is_not_expressible() -> None:
    sample = Sample(input="x", output=[
        Call(name="a", arguments={}, label="var1"),
        Call(name="b", arguments={"q": "$var7.id$"}, label="var2")])
    _, _, error = fix_nestful_sample(sample)
    assert error is not None and "$var7" in error


# -------------------------------------------------------------------------------- Seal-Tools


def test_sealtools_response_ids_become_field_references() -> None:
    out = load_gold("sealtools-out-domain").by_id()
    plan = out["test_out_domain-difficult-192"].plan
    assert plan is not None
    # analyzeWord responds root, prefix, suffix as API_call_0..2; getSyntaxTree gets API_call_2
    assert plan.step("call1").args == {"sentence": "${call0.suffix}"}
    assert plan.step("call3").args == {"phrase": "${call1.syntax_tree}"}  # API_call_3
    nested = load_gold("sealtools-in-domain").by_id()["test_in_domain-difficult-225"].plan
    assert nested is not None and nested.step("call1").dependencies() == {"call0"}
    # a boolean response passed to an integer parameter: the stub is widened, and it says so
    r552 = out["test_out_domain-difficult-552"]
    assert r552.ok and [n.kind for n in r552.notes] == ["arg_type_mismatch"]


def test_sealtools_unexpressible_records_say_why() -> None:
    tools = {t.api_name: t for t in load_tools()}
    record = SealRecord.model_validate({"id": "x", "query": "q", "calling": [
        {"api": "analyzeWord", "parameters": {"word": "API_call_9"},
         "responses": ["API_call_0", "API_call_1", "API_call_2"]}]})
    with pytest.raises(SealConversionError) as info:
        to_sample(record, tools)
    assert info.value.reason == "dangling_ref"
    record = SealRecord.model_validate({"id": "y", "query": "q", "calling": [
        {"api": "noSuchTool", "parameters": {}, "responses": []}]})
    with pytest.raises(SealConversionError) as info:
        to_sample(record, tools)
    assert info.value.reason == "tool_not_in_spec"


def test_sealtools_catalog_has_the_gold_tools_and_distractors() -> None:
    gold = load_gold("sealtools-in-domain")
    record = gold.by_id()["test_in_domain-difficult-225"]
    tools = gold.catalog(record)
    names = tools.names()
    assert {"getWildlifeSpecies", "getConservationProjectDetails"} <= set(names)
    assert len(names) == 2 + 8
    again = catalog(record, registry=gold.registry, tools={t.api_name: t for t in load_tools()})
    assert again.names() == names  # deterministic


# --------------------------------------------------------------------- TaskBench-format gold


def test_taskbench_format_gold() -> None:
    ultratool = load_gold("ultratool")
    r = ultratool.by_id()["298"]  # postal_code_search twice, linked to itself
    assert r.plan is not None
    assert [(s.id, s.tool, s.deps, s.args) for s in r.plan.steps] == [
        ("s0", "postal_code_search", [], {}), ("s1", "postal_code_search", ["s0"], {})]
    assert [n.kind for n in r.notes] == ["ambiguous_link"]
    assert ultratool.eval_ids is not None and len(ultratool.eval_ids) == 500
    assert len(ultratool.eval_records()) == 500
    tmdb = load_gold("tmdb")
    assert len(tmdb.eval_records()) == 100
    # the stubs take any arguments (the spec declares none), so an LLM's arguments validate
    tool = tmdb.registry["SearchMovie"]
    assert tool.parse({"query": "Titanic"}).model_dump() == {"query": "Titanic"}


# --------------------------------------------------------------------------------- WorfBench


def test_worfbench_parsing() -> None:
    graph = parse_graph("Node:\n1: a\n2: b\n3: c\nEdge: (START,1) (1,2) (1,3) (2,END) (3,END)")
    assert graph.nodes == {1: "a", 2: "b", 3: "c"}
    assert graph.edges == [("START", "1"), ("1", "2"), ("1", "3"), ("2", "END"), ("3", "END")]
    assert graph.notes == []
    prose = parse_graph("Node:\n1: a\n2: b\nSome prose.\n\nEdges:\n- (Start, 1): first\n"
                        "- (1, 2): then\n- (2, End)\n(1, 2) again")
    assert prose.edges == [("START", "1"), ("1", "2"), ("2", "END")]
    assert {n.kind for n in prose.notes} == {"edges_in_prose", "duplicate_edge"}
    block = parse_graph("Node:\n1: a\n2: b\nEdge:\n(START, 1)\n(1, 2)\n(2, END)\n\nProse.")
    assert block.notes == []
    with pytest.raises(WorfParseError) as info:
        parse_graph("Node:\n1: a\nEdge: (START,1) (1,4)")
    assert info.value.reason == "unknown_node"
    with pytest.raises(WorfParseError) as info:
        parse_graph("no nodes here")
    assert info.value.reason == "no_nodes"
    assert task_text("Task: Book a flight.\nThe api list you can use: [...]") == "Book a flight."


def test_worfbench_plan_shape() -> None:
    alfworld = load_gold("worfbench-alfworld").by_id()["alfworld_196"]
    plan = alfworld.plan
    assert plan is not None and plan.goal == "find two newspaper and put them in armchair."
    assert [(s.id, s.deps) for s in plan.steps] == [
        ("n1", []), ("n2", ["n1"]), ("n3", ["n2"]), ("n4", ["n3"]), ("n5", ["n4"])]
    assert plan.step("n1").args == {"instruction": "go to locations where newspapers may be "
                                    "placed"}
    wikihow = load_gold("worfbench-wikihow").by_id()["wikihow_228"].plan
    assert wikihow is not None
    assert [(s.id, s.deps) for s in wikihow.steps] == [("n1", []), ("n2", ["n1"]),
                                                       ("n3", ["n1"])]


# ----------------------------------------------------------------------- the plans run


@pytest.mark.parametrize(("name", "record_id"), [
    ("sealtools-out-domain", "test_out_domain-difficult-192"),
    ("sealtools-out-domain", "test_out_domain-difficult-552"),
    ("nestful-glaive", "45"), ("nestful-glaive", "4"), ("nestful-sgd", "18"),
    ("ultratool", "298"), ("tmdb", "0"), ("worfbench-wikihow", "wikihow_228"),
])
async def test_gold_plans_run_on_the_stub_tools(name: str, record_id: str,
                                                tmp_path: Path) -> None:
    gold = load_gold(name)
    record: GoldRecord = gold.by_id()[record_id]
    assert record.plan is not None
    settings = Settings(data_dir=tmp_path)
    state = await SimpleWorkflowEngine(tool_runtime(settings, gold.registry)).execute_plan(
        prepare(record.plan, gold.registry, settings))
    assert state.status == "succeeded", state.failure_report()
    if name.startswith("sealtools") and record_id.endswith("192"):
        suffix = state.step("call0").output["suffix"]
        assert isinstance(suffix, str) and suffix  # what call1 received as 'sentence'


def test_widen_arg_keeps_the_other_fields() -> None:
    tool = load_gold("sealtools-out-domain").registry["getUserInfo"]
    wider = widen_arg(tool, "user_id", [str])
    assert wider.parse({"user_id": "abc"}).model_dump()["user_id"] == "abc"
    assert set(wider.args_model.model_fields) == set(tool.args_model.model_fields)


# ---------------------------------------------------------------------------------- reports


def test_gold_report_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dataset", "tmdb", "--dataset", "nestful-sgd", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "tmdb" in printed and "146 of 146 gold records convert and validate" in printed
    data = json.loads((tmp_path / "gold.json").read_text())
    assert [s["dataset"] for s in data["summaries"]] == ["tmdb", "nestful-sgd"]
    assert data["summaries"][1]["notes"]["duplicate_label"] == 2
    assert len(data["records"]["nestful-sgd"]) == 46
    markdown = (tmp_path / "gold.md").read_text()
    assert "## nestful-sgd" in markdown and "duplicate_label" in markdown


def test_cli_convert(tmp_path: Path) -> None:
    result = CliRunner().invoke(eval_app, ["convert", "--dataset", "tmdb", "--out",
                                           str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "100 of 100 gold records" in result.output
    assert (tmp_path / "gold.md").is_file()
    bad = CliRunner().invoke(eval_app, ["convert", "--dataset", "nope"])
    assert bad.exit_code != 0


def test_sources_are_the_shared_files() -> None:
    assert load_gold("tmdb").source == str(dataset_file("gnn4taskplan", "data", "tmdb",
                                                        "data.json"))
