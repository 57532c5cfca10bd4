"""GNN4TaskPlan's model plans through TaskBench conversion -> parse_plan_output -> validate_plan:
every record classified, known model errors classified right, accepted plans runnable."""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from evals.datasets import dataset_file
from evals.gnn4taskplan import FileReport, evaluate_all, main, render_table
from evals.taskbench import (
    ConversionOutcome,
    TaskBenchTools,
    ToolSpec,
    build_registry,
    evaluate_record,
    literal_kinds,
    load_tool_specs,
    node_refs,
    record_to_plan,
    stub_output,
)
from planner.plan import Plan
from planner.refs import resolve
from planner.tools import ToolContext

# The GNN4TaskPlan README: "Counts: HF CodeLlama 497, HF Mistral 489, MM CodeLlama 498,
# MM Mistral 487" and "56 (HF Mistral) and 162 (MM Mistral) links name tasks that are absent".
COUNTS = {("huggingface", "CodeLlama-13b"): 497, ("huggingface", "mistral-7b"): 489,
          ("multimedia", "CodeLlama-13b"): 498, ("multimedia", "mistral-7b"): 487}
ABSENT_LINKS = {("huggingface", "mistral-7b"): 56, ("multimedia", "mistral-7b"): 162}
N_TOOLS = {"huggingface": 23, "multimedia": 40}
BUDGET_S = 20.0


@pytest.fixture(scope="module")
def timed_reports() -> tuple[list[FileReport], float]:
    started = time.perf_counter()
    reports = evaluate_all(keep_plans=True)
    return reports, time.perf_counter() - started


@pytest.fixture(scope="module")
def reports(timed_reports: tuple[list[FileReport], float]) -> dict[tuple[str, str], FileReport]:
    return {(r.domain, r.model): r for r in timed_reports[0]}


def raw_records(domain: str, model: str) -> list[dict[str, Any]]:
    path = dataset_file("gnn4taskplan", "prediction", domain, model, "direct.json")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def raw_tool_ids(domain: str) -> set[str]:
    path = dataset_file("taskbench", f"data_{domain}", "tool_desc.json")
    return {node["id"] for node in json.loads(path.read_text(encoding="utf-8"))["nodes"]}


# ------------------------------------------------------------------------------ the files


def test_all_four_files_fast_and_fully_counted(
        timed_reports: tuple[list[FileReport], float]) -> None:
    reports, seconds = timed_reports
    assert seconds < BUDGET_S
    assert {(r.domain, r.model): r.records for r in reports} == COUNTS
    for r in reports:
        assert r.accepted + r.repair_needed + r.rejected == r.records == len(r.results)
        assert [x.index for x in r.results] == list(range(r.records))
        assert r.accepted > 0, f"{r.name}: some plans are valid as they are"
        assert r.repair_needed > 0


def test_verdicts_follow_the_codes(reports: dict[tuple[str, str], FileReport]) -> None:
    for report in reports.values():
        for result in report.results:
            assert (result.verdict == "accepted") == (not result.codes), result
            if result.verdict == "rejected":
                assert {p.code for p in result.problems} <= {"unparseable", "bad_plan_shape"}
            else:
                assert result.steps > 0 and result.plan_json is not None
            assert result.fixes == [], "our own JSON needs no parser fix"


@pytest.mark.parametrize(("domain", "model"), sorted(COUNTS))
def test_tools_absent_from_tool_desc_need_repair(
        reports: dict[tuple[str, str], FileReport], domain: str, model: str) -> None:
    known = raw_tool_ids(domain)
    results = reports[(domain, model)].results
    hallucinating = 0
    for record, result in zip(raw_records(domain, model), results, strict=True):
        assert result.id == record["id"]
        unknown = {n.get("task") for n in record["task_nodes"]} - known
        assert ("unknown_tool" in result.codes) == bool(unknown), (record["id"], unknown)
        if unknown:
            hallucinating += 1
            assert result.verdict == "repair_needed"
            named = {p.message.split("'")[1] for p in result.problems if p.code == "unknown_tool"}
            assert named == unknown
    assert hallucinating > 0


@pytest.mark.parametrize(("domain", "model"), sorted(ABSENT_LINKS))
def test_links_to_absent_tasks_are_defects(
        reports: dict[tuple[str, str], FileReport], domain: str, model: str) -> None:
    total = 0
    for record, result in zip(raw_records(domain, model),
                              reports[(domain, model)].results, strict=True):
        tasks = {n.get("task") for n in record["task_nodes"]}
        bad = [link for link in record["task_links"]
               if not all(isinstance(link.get(end), str) and link[end] in tasks
                          for end in ("source", "target"))]
        total += len(bad)
        kinds = [i.kind for i in result.issues
                 if i.kind in ("dangling_link", "bad_link", "link_by_index")]
        assert len(kinds) == len(bad), (record["id"], bad, kinds)
        if "dangling_link" in kinds or "bad_link" in kinds:
            assert result.verdict == "repair_needed"
    assert total == ABSENT_LINKS[(domain, model)]


def test_accepted_plans_run_on_the_stubs(reports: dict[tuple[str, str], FileReport]) -> None:
    """Execute every accepted plan in dependency order: each reference resolves in the stubs'
    actual outputs and every resolved call passes the tool's argument model."""
    for (domain, _), report in reports.items():
        tools = domain_tools(domain)
        for result in report.results:
            if result.verdict != "accepted":
                continue
            assert result.plan_json is not None
            plan = Plan.model_validate_json(result.plan_json)
            outputs = run_on_stubs(plan, tools)
            assert set(outputs) == {s.id for s in plan.steps}


def run_on_stubs(plan: Plan, tools: TaskBenchTools) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    waiting = plan.dependency_map()
    while waiting:
        ready = sorted(s for s, deps in waiting.items() if deps <= set(outputs))
        assert ready, f"stuck with {sorted(waiting)}"
        for step_id in ready:
            step = plan.step(step_id)
            args = resolve(step.args, outputs)
            tools.tools[step.tool].parse(args)
            outputs[step_id] = stub_output(tools.index[step.tool], args)
            del waiting[step_id]
    return outputs


def test_report_script_writes_json_and_markdown(
        timed_reports: tuple[list[FileReport], float], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("evals.gnn4taskplan.evaluate_all", lambda _: timed_reports[0])
    assert main(["--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for domain, model in COUNTS:
        assert f"{domain}/{model}" in printed
    dump = json.loads((tmp_path / "gnn4taskplan.json").read_text(encoding="utf-8"))
    assert [f["records"] for f in dump["files"]] == [COUNTS[(f["domain"], f["model"])]
                                                    for f in dump["files"]]
    markdown = (tmp_path / "gnn4taskplan.md").read_text(encoding="utf-8")
    assert "| huggingface/CodeLlama-13b | 497 |" in markdown


def test_keeping_argument_names_only_adds_argument_problems(
        reports: dict[tuple[str, str], FileReport]) -> None:
    strict = evaluate_all("keep")
    for report in strict:
        by_type = reports[(report.domain, report.model)]
        assert report.records == by_type.records
        assert report.accepted <= by_type.accepted
    assert "accepted" in render_table(strict)


# ---------------------------------------------------------------------- stub tools, specs


def test_stub_registry_from_tool_desc() -> None:
    for domain, count in N_TOOLS.items():
        specs = load_tool_specs(domain)
        assert len(build_registry(specs)) == count
    tools = TaskBenchTools.load("multimedia")
    splicer = tools.tools["Audio Splicer"]
    assert list(splicer.args_model.model_fields) == ["audio", "audio_2"]
    assert tools.tools["Image Search"].output_schema is not None
    assert list(tools.tools["Image Search"].output_schema["properties"]) == ["image"]
    similarity = TaskBenchTools.load("huggingface").tools["Sentence Similarity"]
    assert similarity.output_schema == {"type": "object", "additionalProperties": False,
                                        "required": [], "properties": {}}


def test_dailylife_specs_use_parameter_names() -> None:
    specs = load_tool_specs("dailylifeapis")
    tool = build_registry(specs)["get_weather"]
    assert list(tool.args_model.model_fields) == ["location", "date"]
    assert tool.output_schema is None


async def test_stub_outputs_are_deterministic(tmp_path: Path) -> None:
    tools = TaskBenchTools.load("multimedia")
    ctx = ToolContext(workspace=tmp_path, data_dir=tmp_path)
    args = {"image": "a.jpg", "image_2": "b.jpg"}
    first = await tools.tools["Image Stitcher"].invoke(args, ctx)
    again = await tools.tools["Image Stitcher"].invoke(dict(args), ctx)
    other = await tools.tools["Image Stitcher"].invoke({**args, "image_2": "c.jpg"}, ctx)
    assert first == again == stub_output(tools.index["Image Stitcher"], args)
    assert list(first) == ["image"] and first != other


# ------------------------------------------------------------------------------ conversion

@cache
def domain_tools(domain: str) -> TaskBenchTools:
    return TaskBenchTools.load(domain)


def convert(nodes: list[Any], links: list[Any] | None = None, domain: str = "multimedia",
            **kwargs: Any) -> ConversionOutcome:
    record = {"id": "t", "user_request": "do it", "task_nodes": nodes, "task_links": links or []}
    return record_to_plan(record, domain_tools(domain).index, **kwargs)


def steps(outcome: ConversionOutcome) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = outcome.plan["steps"]
    return result


def verdict(nodes: list[Any], links: list[Any] | None = None, domain: str = "multimedia",
            **kwargs: Any) -> tuple[str, list[str]]:
    record = {"id": "t", "user_request": "do it", "task_nodes": nodes, "task_links": links or []}
    result = evaluate_record(record, domain_tools(domain), **kwargs)
    return result.verdict, result.codes


def kinds(outcome: ConversionOutcome) -> list[str]:
    return [i.kind for i in outcome.issues]


def test_node_references_become_typed_step_references() -> None:
    nodes = [{"task": "Audio Downloader", "arguments": ["https://x.org/talk.wav"]},
             {"task": "Audio Effects", "arguments": ["Add reverb ${x}", "<node-0>"]},
             {"task": "Text Summarizer", "arguments": ["Summarise <node-1> and <node-0>"]}]
    out = convert(nodes)
    assert [s["id"] for s in steps(out)] == ["s0", "s1", "s2"]
    assert steps(out)[0]["args"] == {"url": "https://x.org/talk.wav"}
    assert steps(out)[1]["args"] == {"audio": "${s0.audio}", "text": "Add reverb $${x}"}
    assert steps(out)[2]["args"] == {"text": "Summarise ${s1.text} and ${s0.text}"}
    assert verdict(nodes[:2]) == ("accepted", [])
    # audio fed to a text input: the validator sees that the producer has no such field
    assert verdict(nodes) == ("repair_needed", ["unknown_field"])


def test_values_go_to_inputs_by_type_like_taskbench() -> None:
    nodes = [{"task": "Visual Question Answering",
              "arguments": ["What is on the table?", "example.jpg"]}]
    assert steps(convert(nodes, domain="huggingface"))[0]["args"] == {
        "image": "example.jpg", "text": "What is on the table?"}
    assert literal_kinds("https://x.org/a.wav") == {"url", "text", "audio"}
    assert literal_kinds("a photo of a cat.jpg") == {"text"}


def test_named_arguments() -> None:
    nodes = [{"task": "Text-to-Image", "arguments": [{"name": "text", "value": "a cat"}]},
             {"task": "Image Colorizer", "arguments": [{"name": "input_image",
                                                        "value": "<node-0>"}]}]
    out = convert(nodes)
    assert steps(out)[1]["args"] == {"image": "${s0.image}"}
    assert kinds(out) == ["arg_name_ignored"]
    assert verdict(nodes) == ("accepted", [])
    kept = convert(nodes, named_args="keep")
    assert steps(kept)[1]["args"] == {"input_image": "${s0.image}"}
    assert verdict(nodes, named_args="keep") == ("repair_needed", ["invalid_args"])


def test_odd_argument_forms() -> None:
    nodes = [{"task": "Image Colorizer", "arguments": [{"name": "old.jpg"}]},
             {"task": "Image Colorizer", "arguments": None},
             {"task": "Image Colorizer"},
             {"task": "Image Colorizer", "arguments": ["a.jpg", "b.jpg", 1.5]}]
    out = convert(nodes)
    assert [s["args"] for s in steps(out)] == [
        {"image": "old.jpg"}, {}, {}, {"image": "a.jpg", "arg1": "b.jpg", "arg2": 1.5}]
    assert kinds(out) == ["value_in_name", "arguments_null", "arguments_null"]
    assert verdict(nodes) == ("repair_needed", ["invalid_args"])


def test_references_inside_lists_are_converted_too() -> None:
    nodes = [{"task": "Audio Downloader", "arguments": ["https://a.org/x.wav"]},
             {"task": "Audio Downloader", "arguments": ["https://a.org/y.wav"]},
             {"task": "Audio Splicer", "arguments": [{"name": "audio",
                                                      "value": ["<node-0>", "<node-1> ${z}"]}]}]
    out = convert(nodes)
    assert steps(out)[2]["args"] == {"audio": ["${s0.audio}", "${s1.audio} $${z}"]}
    links = [{"source": "Audio Downloader", "target": "Audio Splicer"}]
    assert "deps" not in steps(convert(nodes, links))[2], "implied by the references"
    assert verdict(nodes) == ("repair_needed", ["invalid_args"])  # a list, and audio_2 missing


def test_unknown_tools_keep_positional_arguments() -> None:
    nodes = [{"task": "Text Extractor", "arguments": ["page.html"]},
             {"task": "Text Summarizer", "arguments": ["<node-0>"]}]
    out = convert(nodes)
    assert steps(out)[0] == {"id": "s0", "tool": "Text Extractor", "args": {"arg0": "page.html"}}
    assert steps(out)[1]["args"] == {"text": "${s0.text}"}
    assert verdict(nodes) == ("repair_needed", ["unknown_tool"])


def test_placeholders_variants_and_counting_from_one() -> None:
    parts, variants, placeholders = node_refs("<Node-1> then <output_of_step_1> <https://a.b>")
    assert variants == ["<Node-1>"] and placeholders == ["<output_of_step_1>"]
    assert len(parts) == 2
    nodes = [{"task": "Text-to-Audio", "arguments": ["hello"]},
             {"task": "Audio Noise Reduction", "arguments": ["<node-1>"]}]
    out = convert(nodes)
    assert "one_based_refs" in kinds(out)
    assert verdict(nodes) == ("repair_needed", ["not_ancestor"])  # a self reference
    nodes = [{"task": "Audio Noise Reduction", "arguments": ["<output of step 1>"]}]
    assert verdict(nodes) == ("repair_needed", ["placeholder_arg"])


def test_links_become_deps() -> None:
    nodes = [{"task": "Text Search", "arguments": ["cats"]},
             {"task": "Text-to-Image", "arguments": ["a cat"]},
             {"task": "Image Colorizer", "arguments": ["<node-1>"]}]
    links = [{"source": "Text Search", "target": "Text-to-Image"},
             {"source": "Text-to-Image", "target": "Image Colorizer"}]
    out = convert(nodes, links)
    assert steps(out)[1]["deps"] == ["s0"]
    assert "deps" not in steps(out)[2], "already implied by the reference"
    assert verdict(nodes, links) == ("accepted", [])


def test_repeated_tools_resolve_links_deterministically() -> None:
    nodes = [{"task": "Text Translator", "arguments": ["hola"]},
             {"task": "Text Summarizer", "arguments": ["<node-0>"]},
             {"task": "Text Translator", "arguments": ["<node-1>"]},
             {"task": "Text Summarizer", "arguments": ["<node-2>"]}]
    links = [{"source": "Text Translator", "target": "Text Summarizer"},
             {"source": "Text Summarizer", "target": "Text Translator"},
             {"source": "Text Translator", "target": "Text Summarizer"}]
    out = convert(nodes, links)
    notes = [i.detail for i in out.issues if i.kind == "ambiguous_link"]
    assert [n.split("; used ")[1] for n in notes] == ["s0 -> s1", "s1 -> s2", "s2 -> s3"]
    assert all("deps" not in s for s in steps(out))
    assert verdict(nodes, links) == ("accepted", [])


def test_bad_links_are_defects() -> None:
    nodes = [{"task": "Text Search", "arguments": ["cats"]},
             {"task": "Text Summarizer", "arguments": ["<node-0>"]}]
    dangling = [{"source": "Text Search", "target": "Text Grammar Checker"}]
    assert verdict(nodes, dangling) == ("repair_needed", ["dangling_link"])
    malformed = [{"source": "Text Search", "targets": ["Text Summarizer"]}]
    assert verdict(nodes, malformed) == ("repair_needed", ["bad_link"])
    by_index = [{"source": 0, "target": 1}]
    assert verdict(nodes, by_index) == ("accepted", [])
    assert kinds(convert(nodes, by_index)) == ["link_by_index"]
    backwards = [{"source": "Text Summarizer", "target": "Text Search"}]
    assert verdict(nodes, backwards) == ("repair_needed", ["cycle"])


def test_records_that_are_no_plan_are_rejected() -> None:
    assert verdict([]) == ("rejected", ["bad_plan_shape"])
    assert verdict(["Text Search"]) == ("rejected", ["bad_plan_shape"])
    assert verdict([{"arguments": ["x"]}]) == ("rejected", ["bad_plan_shape"])
    result = evaluate_record("not a record", domain_tools("multimedia"))
    assert result.verdict == "rejected"


def test_specs_parse_both_formats() -> None:
    resource = ToolSpec.model_validate({"id": "T", "input-type": ["Text", "text"],
                                        "output-type": ["Image"]})
    assert resource.inputs() == [("text", "text"), ("text_2", "text")]
    assert resource.outputs() == ["image"]
    named = ToolSpec.model_validate({"id": "N", "parameters": [{"name": "q", "type": "string"}]})
    assert named.inputs() == [("q", None)] and named.outputs() is None
