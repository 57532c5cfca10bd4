"""Properties, checked on generated input (hypothesis): plans round-trip and validate, garbage
only ever fails with the loader's error, the ``${...}`` scanner agrees with resolution,
expressions fail only with ExpressionError and build nothing over their limits, the tolerant
parser always answers with an outcome.

``JARVIS_HYPOTHESIS_EXAMPLES`` sets the examples per property (80 by default); the runs are
derandomized, so a failure reproduces."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities import default_registry
from planner.expr import MAX_INT_BITS, MAX_SIZE, ExpressionError, evaluate
from planner.parsing import ParseOutcome, parse_plan_output
from planner.plan import Plan, PlanLoadError, parse_plan
from planner.refs import (
    Ref,
    RefResolutionError,
    RefSyntaxError,
    iter_refs,
    parse_ref,
    parse_template,
    resolve,
    scan,
    unescape,
)
from planner.tools import Tool
from planner.validation import Problem, validate_plan

pytestmark = [pytest.mark.unit, pytest.mark.timeout(300)]

EXAMPLES = int(os.environ.get("JARVIS_HYPOTHESIS_EXAMPLES", "80"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])

TEXT = st.characters(codec="utf-8")  # no lone surrogates: JSON cannot carry them
TOOLS: dict[str, Tool] = {t.name: t for t in default_registry()}


# --- plans ---------------------------------------------------------------------------------------

STEP_IDS = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
ARITHMETIC = st.lists(st.integers(-99, 99), min_size=1, max_size=4).map(
    lambda ns: " + ".join(f"({n})" for n in ns))


@st.composite
def plan_data(draw: st.DrawFn) -> dict[str, Any]:
    """A small valid plan: calc steps, references and deps to earlier steps only."""
    ids = draw(st.lists(STEP_IDS, min_size=1, max_size=6, unique=True))
    steps: list[dict[str, Any]] = []
    for i, step_id in enumerate(ids):
        earlier = ids[:i]
        step: dict[str, Any] = {"id": step_id, "tool": "calc",
                                "args": {"expression": draw(ARITHMETIC)}}
        if draw(st.booleans()) and earlier:
            step["args"] = {"expression": "x * 2",
                            "variables": {"x": f"${{{draw(st.sampled_from(earlier))}.value}}"}}
        if draw(st.booleans()) and earlier:
            step["deps"] = draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True))
        if draw(st.booleans()) and earlier:
            source = draw(st.sampled_from(earlier))
            step["when"] = f"${{{source}.value}} > {draw(st.integers(-9, 9))}"
        if draw(st.booleans()):
            step["description"] = draw(st.text(TEXT, max_size=20))
        steps.append(step)
    return {"goal": draw(st.text(TEXT, min_size=1, max_size=30)), "steps": steps,
            "outputs": {"result": f"${{{ids[-1]}.value}}"},
            "on_failure": draw(st.sampled_from(["stop", "continue"]))}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(TEXT, max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(TEXT, max_size=8),
                                                                inner, max_size=4),
    max_leaves=25)
PLAN_KEYS = st.sampled_from(["goal", "steps", "outputs", "on_failure", "schema_version", "id",
                             "tool", "args", "deps", "when", "retry", "timeout_s", "extra"])
PLAN_SHAPED = st.recursive(
    JSON, lambda inner: st.dictionaries(PLAN_KEYS, inner, max_size=6) | st.lists(inner, max_size=3),
    max_leaves=30)


@PROPERTY
@given(plan_data())
def test_valid_plans_round_trip_and_validate(data: dict[str, Any]) -> None:
    loaded = parse_plan(json.dumps(data))
    assert parse_plan(loaded.model_dump_json()) == loaded
    assert validate_plan(loaded, TOOLS) == []


@PROPERTY
@given(st.one_of(JSON, PLAN_SHAPED))
def test_garbage_only_fails_with_the_loaders_error(data: Any) -> None:
    try:
        loaded = parse_plan(json.dumps(data))
    except PlanLoadError:
        return
    assert all(isinstance(p, Problem) for p in validate_plan(loaded, TOOLS))


@PROPERTY
@given(st.text(TEXT, max_size=200))
def test_garbage_text_only_fails_with_the_loaders_error(text: str) -> None:
    with contextlib.suppress(PlanLoadError):
        parse_plan(text)


# --- references ----------------------------------------------------------------------------------

REF_TEXT = st.lists(st.sampled_from(["${", "$${", "}", "$", "{", "a", "b.c", "[0]", '["k"]',
                                     "'", '"', "\\", ".", " ", "x", "1", "]", "["]),
                    max_size=25).map("".join)


@PROPERTY
@given(REF_TEXT)
def test_scan_covers_the_text_and_agrees_with_parse_template(text: str) -> None:
    spans = scan(text)
    assert [s.start for s in spans] == [0, *[s.end for s in spans[:-1]]][:len(spans)]
    assert (spans[-1].end if spans else 0) == len(text)
    refs: list[Ref] = []
    broken = any(s.kind == "unclosed" for s in spans)
    for span in spans:
        if span.kind == "ref":
            try:
                refs.append(parse_ref(text[span.start + 2:span.end - 1].strip()))
            except RefSyntaxError:
                broken = True
    if broken:
        with pytest.raises(RefSyntaxError):
            parse_template(text)
        return
    parts = parse_template(text)
    assert [p for p in parts if isinstance(p, Ref)] == refs == list(iter_refs(text))
    literal = "".join(unescape(text[s.start:s.end]) for s in spans if s.kind == "text")
    assert "".join(p for p in parts if isinstance(p, str)) == literal


@PROPERTY
@given(REF_TEXT, JSON)
def test_resolve_fails_only_with_reference_errors(text: str, output: Any) -> None:
    try:
        refs = list(iter_refs(text))
    except RefSyntaxError:
        return
    outputs = {ref.step: output for ref in refs}
    try:
        resolved = resolve(text, outputs)
    except RefResolutionError:
        return
    if not refs:
        assert resolved == "".join(p for p in parse_template(text) if isinstance(p, str))


# --- expressions ---------------------------------------------------------------------------------

TOKENS = ["1", "0", "99999", "10", "1e308", "'x'", "'%0999d'", "'%s'", "x", "True", "None",
          "**", "*", "+", "-", "/", "//", "%", "(", ")", "[", "]", ",", "not ", " and ", " or ",
          " < ", " == ", " in ", " if ", " else ", "len(", "str(", "sum(", "round(", "max(",
          "int(", "~", ".", "lambda", "__class__", "f'{x}'", "\\"]
EXPRESSION_TEXT = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)
LEAVES = (st.integers(-10**6, 10**6).map(str)
          | st.sampled_from(["'ab'", "x", "y", "True", "[1, 2]", "1.5", "'%s'", "'%5d'", "''",
                             "[]", "'%0200000d'", "99999", "10", "[[1]]", "'9'"]))
FORMATS = st.sampled_from(["'%s'", "'%5d'", "'%0200000d'", "'%.3f'", "'%(a)s'", "'%*d'",
                           "'%c'", "'%o'", "'%r %%'"])


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "==", "<",
                                               "in", "and", "or"]), inner).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})")
    formatted = st.tuples(FORMATS, inner).map(lambda t: f"({t[0]} % {t[1]})")
    call = st.tuples(st.sampled_from(["len", "str", "abs", "round", "sum", "max", "min", "int",
                                      "float"]), inner).map(lambda t: f"{t[0]}({t[1]})")
    return st.one_of(binary, binary, formatted, formatted, call,  # repeated: drawn more often
                     inner.map(lambda e: f"-({e})"),
                     st.lists(inner, max_size=3).map(lambda es: "[" + ", ".join(es) + "]"))


EXPRESSIONS = st.recursive(LEAVES, _compound, max_leaves=20)
VARIABLES = {"x": [1, 2, 3], "y": 7}


def assert_bounded(value: Any) -> None:
    """Strings and lists (every alias counted) within MAX_SIZE, integers within MAX_INT_BITS."""
    total, stack = 0, [value]
    while stack and total <= MAX_SIZE:
        item = stack.pop()
        if isinstance(item, list):
            total += 1
            stack.extend(item)
        elif isinstance(item, str):
            total += len(item)
        elif isinstance(item, int):
            assert item.bit_length() <= MAX_INT_BITS
    assert total <= MAX_SIZE


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # ast.parse on e.g. '1if'
@PROPERTY
@given(EXPRESSION_TEXT)
def test_expression_text_fails_only_with_expression_error(text: str) -> None:
    try:
        value = evaluate(text, VARIABLES)
    except ExpressionError:
        return
    assert_bounded(value)


@PROPERTY
@given(EXPRESSIONS)
def test_expression_trees_fail_only_with_expression_error(text: str) -> None:
    try:
        value = evaluate(text, VARIABLES)
    except ExpressionError:
        return
    assert_bounded(value)


@PROPERTY
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from("dsfxoer"),
       st.one_of(st.integers(-10**6, 10**6), st.floats(), st.text(TEXT, max_size=50)))
def test_formatting_never_builds_over_the_limit(width: int, precision: int, conversion: str,
                                                arg: Any) -> None:
    for spec in (f"%{width}{conversion}", f"%.{precision}{conversion}"):
        with contextlib.suppress(ExpressionError):
            assert_bounded(evaluate(f"'{spec}' % a", {"a": arg}))


@PROPERTY
@given(st.integers(-2, 10**6), st.integers(-2, 10**6),
       st.sampled_from(["[[1] * n] * m", "['ab' * n] * m", "[x * n] * m", "('a' * n) * m",
                        "[n] * n + [m] * m", "str([1] * n)", "[[x] * n, [x] * m] * n"]))
def test_repetition_never_builds_over_the_limit(n: int, m: int, form: str) -> None:
    with contextlib.suppress(ExpressionError):
        assert_bounded(evaluate(form, {"n": n, "m": m, "x": [1, 2, 3]}))


# --- the tolerant parser -------------------------------------------------------------------------

OUTPUT_TOKENS = ["{", "}", "[", "]", '"', "'", ",", ":", "```json\n", "```\n", '"steps"',
                 '"goal"', '"tool"', '"calc"', '"id"', "1", "true", "None", "//", "/*", "*/",
                 "\n", " ", "x", "\\", "${", "tool_calls", '"arguments"']
OUTPUT_TEXT = st.lists(st.sampled_from(OUTPUT_TOKENS), max_size=60).map("".join)
PROSE = st.text(alphabet="abc .,:\n", max_size=40)


def assert_outcome(outcome: Any) -> None:
    assert isinstance(outcome, ParseOutcome)
    assert outcome.ok == (outcome.plan is not None)
    assert bool(outcome.problems) != outcome.ok


@PROPERTY
@given(st.one_of(OUTPUT_TEXT, st.text(TEXT, max_size=200)))
def test_parser_always_answers_with_an_outcome(text: str) -> None:
    assert_outcome(parse_plan_output(text))


@PROPERTY
@given(st.one_of(JSON, PLAN_SHAPED))
def test_parser_always_answers_decoded_input(data: Any) -> None:
    if isinstance(data, dict | list):
        assert_outcome(parse_plan_output(data))


@PROPERTY
@given(plan_data(), PROSE, PROSE)
def test_parser_finds_a_plan_in_prose(data: dict[str, Any], before: str, after: str) -> None:
    outcome = parse_plan_output(f"{before}\n{json.dumps(data)}\n{after}")
    assert outcome.plan == Plan.model_validate(data)
