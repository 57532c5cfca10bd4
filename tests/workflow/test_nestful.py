"""NESTFUL executable: every sample converts to a valid plan and runs on the Temporal engine
against stub tools built from its spec, with the data flow checked field by field."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from activities.execution import tool_runtime
from agents.client import JarvisClient
from agents.simple_engine import SimpleWorkflowEngine
from agents.worker import create_worker
from evals.datasets import ENV_VAR, DatasetNotFound
from evals.nestful import (
    Call,
    NestfulSuite,
    Sample,
    SpecGap,
    StubCall,
    build_stub_registry,
    build_suite,
    convert_sample,
    load_nestful,
    main,
    stub_call_args,
    stub_output,
)
from planner.contracts.plan_run import RunState
from planner.plan import Plan
from planner.preparation import prepare
from planner.refs import Ref, iter_refs, parse_ref, parse_template
from planner.schema_paths import PathProblem, schema_at
from planner.settings import Settings
from planner.tools import ToolRegistry
from planner.validation import validate_plan

N_SAMPLES = 85  # the NESTFUL README: "executable 85"
N_SPECS = 39
SIMPLE_ENGINE_SAMPLES = (0, 14, 21, 32, 34, 53, 81)  # interpolation, repair, [0], typos...

# Raw (spec-independent) NESTFUL reference syntax, for checks that must not reuse evals.nestful.
RAW_REF = re.compile(r"\$?(var\d+)((?:\.[^.$\[\]]+|\[\d+\])*)\$")
RAW_TYPES = {"string": "string", "number": "number", "float": "number", "integer": "integer",
             "boolean": "boolean", "array": "array", "object": "object", "enum": "string"}


# ------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def stub_calls() -> list[StubCall]:
    return []


@pytest.fixture(scope="module")
def suite(stub_calls: list[StubCall]) -> NestfulSuite:
    return build_suite("executable", calls=stub_calls)


@pytest.fixture(scope="module")
def raw_specs() -> dict[str, dict[str, Any]]:
    path = load_nestful().folder / "executable-spec.json"
    return {s["name"]: s for s in json.loads(path.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def raw_samples() -> list[dict[str, Any]]:
    path = load_nestful().folder / "executable-data.json"
    samples: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return samples


def tools_of(registry: ToolRegistry) -> dict[str, Any]:
    return {t.name: t for t in registry}


# ---------------------------------------------------------------------- independent helpers


def raw_path(text: str) -> tuple[str | int, ...]:
    return tuple(int(i) if i else k for k, i in re.findall(r"\.([^.$\[\]]+)|\[(\d+)\]", text))


def walk(value: Any, path: tuple[str | int, ...]) -> Any:
    for item in path:
        value = value[item]
    return value


def render(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def expected_value(value: Any, outputs: Mapping[str, Any]) -> Any:
    """What a plan value must become, computed from the producers' actual outputs."""
    if isinstance(value, dict):
        return {k: expected_value(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [expected_value(v, outputs) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    parts = parse_template(value)
    if len(parts) == 1 and isinstance(parts[0], Ref):
        return walk(outputs[parts[0].step], parts[0].path)
    return "".join(render(walk(outputs[p.step], p.path)) if isinstance(p, Ref) else p
                   for p in parts)


def raw_output_node(spec: Mapping[str, Any], path: tuple[str | int, ...]) -> Any:
    """Follow ``path`` through a raw spec's output_parameters; KeyError when it is not there."""
    node: Any = {"type": "object", "properties": spec["output_parameters"]}
    for item in path:
        node = {"type": node} if isinstance(node, str) else node
        node = node["items"] if isinstance(item, int) else node["properties"][item]
    return node


def raw_type(node: Any) -> str:
    kind = node if isinstance(node, str) else node.get("type", "")
    return RAW_TYPES.get(str(kind).lower(), "string")


# ------------------------------------------------------------------------------ conversion


def test_dataset_shape(suite: NestfulSuite) -> None:
    assert len(suite.data.samples) == N_SAMPLES
    assert len(suite.data.specs) == N_SPECS


@pytest.mark.parametrize("index", range(N_SAMPLES))
def test_sample_converts_to_a_valid_plan(suite: NestfulSuite, raw_samples: list[dict[str, Any]],
                                         index: int) -> None:
    plan = suite.plans[index]
    assert plan is not None, f"sample {index} did not convert: {suite.errors[index]}"
    problems = validate_plan(plan, tools_of(suite.registry))
    assert problems == [], f"sample {index}: " + "; ".join(map(str, problems))

    raw = raw_samples[index]
    calls = [c for c in raw["output"] if c["name"] != "var_result"]
    result = next(c for c in raw["output"] if c["name"] == "var_result")
    tool_steps = [s for s in plan.steps if s.tool != "calc"]
    assert [(s.id, s.tool) for s in tool_steps] == [(c["label"], c["name"]) for c in calls], \
        f"sample {index}: steps differ from the calls"
    assert plan.goal == raw["input"].strip()
    assert set(plan.outputs) == set(result["arguments"]), f"sample {index}: outputs differ"
    # every $...$ edge of the sample is a ${...} edge of the plan, same step and same keys
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (c, s.args) for c, s in zip(calls, tool_steps, strict=True)]
    for call, args in [*pairs, (result, plan.outputs)]:
        for key, value in call["arguments"].items():
            raw_edges = [(m.group(1), [p for p in raw_path(m.group(2)) if isinstance(p, str)])
                         for m in RAW_REF.finditer(value)] if isinstance(value, str) else []
            plan_edges = [(r.step, [p for p in r.path if isinstance(p, str)])
                          for r in iter_refs(args[key])]
            assert plan_edges == raw_edges, f"sample {index} {call['name']}.{key}"


def test_report_counts(suite: NestfulSuite) -> None:
    report = suite.report()
    assert report.ok, report.summary()
    assert len(report.samples) == N_SAMPLES
    assert sum(s.field_refs for s in report.samples) > 150  # the data flow is mostly by field
    assert report.gaps_by_kind()  # and the summary lists them
    assert "85 samples" in report.summary()


# ------------------------------------------------------------------------------------ gaps


def test_gaps_are_real_defects(suite: NestfulSuite, raw_specs: dict[str, dict[str, Any]],
                               raw_samples: list[dict[str, Any]]) -> None:
    gaps = suite.report().gaps
    assert gaps
    for gap in gaps:
        check_gap(gap, suite, raw_specs, raw_samples)


def check_gap(gap: SpecGap, suite: NestfulSuite, raw_specs: dict[str, dict[str, Any]],
              raw_samples: list[dict[str, Any]]) -> None:
    where = f"{gap}"
    assert 0 <= gap.sample_index < N_SAMPLES, where
    assert gap.tool in raw_specs, where
    raw = raw_samples[gap.sample_index]
    labels = {c.get("label"): c for c in raw["output"]}
    uses = [c for c in raw["output"] if c["name"] == gap.tool]
    assert uses, f"{where}: the sample does not call {gap.tool}"
    spec = raw_specs[gap.tool]
    params = {**(spec.get("path_parameters") or {}), **(spec.get("query_parameters") or {})}
    plan = suite.plans[gap.sample_index]
    assert plan is not None

    if gap.kind == "unknown_output_field":
        path = parse_ref("x" + gap.field).path
        with pytest.raises(KeyError):
            raw_output_node(spec, path)  # the spec lacks it...
        amended = suite.registry[gap.tool].output_schema
        assert amended is not None
        schema_at(amended, path)  # ...the stub has it (no PathProblem)...
        producers = {s.id for s in plan.steps if s.tool == gap.tool}
        plan_refs = [r for s in plan.steps for r in s.refs()] + list(iter_refs(plan.outputs))
        assert any(r.step in producers and r.path == path for r in plan_refs), where  # ...used
    elif gap.kind == "unknown_arg":
        assert gap.field not in params, where
        assert any(gap.field in c["arguments"] for c in uses), where
    elif gap.kind == "missing_required_arg":
        assert params[gap.field].get("required") is True, where
        assert any(gap.field not in c["arguments"] for c in uses), where
    elif gap.kind == "arg_type_mismatch":
        declared = params[gap.field]
        allowed = declared.get("allowed_values") or declared.get("enum")
        mismatched = []
        for call in uses:
            value = call["arguments"].get(gap.field)
            if isinstance(value, str) and (m := RAW_REF.fullmatch(value)):
                producer = raw_specs[labels[m.group(1)]["name"]]
                got = raw_type(raw_output_node(producer, raw_path(m.group(2))))
                mismatched.append(got != raw_type(declared))
            elif value is not None:
                got = {str: "string", int: "number", float: "number"}.get(type(value), "?")
                mismatched.append((isinstance(allowed, list) and value not in allowed)
                                  or got != raw_type(declared))
        assert any(mismatched), where
    elif gap.kind == "array_first_element":
        path = parse_ref("x" + gap.field).path
        zero = path.index(0)
        assert raw_type(raw_output_node(spec, path[:zero])) == "array", where
    elif gap.kind == "malformed_ref":
        bad = [c["arguments"][gap.field] for c in uses if gap.field in c["arguments"]]
        assert any(not re.fullmatch(r"\$[^$]+\$", v) and RAW_REF.search("$" + v) for v in bad)
    else:
        pytest.fail(f"unexpected gap kind: {where}")


def test_known_defects_are_reported(suite: NestfulSuite) -> None:
    found = {(g.kind, g.tool, g.field, g.sample_index) for g in suite.report().gaps}
    spotify = "Spotify_Scraper_Get_Artist_ID_By_Name"
    assert {("unknown_output_field", spotify, ".id", i) for i in (60, 70, 84)} <= found
    assert ("unknown_output_field", "Coronavirus_Smartable_GetStats", ".stats.totalDeath",
            52) in found
    assert ("unknown_output_field", "SEC_Filings", ".fillings.filingDate", 81) in found
    assert ("array_first_element", "Coronavirus_Smartable_GetNews", ".news[0].webUrl",
            53) in found
    assert ("malformed_ref", "Real-Time_Product_Search_Product_Details", "product_id",
            21) in found
    plan = suite.plans[21]
    assert plan is not None and plan.step("var2").args["product_id"] == "${var1.product_id}"
    plan = suite.plans[14]
    assert plan is not None
    assert parse_template(plan.step("var2").args["numbers"]) == [
        "5 * ", Ref("var1", ("Exchange Rate",))]


def test_stub_outputs_are_shaped_and_deterministic(suite: NestfulSuite) -> None:
    def conforms(value: Any, schema: Mapping[str, Any]) -> bool:
        kind = schema.get("type")
        if kind == "object":
            props = schema.get("properties") or {}
            return isinstance(value, dict) and all(
                k in value and conforms(value[k], s) for k, s in props.items())
        if kind == "array":
            return isinstance(value, list) and all(
                conforms(v, schema.get("items") or {}) for v in value)
        checks: dict[str, Any] = {"string": str, "number": float, "integer": int,
                                  "boolean": bool}
        return kind not in checks or isinstance(value, checks[kind])

    for spec in suite.data.specs:
        tool = suite.registry[spec.name]
        assert tool.output_schema is not None
        a = stub_output(tool.name, tool.output_schema, {"q": "a"})
        assert conforms(a, tool.output_schema), tool.name
        assert set(a) >= set(spec.output_parameters), tool.name
        assert a == stub_output(tool.name, tool.output_schema, {"q": "a"})
        assert a != stub_output(tool.name, tool.output_schema, {"q": "b"}), tool.name


# --------------------------------------------------------------------------------- running


def received_args(step_tool: str, output: Any, calls: list[StubCall]) -> dict[str, Any]:
    """What the stub received in the call that produced ``output``."""
    matches = [c.args for c in calls if c.tool == step_tool and c.output == output]
    assert matches, f"no recorded {step_tool} call produced {output!r:.200}"
    assert all(m == matches[0] for m in matches), f"ambiguous {step_tool} calls"
    return matches[0]


def check_data_flow(index: int, plan: Plan, state: RunState, calls: list[StubCall],
                    registry: ToolRegistry) -> int:
    """Assert each consumer received exactly the producer's output at each referenced path;
    return how many field-level references were checked."""
    outputs = {s.id: s.output for s in state.steps}
    checked = 0
    for step in plan.steps:
        received = received_args(step.tool, outputs[step.id], calls)
        if step.tool != "calc":  # the output is a function of exactly what the tool received
            tool = registry[step.tool]
            assert tool.output_schema is not None
            assert outputs[step.id] == stub_output(
                step.tool, tool.output_schema, stub_call_args(tool, received))
        for key, value in step.args.items():
            refs = list(iter_refs(value))
            if not refs:
                assert received.get(key) == value, f"sample {index} {step.id}.{key}"
                continue
            assert received[key] == expected_value(value, outputs), (
                f"sample {index}: step {step.id} argument {key} = {value}")
            checked += sum(bool(r.path) for r in refs)
    for name, value in plan.outputs.items():
        assert state.outputs[name] == expected_value(value, outputs), (
            f"sample {index}: output {name} = {value}")
        checked += sum(bool(r.path) for r in iter_refs(value))
    return checked


async def run_on_temporal(client: Client, settings: Settings, task_queue: str,
                          suite: NestfulSuite, indexes: list[int]) -> dict[int, RunState]:
    engine = JarvisClient(client, settings.model_copy(update={"task_queue": task_queue}))
    limit = asyncio.Semaphore(20)

    async def run(index: int) -> RunState:
        plan = suite.plans[index]
        assert plan is not None
        async with limit:
            return await engine.execute_plan(prepare(plan, suite.registry, settings))

    worker = create_worker(client, settings, suite.registry, task_queue=task_queue)
    async with worker:
        states = await asyncio.gather(*(run(i) for i in indexes))
    return dict(zip(indexes, states, strict=True))


async def test_every_sample_runs_on_temporal(client: Client, settings: Settings, task_queue: str,
                                             suite: NestfulSuite,
                                             stub_calls: list[StubCall]) -> None:
    states = await run_on_temporal(client, settings, task_queue, suite, list(range(N_SAMPLES)))
    failed = {i: s.failure_report() for i, s in states.items() if s.status != "succeeded"}
    assert not failed, f"runs failed: {failed}"
    checked = 0
    for index, state in states.items():
        plan = suite.plans[index]
        assert plan is not None
        checked += check_data_flow(index, plan, state, stub_calls, suite.registry)
    assert checked == sum(s.field_refs for s in suite.report(include_plans=False).samples)


async def test_simple_engine_gives_the_same_outputs(client: Client, settings: Settings,
                                                    task_queue: str, suite: NestfulSuite) -> None:
    indexes = list(SIMPLE_ENGINE_SAMPLES)
    temporal = await run_on_temporal(client, settings, task_queue, suite, indexes)
    engine = SimpleWorkflowEngine(tool_runtime(settings, suite.registry))
    for index in indexes:
        plan = suite.plans[index]
        assert plan is not None
        simple = await engine.execute_plan(prepare(plan, suite.registry, settings))
        assert simple.status == temporal[index].status == "succeeded", index
        assert simple.outputs == temporal[index].outputs, f"sample {index}"
        assert {s.id: s.output for s in simple.steps} == \
            {s.id: s.output for s in temporal[index].steps}, f"sample {index}"


# ------------------------------------------------------------------------- calc and the CLI


async def test_arithmetic_into_a_number_argument_becomes_a_calc_step(settings: Settings) -> None:
    data = load_nestful()
    math = "CipherCircuit_Math_Assistant_CalculateAllArithmeticOperations"
    sample = Sample(input="Add 2 and 3, then divide 10 by 3 with one decimal less.", output=[
        Call(name=math, arguments={"numbers": "2 + 3"}, label="var1"),
        Call(name=math, arguments={"numbers": "10 / 3", "decimalPlaces": "$var1.answer$ - 1"},
             label="var2"),
        Call(name="var_result", arguments={"result": "$var2.answer$"}),
    ])
    calls: list[StubCall] = []
    registry, gaps = build_stub_registry(data.specs, [sample], calls=calls)
    assert gaps == []
    notes: list[SpecGap] = []
    plan = convert_sample(sample, 0, registry, notes)
    assert [n.kind for n in notes] == ["calc_step"]
    assert validate_plan(plan, tools_of(registry)) == []
    calc = next(s for s in plan.steps if s.tool == "calc")
    assert calc.args == {"expression": "v0 - 1", "variables": {"v0": "${var1.answer}"}}
    assert plan.step("var2").args["decimalPlaces"] == f"${{{calc.id}.value}}"

    state = await SimpleWorkflowEngine(tool_runtime(settings, registry)).execute_plan(
        prepare(plan, registry, settings))
    assert state.status == "succeeded", state.failure_report()
    answer = state.step("var1").output["answer"]
    assert state.step(calc.id).output["value"] == pytest.approx(answer - 1)
    received = received_args(math, state.step("var2").output, calls)
    assert received["decimalPlaces"] == pytest.approx(answer - 1)

    # text over a string field (the spec's "Exchange Rate" is a String) is converted with float()
    fx = Sample(input="fx", output=[
        Call(name="Alpha_Vantage_CURRENCY_EXCHANGE_RATE",
             arguments={"from_currency": "EUR", "to_currency": "USD"}, label="var1"),
        Call(name=math, arguments={"numbers": "1", "decimalPlaces": "2 * $var1.Exchange Rate$"},
             label="var2")])
    registry, _ = build_stub_registry(data.specs, [fx])
    plan = convert_sample(fx, 0, registry)
    calc = next(s for s in plan.steps if s.tool == "calc")
    assert calc.args["expression"] == "2 * float(v0)"
    assert validate_plan(plan, tools_of(registry)) == []


def test_cli_summary_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "nestful.json"
    assert main(["--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "85 samples, 85 converted with zero validation problems" in text
    assert "unknown_output_field" in text
    report = json.loads(out.read_text(encoding="utf-8"))
    assert len(report["samples"]) == N_SAMPLES
    assert report["totals"]["ok"] == N_SAMPLES
    assert all(s["ok"] and s["plan"] for s in report["samples"])


def test_missing_datasets_folder_is_a_clear_error(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(DatasetNotFound, match=ENV_VAR):
        load_nestful()
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(DatasetNotFound, match=r"executable-data\.json"):
        load_nestful()


def test_unknown_steps_are_literal_text() -> None:
    """``$`` text that does not name a label of the sample stays literal (and ``${`` is escaped)."""
    sample = Sample(input="prices", output=[
        Call(name="CipherCircuit_Math_Assistant_CalculateAllArithmeticOperations",
             arguments={"numbers": "$5 + $x.y$ + ${z}"}, label="var1")])
    plan = convert_sample(sample, 0)
    assert plan.step("var1").args["numbers"] == "$5 + $x.y$ + $${z}"
    assert list(iter_refs(plan.step("var1").args)) == []


def test_schema_path_helpers_agree(suite: NestfulSuite) -> None:
    """The amended output schemas still reject what the specs never had."""
    schema = suite.registry["SEC_Filings"].output_schema
    assert schema is not None
    with pytest.raises(PathProblem):
        schema_at(schema, ("filings", "filingDate"))
    schema_at(schema, ("filings", 0, "filingDate"))
