"""parse_plan_output: a corpus of realistic broken LLM answers, each ending in a valid plan (with
the fixes it needed) or in precise problems; then the parser's promises one by one."""

from __future__ import annotations

import copy
import json
import time
from functools import cache
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from activities import default_registry
from planner.parsing import ParseOutcome, parse_plan_output
from planner.plan import Plan
from planner.tools import Tool
from planner.validation import validate_plan
from tests.paths import DATA

CORPUS = DATA / "llm_outputs"
MIN_CORPUS = 25


class CorpusItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str
    expect: str = Field(pattern="^(plan|problems)$")
    input: str = Field("text", pattern="^(text|json)$")
    goal: str | None = None
    fixes: list[str] = Field(default_factory=list)
    validator: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    codes: list[str] = Field(default_factory=list)
    messages: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)

    def raw(self) -> str | dict[str, Any]:
        text = (CORPUS / self.file).read_text(encoding="utf-8")
        if self.input == "json":
            data: dict[str, Any] = json.loads(text)
            return data
        return text


def corpus() -> list[CorpusItem]:
    index = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
    return [CorpusItem.model_validate(item) for item in index["items"]]


@cache
def tools() -> dict[str, Tool]:
    return {t.name: t for t in default_registry()}


def parse(item: CorpusItem) -> ParseOutcome:
    return parse_plan_output(item.raw(), goal=item.goal)


# ---------------------------------------------------------------------------------- corpus


def test_corpus_is_large_and_indexed_exactly() -> None:
    items = corpus()
    assert len(items) >= MIN_CORPUS
    files = {p.name for p in CORPUS.iterdir() if p.name != "index.json"}
    assert sorted(files) == sorted(i.file for i in items), "every corpus file has one entry"
    assert {i.expect for i in items} == {"plan", "problems"}


@pytest.mark.parametrize("item", corpus(), ids=lambda i: i.file)
def test_corpus_item(item: CorpusItem) -> None:
    outcome = parse(item)
    if item.expect == "plan":
        assert outcome.problems == [], [str(p) for p in outcome.problems]
        assert outcome.plan is not None and outcome.ok
        assert len(outcome.fixes) == len(item.fixes), outcome.fixes
        for fix, expected in zip(outcome.fixes, item.fixes, strict=True):
            assert fix.startswith(expected), (fix, expected)
        assert [s.tool for s in outcome.plan.steps] == item.tools
        codes = sorted({p.code for p in validate_plan(outcome.plan, tools())})
        assert codes == item.validator
    else:
        assert outcome.plan is None and not outcome.ok
        assert [p.code for p in outcome.problems] == item.codes
        for problem, text in zip(outcome.problems, item.messages, strict=False):
            assert text in problem.message, (problem.message, text)
        if item.locations:
            assert [p.location for p in outcome.problems] == item.locations
        assert all(p.message for p in outcome.problems)


def _item(name: str) -> CorpusItem:
    return next(i for i in corpus() if i.file.startswith(name))


def test_two_blocks_take_the_corrected_plan() -> None:
    plan = parse(_item("15_")).plan
    assert plan is not None
    assert plan.step("weather").args["url"] == "https://wttr.in/Paris"


def test_numeric_ids_bring_deps_references_and_outputs_along() -> None:
    plan = parse(_item("24_")).plan
    assert plan is not None
    assert [s.id for s in plan.steps] == ["s1", "s2", "s3"]
    assert plan.step("s2").args["text"] == "${s1.text}"
    assert plan.step("s3").deps == ["s2"]
    assert plan.outputs == {"bytes": "${s2.bytes}"}


def test_python_literals_keep_their_values() -> None:
    plan = parse(_item("04_")).plan
    assert plan is not None
    assert plan.step("ls").args["recursive"] is True
    assert plan.step("save").args["text"] == "It's ${ls.count} files"


def test_recovered_truncation_keeps_every_value_whole() -> None:
    plan = parse(_item("07_")).plan
    assert plan is not None
    assert plan.step("save").args == {"path": "CHANGELOG.txt", "text": "${get.text}"}


def test_hallucinations_dangling_refs_and_cycles_are_the_validators_business() -> None:
    messages: dict[str, list[str]] = {}
    for name in ("25_", "26_", "27_"):
        plan = parse(_item(name)).plan
        assert plan is not None
        messages[name] = [str(p) for p in validate_plan(plan, tools())]
    assert any("no tool named 'web_search'" in m for m in messages["25_"])
    assert any("unknown step 'search'" in m for m in messages["26_"])
    assert any("unknown step 'prepare'" in m for m in messages["26_"])
    assert any("a -> b -> a" in m for m in messages["27_"])


# ---------------------------------------------------------------------------- behaviour

PLAN = {
    "goal": "Fetch a page and note its title",
    "steps": [
        {"id": "fetch", "tool": "fetch_page", "args": {"url": "https://example.org/{x}"}},
        {"id": "note", "tool": "notes_append",
         "args": {"text": "Title: ${fetch.title} [ok]", "tags": ["web", "a,b"]},
         "deps": ["fetch"], "description": "says \"done\" } ]"},
    ],
    "outputs": {"count": "${note.count}"},
}


def test_clean_json_needs_no_fix() -> None:
    outcome = parse_plan_output(json.dumps(PLAN))
    assert outcome.fixes == [] and outcome.problems == []
    assert outcome.plan == Plan.model_validate(PLAN)


def test_decoded_input_is_not_mutated() -> None:
    raw = [{"id": 1, "name": "notify", "arguments": {"message": "hi"}}]
    before = copy.deepcopy(raw)
    outcome = parse_plan_output(raw, goal="Say hi")
    assert outcome.plan is not None and outcome.plan.steps[0].id == "s1"
    assert raw == before


def test_every_truncation_ends_in_whole_steps_or_a_problem() -> None:
    """Cut a pretty-printed plan at every position: a plan comes back only when the cut falls
    between whole steps (or top-level fields), and then every step in it is exactly as written."""
    original = Plan.model_validate(PLAN)
    text = json.dumps(PLAN, indent=2)
    recovered: list[int] = []
    for cut in range(1, len(text)):
        outcome = parse_plan_output(text[:cut])
        assert (outcome.plan is None) != (outcome.problems == []), cut
        if outcome.plan is None:
            assert outcome.problems[0].code == "unparseable", (cut, outcome.problems)
            continue
        recovered.append(len(outcome.plan.steps))
        assert outcome.plan.steps == original.steps[:len(outcome.plan.steps)], cut
        assert outcome.plan.outputs in ({}, original.outputs), cut
        assert any(f.startswith("repaired truncated JSON") for f in outcome.fixes)
    assert set(recovered) == {1, 2}  # after the first step, after the second


def test_a_cut_inside_args_is_never_completed() -> None:
    text = json.dumps(PLAN)
    cut = text.index('"tool": "fetch_page"') + len('"tool": "fetch_page"')
    outcome = parse_plan_output(text[:cut])
    assert outcome.plan is None
    assert "cut off inside an unfinished step" in outcome.problems[0].message


def test_fences_inside_json_strings_do_not_split_the_block() -> None:
    plan = {"goal": "Save a snippet", "steps": [{"id": "w", "tool": "write_file", "args": {
        "path": "s.md", "text": "```python\nprint(1)\n```"}}]}
    outcome = parse_plan_output("```json\n" + json.dumps(plan, indent=1) + "\n```")
    assert outcome.plan is not None
    assert outcome.plan.steps[0].args["text"] == "```python\nprint(1)\n```"
    assert outcome.fixes == ["removed code fence"]


def test_stray_punctuation_in_prose_terminates() -> None:
    outcome = parse_plan_output("a / b ; {c / d} * [x / y] " + json.dumps(PLAN) + " / done")
    assert outcome.plan is not None
    assert outcome.fixes == ["dropped prose before JSON", "dropped prose after JSON"]


def test_a_complete_plan_beats_a_later_truncated_one() -> None:
    text = json.dumps(PLAN) + "\nAnd a shorter version:\n" + json.dumps(PLAN)[:60]
    outcome = parse_plan_output(text)
    assert outcome.plan == Plan.model_validate(PLAN)
    assert outcome.fixes[-1].startswith("used JSON block 1 of 2")


def test_goal_argument_does_not_override_the_models_goal() -> None:
    outcome = parse_plan_output(json.dumps(PLAN), goal="something else")
    assert outcome.plan is not None and outcome.plan.goal == PLAN["goal"]
    assert outcome.fixes == []


def test_aliases_never_overwrite_our_keys() -> None:
    step = {"id": "a", "tool": "notify", "name": "Tell me", "args": {"message": "x"}}
    outcome = parse_plan_output({"goal": "g", "steps": [step]})
    assert outcome.plan is None
    assert [(p.code, p.location) for p in outcome.problems] == [("bad_plan_shape",
                                                                  "steps[0].name")]


def test_numeric_id_that_would_collide_is_left_to_the_schema() -> None:
    steps = [{"id": "s1", "tool": "notify", "args": {"message": "a"}},
             {"id": 1, "tool": "notify", "args": {"message": "b"}}]
    outcome = parse_plan_output({"goal": "g", "steps": steps})
    assert outcome.plan is None
    assert [p.location for p in outcome.problems] == ["steps[1].id"]


def test_escaped_references_stay_literal_when_ids_are_renumbered() -> None:
    steps = [{"id": 1, "tool": "notify", "args": {"message": "cost $${1.value} and ${1.outbox}"}}]
    outcome = parse_plan_output({"goal": "g", "steps": steps})
    assert outcome.plan is not None
    assert outcome.plan.steps[0].args["message"] == "cost $${1.value} and ${s1.outbox}"


def test_not_a_plan_object() -> None:
    outcome = parse_plan_output("[1, 2, 3]")
    assert [p.code for p in outcome.problems] == ["bad_plan_shape"]
    assert "expected a plan object" in outcome.problems[0].message


def test_problems_name_the_step() -> None:
    outcome = parse_plan_output({"goal": "g", "steps": [{"id": "x", "tool": 3}]})
    assert [(p.step_id, p.location) for p in outcome.problems] == [("x", "steps[0].tool")]


def test_long_truncated_output_is_fast() -> None:
    steps = [{"id": f"s{i}", "tool": "notify", "args": {"message": f"{{n}} [{i}]" * 5}}
             for i in range(400)]
    text = "Plan:\n```json\n" + json.dumps({"goal": "many", "steps": steps}, indent=2)
    started = time.perf_counter()
    outcome = parse_plan_output(text[: len(text) * 2 // 3])
    assert time.perf_counter() - started < 2.0
    assert outcome.plan is None and outcome.problems[0].code == "unparseable"
