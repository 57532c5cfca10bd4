"""Traces of goals, read back from OpenTelemetry's in-memory exporter: a worker in this process
with temporalio's tracing interceptor (agents.tracing), goals on the real dev server, the
scripted LLM server for the planner and the ``llm`` tool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from activities import default_registry
from activities.errors import ToolError
from agents import tracing
from agents.client import JarvisClient
from agents.connection import connect
from agents.worker import create_worker
from jarvis_planner.testing import ScriptedLLM, reply_json, reply_text
from planner.contracts.goal_flow import GoalState
from planner.plan import Plan
from planner.preparation import prepare
from planner.retry import RetrySpec
from planner.settings import Settings
from planner.tools import Risk, ToolRegistry, tool_from_function

LLM_PLAN: dict[str, Any] = {"goal": "summarize and save", "steps": [
    {"id": "sum", "tool": "llm", "args": {"task": "summarize", "input": "Long text. " * 20}},
    {"id": "save", "tool": "write_file", "args": {"path": "s.txt", "text": "${sum.text}"}}],
    "outputs": {"summary": "${sum.text}"}}
FAILING_PLAN: dict[str, Any] = {"goal": "call the broken service", "steps": [
    {"id": "call", "tool": "broken_service", "args": {"what": "status"}}]}


def broken_service(what: str) -> dict[str, Any]:
    """A service that is always down (a retryable failure)."""
    raise ToolError(f"the service is down (asked for {what})")


@dataclass
class Traced:
    jarvis: JarvisClient
    exporter: InMemorySpanExporter
    registry: ToolRegistry

    def spans_of(self, goal_id: str, workflow: str = "jarvis.Goal") -> list[ReadableSpan]:
        """Every span of the goal's (or plan run's) trace (the trace its start opened)."""
        spans = self.exporter.get_finished_spans()
        start = one(s for s in spans if s.name == f"StartWorkflow:{workflow}"
                    and s.attributes is not None
                    and s.attributes.get("temporalWorkflowID") == goal_id)
        return [s for s in spans if trace_id(s) == trace_id(start)]


@pytest.fixture
async def traced(temporal_address: str, settings: Settings,
                 scripted_llm: ScriptedLLM) -> AsyncIterator[Traced]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    client = await connect(temporal_address, interceptors=[tracing.install(provider)])
    llm_settings = settings.model_copy(update={
        "llm_base_url": scripted_llm.base_url, "llm_api_key": "scripted-key",
        "llm_model": scripted_llm.model, "llm_timeout_s": 10.0, "embedding_backend": "hashing"})
    registry = registry_with_broken_service()
    try:
        async with create_worker(client, llm_settings, registry):
            yield Traced(JarvisClient(client, llm_settings), exporter, registry)
    finally:
        tracing.uninstall()
        provider.shutdown()


def registry_with_broken_service() -> ToolRegistry:
    registry = default_registry()
    registry.register(tool_from_function(
        broken_service, risk=Risk.SIDE_EFFECTING, idempotent=True,
        retry=RetrySpec(max_attempts=2, initial_interval_s=0.05)))
    return registry


async def test_a_goal_is_one_trace_with_its_activities_llm_calls_and_tool_calls(
        traced: Traced, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(LLM_PLAN, prompt_tokens=100, completion_tokens=50))
    scripted_llm.expect(reply_text("A short summary.", prompt_tokens=20, completion_tokens=5),
                        expects_text_in_messages="Summarize the input")
    goal_id = await traced.jarvis.submit("Summarize my text and save it", policy="approve-all")
    assert (await traced.jarvis.result(goal_id)).stage == "succeeded"
    queried = await traced.jarvis.last_state(goal_id, GoalState)  # a query makes no trace
    assert queried is not None and queried.stage == "succeeded"
    assert not [s.name for s in traced.exporter.get_finished_spans() if "Query" in s.name]

    spans = traced.spans_of(goal_id)
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    root = one(s for s in spans if s.parent is None)
    assert root.name == "StartWorkflow:jarvis.Goal"
    run = named(spans, "RunWorkflow:jarvis.Goal")
    assert ancestors(run, by_id)[-1] is root
    # the workflow's spans carry the goal; every activity runs under its StartActivity span
    for name in ("planner.retrieve", "planner.draft", "planner.prepare", "tool.llm",
                 "tool.write_file", "planner.remember"):
        started = named(spans, f"StartActivity:{name}")
        ran = named(spans, f"RunActivity:{name}")
        assert attrs(started)["temporalWorkflowID"] == goal_id
        assert parent_id(ran) == span_id(started), name
        assert ancestors(started, by_id)[-1] is root
    # two LLM calls: the planner's draft and the `llm` step, each a GenAI client span
    chats = [s for s in spans if s.name == f"chat {scripted_llm.model}"]
    assert len(chats) == 2
    draft = one(s for s in chats
                if by_id[parent_id(s)].name == "RunActivity:planner.draft")
    assert {k: attrs(draft)[k] for k in (
        "gen_ai.operation.name", "gen_ai.system", "gen_ai.provider.name", "gen_ai.request.model",
        "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")} == {
        "gen_ai.operation.name": "chat", "gen_ai.system": "openai",
        "gen_ai.provider.name": "openai", "gen_ai.request.model": scripted_llm.model,
        "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 50}
    assert tuple(attrs(draft)["gen_ai.response.finish_reasons"]) == ("stop",)
    step_chat = one(s for s in chats if s is not draft)
    tool_llm = by_id[parent_id(step_chat)]
    assert tool_llm.name == "execute_tool llm"
    assert attrs(step_chat)["gen_ai.usage.input_tokens"] == 20
    assert by_id[parent_id(tool_llm)].name == "RunActivity:tool.llm"
    save = named(spans, "execute_tool write_file")
    assert {k: attrs(save)[k] for k in ("gen_ai.tool.name", "jarvis.step", "jarvis.attempt",
                                         "jarvis.outcome")} == {
        "gen_ai.tool.name": "write_file", "jarvis.step": "save", "jarvis.attempt": 1,
        "jarvis.outcome": "succeeded"}
    assert save.status.status_code is not StatusCode.ERROR
    # the stages, as zero-duration marks in the goal's trace
    stages = sorted((s for s in spans if s.name.startswith("Stage:")),
                    key=lambda s: s.start_time or 0)
    assert [attrs(s)["jarvis.stage"] for s in stages] == [
        "retrieving", "planning", "executing", "succeeded", "remembering", "succeeded"]
    assert all(parent_id(s) == span_id(root) for s in stages)


async def test_a_pure_step_run_in_the_workflow_is_a_mark_in_the_trace(
        traced: Traced) -> None:
    """A pure tool's steps (calc) have no activity: each attempt is a zero-duration
    ``execute_tool`` mark from the workflow, with its outcome and error type."""
    plan = Plan.model_validate({"goal": "multiply, then divide by zero", "steps": [
        {"id": "n", "tool": "calc", "args": {"expression": "6 * 7"}},
        {"id": "bad", "tool": "calc", "args": {"expression": "n / 0", "variables": {
            "n": "${n.value}"}}}]})
    inp = prepare(plan, traced.registry, traced.jarvis.settings)
    run_id = await traced.jarvis.start_plan(inp)
    state = await traced.jarvis.plan_result(run_id)
    assert state.status == "failed" and state.step("n").inline and state.step("bad").inline
    error = state.step("bad").error
    assert error is not None
    spans = traced.spans_of(run_id, "jarvis.ExecutePlan")
    marks = {attrs(s)["jarvis.step"]: s for s in spans if s.name == "execute_tool calc"}
    assert set(marks) == {"n", "bad"}, [s.name for s in spans]
    assert {k: attrs(marks["n"])[k] for k in ("jarvis.outcome", "jarvis.inline",
                                               "jarvis.attempt")} == {
        "jarvis.outcome": "succeeded", "jarvis.inline": True, "jarvis.attempt": 1}
    assert attrs(marks["bad"])["jarvis.outcome"] == "failed"
    assert attrs(marks["bad"])["error.type"] == error.type
    assert not [s for s in spans if s.name.endswith(":tool.calc")], "no activity"


async def test_a_failed_step_shows_each_attempt_with_an_error_status(
        traced: Traced, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(FAILING_PLAN))
    goal_id = await traced.jarvis.submit("Call the broken service", policy="approve-all")
    assert (await traced.jarvis.result(goal_id)).stage == "failed"

    spans = traced.spans_of(goal_id)
    attempts = sorted((s for s in spans if s.name == "execute_tool broken_service"),
                      key=lambda s: attrs(s)["jarvis.attempt"])
    assert [attrs(s)["jarvis.attempt"] for s in attempts] == [1, 2]
    for span in attempts:
        assert attrs(span)["jarvis.outcome"] == "failed"
        assert attrs(span)["error.type"] == "ToolError"
        assert attrs(span)["jarvis.retryable"] is True
        assert span.status.status_code is StatusCode.ERROR
        assert "the service is down" in (span.status.description or "")
    runs = [s for s in spans if s.name == "RunActivity:tool.broken_service"]
    assert len(runs) == 2 and all(s.status.status_code is StatusCode.ERROR for s in runs)
    assert any(s.name == "CompleteWorkflow:jarvis.Goal" for s in spans)


async def test_a_template_goal_has_its_own_trace_without_llm_spans(traced: Traced) -> None:
    first = await traced.jarvis.submit("remember that the car needs new tyres in March",
                                       policy="approve-all")
    second = await traced.jarvis.submit("remember that the bins go out on Tuesday",
                                        policy="approve-all")
    for goal_id in (first, second):
        state = await traced.jarvis.result(goal_id)
        assert state.stage == "succeeded" and state.source == "template", state.message
    one_trace, other_trace = traced.spans_of(first), traced.spans_of(second)
    assert {trace_id(s) for s in one_trace}.isdisjoint({trace_id(s) for s in other_trace})
    names = {s.name for s in one_trace}
    assert {"RunWorkflow:jarvis.Goal", "RunActivity:planner.retrieve",
            "RunActivity:planner.prepare", "execute_tool notes_append"} <= names, names
    assert not any(n.startswith("chat ") for n in names)
    assert "RunActivity:planner.draft" not in names


def one(items: Any) -> ReadableSpan:
    found = list(items)
    assert len(found) == 1, [s.name for s in found]
    return found[0]


def named(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    return one(s for s in spans if s.name == name)


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


def parent_id(span: ReadableSpan) -> int:
    assert span.parent is not None, f"{span.name} has no parent"
    return span.parent.span_id


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    """The span's parents up to the root of its trace (all must be in ``by_id``)."""
    chain = []
    while span.parent is not None:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


@pytest.mark.parametrize("sandboxed", [False, True], ids=["unsandboxed", "sandboxed"])
async def test_workflow_spans_are_not_repeated_when_every_task_replays(
        traced: Traced, task_queue: str, sandboxed: bool) -> None:
    """A worker without a workflow cache replays the whole history on every task: the
    interceptor makes no span while replaying, so each span appears once; the same with the
    runner the workers use (unsandboxed) and in the SDK's sandbox."""
    settings = traced.jarvis.settings.model_copy(update={"task_queue": task_queue + "-nocache"})
    jarvis = JarvisClient(traced.jarvis.temporal, settings)
    async with create_worker(jarvis.temporal, settings, traced.registry,
                             max_cached_workflows=0, sandboxed=sandboxed):
        goal_id = await jarvis.submit("remember that the car needs new tyres in March",
                                      policy="approve-all")
        assert (await jarvis.result(goal_id)).stage == "succeeded"
    names = [s.name for s in traced.spans_of(goal_id)]
    repeated = {n for n in names if names.count(n) > 1 and n != "Stage:succeeded"}
    assert not repeated, repeated
    assert names.count("Stage:succeeded") == 2  # after the run, and again after remembering
    assert {"StartActivity:planner.retrieve", "StartActivity:planner.prepare",
            "StartActivity:tool.notes_append", "StartActivity:planner.remember",
            "CompleteWorkflow:jarvis.Goal"} <= set(names)
