"""Conversions at the step boundary on both engines: a plan that validates (its producer
declares `Any`, as calc's value did, LangChain and MCP tools without output schemas do) runs
with each whole reference converted to its parameter's type the same way on Temporal and on the
simple engine, records what was converted, and fails a step with a precise InvalidArguments
where the table refuses; the shipped 'calculate ... and save it' template writes its number."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from temporalio.client import Client

from activities import default_registry
from activities.payloads import FilePayloadStore, hydrate, is_handle
from agents.client import JarvisClient
from agents.worker import create_worker
from jarvis_planner.testing import ScriptedLLM, reply_json
from planner.plan import Plan
from planner.preparation import prepare
from planner.scheduler import StepStatus
from planner.settings import Settings
from planner.tools import ToolRegistry, tool_from_function
from planner.validation import validate_plan
from tests.workflow.test_engines import run_both


class Emitted(BaseModel):
    value: Any


def emit(value: Any) -> Emitted:
    """Give back ``value``: a producer that declares nothing about its output's type."""
    return Emitted(value=value)


class Received(BaseModel):
    type: str
    value: Any


def take_text(value: str) -> Received:
    return Received(type=type(value).__name__, value=value)


def take_int(value: int) -> Received:
    return Received(type=type(value).__name__, value=value)


def take_number(value: float) -> Received:
    return Received(type=type(value).__name__, value=value)


def take_bool(value: bool) -> Received:
    return Received(type=type(value).__name__, value=value)


def take_texts(value: list[str]) -> Received:
    return Received(type=f"list[{','.join(sorted({type(v).__name__ for v in value}))}]",
                    value=value)


@pytest.fixture
def registry() -> ToolRegistry:
    registry = default_registry()
    for fn in (emit, take_text, take_int, take_number, take_bool, take_texts):
        registry.register(tool_from_function(fn, idempotent=True))
    return registry


BIG = list(range(200))  # over the payload inline limit below: resolved in the activity
# (value emitted, consumer) -> what the consumer receives (type, value) or the refusal's words
CASES: list[tuple[Any, str, tuple[str, Any] | str]] = [
    (84, "take_text", ("str", "84")),
    (2.5, "take_text", ("str", "2.5")),
    (True, "take_text", ("str", "true")),
    ({"a": [1]}, "take_text", ("str", '{"a":[1]}')),
    ("42", "take_int", ("int", 42)),
    (84.0, "take_int", ("int", 84)),
    (" -1.5e1 ", "take_number", ("float", -15.0)),
    ("TRUE", "take_bool", ("bool", True)),
    ("one", "take_texts", ("list[str]", ["one"])),
    ([1, 2], "take_texts", ("list[str]", ["1", "2"])),
    (BIG, "take_texts", ("list[str]", [str(n) for n in BIG])),
    ([1, 2], "take_int", "which item? reference one"),
    (84.5, "take_int", "84.5 is not a whole number"),
    (True, "take_number", "a boolean is not taken as a number"),
    ("abc", "take_number", 'the text "abc" is not a numeral'),
    ({"a": 1}, "take_bool", "reference one of its fields"),
    (None, "take_text", "the value is missing (null)"),
]


def case_plan() -> Plan:
    steps: list[dict[str, Any]] = []
    for i, (value, consumer, _) in enumerate(CASES):
        steps.append({"id": f"e{i}", "tool": "emit", "args": {"value": value}})
        steps.append({"id": f"t{i}", "tool": consumer, "args": {"value": f"${{e{i}.value}}"}})
    steps += [  # the shipped template's plan: a number written as a file's text
        {"id": "calc", "tool": "calc", "args": {"expression": "(17 * 23) + 4"}},
        {"id": "save", "tool": "write_file", "args": {"path": "result.txt",
                                                      "text": "${calc.value}"}},
        {"id": "back", "tool": "read_file", "args": {"path": "${save.path}"}}]
    return Plan.model_validate({"goal": "conversions", "on_failure": "continue",
                                "steps": steps})


async def test_the_table_on_both_engines(client: Client, settings: Settings,
                                         registry: ToolRegistry) -> None:
    plan = case_plan()
    tools = {t.name: t for t in registry}
    assert validate_plan(plan, tools) == []  # emit declares Any: only the run time can tell
    inp = prepare(plan, registry, settings).model_copy(update={"payload_inline_limit": 256})
    temporal, simple = await run_both(client, settings, registry, inp)
    store = FilePayloadStore(settings.payload_dir)
    for state in (temporal, simple):
        for i, (value, consumer, expected) in enumerate(CASES):
            st = state.step(f"t{i}")
            where = f"{state.engine}: {value!r} -> {consumer}"
            if isinstance(expected, str):
                assert st.status is StepStatus.FAILED and st.error is not None, where
                assert st.error.type == "InvalidArguments" and st.attempts == 1, where
                assert f"argument 'value' = ${{e{i}.value}}" in st.error.message, where
                assert expected in st.error.message, (where, st.error.message)
                continue
            assert st.status is StepStatus.SUCCEEDED, (where, st.error)
            output = hydrate(st.output, store)  # the big list's output is in the store
            assert (output["type"], output["value"]) == expected, where
            assert len(st.conversions) == 1 and st.conversions[0].startswith(
                f"value: ${{e{i}.value}} = "), (where, st.conversions)
        big = next(i for i, case in enumerate(CASES) if case[0] is BIG)
        assert is_handle(state.step(f"e{big}").output)  # so t{big} resolved in the activity
        assert state.step("back").output["text"] == "395"
        assert state.step("save").conversions == [
            "text: ${calc.value} = 395 (number, passed as text)"]
        assert state.step("back").conversions == []  # text into text: nothing converted
    assert [(s.id, s.status, s.conversions, s.error and s.error.message)
            for s in temporal.steps] == [
        (s.id, s.status, s.conversions, s.error and s.error.message) for s in simple.steps]
    assert temporal.step("t1").conversions == ["value: ${e1.value} = 2.5 (number, passed as text)"]


async def test_the_shipped_calculate_and_save_template_writes_its_number(
        client: Client, settings: Settings) -> None:
    """Before conversions this goal failed after approval: calc's number into write_file's
    text was refused by the argument model. The review shows the conversion; the run records
    it."""
    offline = settings.model_copy(update={"embedding_backend": "hashing"})
    jarvis = JarvisClient(client, offline)
    async with create_worker(client, offline, default_registry()):
        goal_id = await jarvis.submit("calculate (2 + 3) * 7 and save it to total.txt")
        waiting = await jarvis.wait_for_review(goal_id)
        assert waiting.stage == "awaiting_approval" and waiting.source == "template", waiting
        assert waiting.plan_digest is not None
        assert waiting.conversions == {"save": {"text": "number or boolean, passed as text"}}
        await jarvis.approve(goal_id, waiting.plan_digest, by="test")
        done = await jarvis.result(goal_id)
    assert done.stage == "succeeded", done.message
    assert done.run is not None
    assert done.run.step("save").conversions == [
        "text: ${calc.value} = 35 (number, passed as text)"]
    assert (offline.workspace_dir / "total.txt").read_text() == "35"


async def test_a_type_mismatch_is_repaired_before_review(
        client: Client, settings: Settings, scripted_llm: ScriptedLLM) -> None:
    """calc's declared value lets the validator see a list passed where a number goes: the
    problem goes to the LLM with the repair request, and the person reviews the fixed plan."""
    llm = settings.model_copy(update={
        "llm_base_url": scripted_llm.base_url, "llm_api_key": "scripted-key",
        "llm_model": scripted_llm.model, "llm_timeout_s": 10.0, "embedding_backend": "hashing"})

    def draft(seconds: str) -> dict[str, Any]:
        return {"goal": GOAL, "steps": [
            {"id": "ls", "tool": "list_files", "args": {"path": "."}},
            {"id": "n", "tool": "calc", "args": {"expression": "3 - 2"}},
            {"id": "pause", "tool": "wait", "args": {"seconds": seconds}},
            {"id": "log", "tool": "notes_append", "args": {"text": "${n.value}"},
             "deps": ["pause"]}]}

    scripted_llm.expect(reply_json(draft("${ls.entries}")))
    scripted_llm.expect(reply_json(draft("${n.value}")),
                        expects_text_in_messages="which item? reference one")
    jarvis = JarvisClient(client, llm)
    async with create_worker(client, llm, default_registry()):
        goal_id = await jarvis.submit(GOAL)
        waiting = await jarvis.wait_for_review(goal_id)
        assert waiting.stage == "awaiting_approval" and waiting.repair_rounds == 1, waiting
        assert waiting.problems == []
        assert waiting.plan is not None and waiting.plan.steps[2].args == {
            "seconds": "${n.value}"}
        assert waiting.conversions == {"log": {"text": "number or boolean, passed as text"}}
        assert waiting.plan_digest is not None
        await jarvis.approve(goal_id, waiting.plan_digest, by="test")
        done = await jarvis.result(goal_id)
    assert done.stage == "succeeded", done.message
    assert done.run is not None and done.run.step("pause").output == {"seconds": 1.0}
    assert '"text": "1"' in (llm.data_dir / "notes.jsonl").read_text()


GOAL = "wait as many seconds as there are files, then note it"
