"""Properties of plans, references, expressions and the model-output parser over generated input
(hypothesis). CI runs a bounded, derandomised number of examples; raise it with
``JARVIS_HYPOTHESIS_EXAMPLES=2000 .venv/bin/pytest tests/unit/test_properties.py``."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from activities import default_registry
from planner.expr import ExpressionError, evaluate
from planner.parsing import ParseOutcome, parse_plan_output
from planner.plan import Plan, PlanLoadError, parse_plan
from planner.refs import RefResolutionError, RefSyntaxError, resolve, scan
from planner.validation import validate_plan

pytestmark = [pytest.mark.unit, pytest.mark.timeout(300)]

EXAMPLES = int(os.environ.get("JARVIS_HYPOTHESIS_EXAMPLES", "60"))
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TOOLS = {t.name: t for t in default_registry()}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False,
                                                                       allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20)
ids = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    """Small plans of calc and notes steps, references only to earlier steps."""
    names = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    steps = []
    for i, name in enumerate(names):
        earlier = names[:i]
        if earlier and draw(st.booleans()):
            ref = draw(st.sampled_from(earlier))
            expression = f"${{{ref}.value}} + {draw(st.integers(0, 99))}"
        else:
            expression = draw(st.sampled_from(["1 + 2", "19.99 * 3", "max(1, 2)", "2 ** 8"]))
        steps.append({"id": name, "tool": "calc", "args": {"expression": expression}})
    return {"goal": draw(st.text(min_size=1, max_size=40)), "steps": steps,
            "outputs": {"last": f"${{{names[-1]}.value}}"}}


@BOUNDED
@given(plans())
def test_generated_plans_round_trip_and_validate(data: dict[str, Any]) -> None:
    plan = parse_plan(json.dumps(data))
    assert parse_plan(plan.model_dump_json()) == plan
    problems = validate_plan(plan, TOOLS)
    assert all(p.code in ("type_mismatch",) for p in problems), problems


@BOUNDED
@given(json_values)
def test_garbage_is_refused_with_the_loaders_errors(data: Any) -> None:
    with contextlib.suppress(ValidationError):
        Plan.model_validate(data)
    with contextlib.suppress(PlanLoadError):
        parse_plan(json.dumps(data))


@BOUNDED
@given(st.text(alphabet="${}.[]'\"\\ab0 $", max_size=60))
def test_the_reference_scanner_covers_any_text(text: str) -> None:
    spans = scan(text)
    assert "".join(text[s.start:s.end] for s in spans) == text
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    with contextlib.suppress(RefSyntaxError, RefResolutionError):
        resolve(text, {"a": {"b": 1}, "b": [1, 2]})


@BOUNDED
@given(st.text(alphabet=string.digits + "+-*/%()[], '<>=!.xsnotandrlenmaxsumu", max_size=80))
def test_any_expression_evaluates_or_raises_expression_error(expression: str) -> None:
    with contextlib.suppress(ExpressionError):
        evaluate(expression, {"x": [1, 2, 3], "s": "abc"})


@st.composite
def arithmetic(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 6 or draw(st.booleans()):
        return draw(st.sampled_from(["1", "7", "10**4", "'ab'", "[1, 2]", "x", "s"]))
    op = draw(st.sampled_from(["+", "-", "*", "**", "//", "==", "<", " and ", " or "]))
    return f"({draw(arithmetic(depth + 1))}{op}{draw(arithmetic(depth + 1))})"


@BOUNDED
@given(arithmetic())
def test_well_formed_expressions_stay_within_the_budget(expression: str) -> None:
    with contextlib.suppress(ExpressionError):
        evaluate(expression, {"x": [1] * 100, "s": "x" * 100})


@BOUNDED
@given(st.one_of(
    st.text(max_size=200),
    st.text(alphabet='{}[]":,` \n\'abstepgoalidtool', max_size=400),
    plans().map(lambda p: "Here you go:\n```json\n" + json.dumps(p)[:-3])))
def test_the_output_parser_never_raises(text: str) -> None:
    outcome = parse_plan_output(text)
    assert isinstance(outcome, ParseOutcome)
    assert (outcome.plan is None) == bool(outcome.problems)
