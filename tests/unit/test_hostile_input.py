"""Hostile input from LLM plans: expression bombs, conditions that cannot be evaluated,
pathological model output, plans nested too deep, a validator that crashes.

Each test names the attack it covers and fails if the protection is removed: the bombs assert
the limit that refuses them (a check made after the value is built would name another one or
none), the slow inputs are guarded by a timeout they would exceed without their bound."""

from __future__ import annotations

import ast
import json
import random
from pathlib import Path
from typing import Any

import pytest

import planner.expr_limits as expr_limits
import planner.step_io as step_io
import planner.validation as validation
from activities import default_registry
from activities.execution import tool_runtime
from agents.simple_engine import SimpleWorkflowEngine
from planner.expr import ExpressionError, ExpressionLimitError, evaluate
from planner.parsing import ParseOutcome, parse_plan_output
from planner.plan import MAX_VALUE_DEPTH, Plan, PlanLoadError, parse_plan
from planner.preparation import prepare
from planner.scheduler import StepStatus
from planner.settings import Settings
from planner.step_io import ConditionError, StepInputError, condition_holds
from planner.validation import validate_plan

pytestmark = [pytest.mark.unit, pytest.mark.timeout(10)]


def refused(expression: str, variables: dict[str, Any] | None = None) -> ExpressionLimitError:
    with pytest.raises(ExpressionLimitError) as caught:
        evaluate(expression, variables)
    return caught.value


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def plan(*steps: dict[str, Any]) -> Plan:
    return Plan.model_validate({"goal": "g", "steps": list(steps)})


@pytest.fixture(scope="module")
def tools() -> dict[str, Any]:
    return {t.name: t for t in default_registry()}


# --- expressions: formatting (2 GB from 30 characters) -------------------------------------


@pytest.mark.parametrize("expression", [
    "'%0999999999d' % 1",  # the probe's 1 GB string
    "'%.999999999f' % 1.0",
    "'%0200000d' % 1",  # small enough to build, so a check after building would name MAX_SIZE
    "'%(a)0200000s' % x",
])
def test_format_width_is_refused_before_formatting(expression: str) -> None:
    error = refused(expression, {"x": {"a": 1}})
    assert error.limit == "MAX_FORMAT_WIDTH" and "MAX_FORMAT_WIDTH is 1000" in str(error)


def test_star_width_is_refused() -> None:
    assert refused("'%*d' % x", {"x": (10**9, 1)}).limit == "MAX_FORMAT_WIDTH"


def test_many_conversions_are_bounded_before_formatting() -> None:
    error = refused("'%(a)1000s' * 200 % x", {"x": {"a": 1}})  # 200,000 characters
    assert error.limit == "MAX_SIZE" and "the formatted string" in str(error)


def test_str_of_a_large_value_is_bounded_before_building() -> None:
    error = refused("str([1] * 90000)")  # 270,000 characters of text from 90,000 cells
    assert error.limit == "MAX_SIZE" and "str()" in str(error)


@pytest.mark.parametrize("expression", ["'{:>999999999}'.format(1)", "f'{1:>999999999}'",
                                        "format(1, '>999999999')"])
def test_other_format_paths_are_not_allowed(expression: str) -> None:
    with pytest.raises(ExpressionError, match="not allowed"):
        evaluate(expression)


# --- expressions: repetition, aliases, powers ---------------------------------------------------


def test_aliased_list_repetition_counts_every_alias() -> None:
    # 10**4 aliases of one 10**4-item list: little memory, 10**8 items to compare or print
    error = refused("len([[1] * 10**4] * 10**4)")
    assert error.limit == "MAX_SIZE" and "repetition" in str(error)


def test_aliased_cpu_bomb_is_refused() -> None:
    error = refused("[[1] * 10**4] * 10**4 == [[1] * 10**4] * 10**4")
    assert error.limit == "MAX_SIZE"


def test_repetition_of_a_variable_counts_its_items() -> None:
    assert refused("[a] * 10**4", {"a": [1] * 1000}).limit == "MAX_SIZE"


@pytest.mark.parametrize(("expression", "limit"), [
    ("'x' * 10**9", "MAX_SIZE"),
    ("[[]] * 10**9", "MAX_SIZE"),
    ("'x' * 60000 + 'y' * 60000", "MAX_SIZE"),
    ("10**10**10", "MAX_POWER"),
    ("(10**5000) ** 30", "MAX_INT_BITS"),
    ("(10**9000) * (10**9000) * (10**9000) * (10**9000)", "MAX_INT_BITS"),
    ("round(5, -10**6)", "MAX_POWER"),
    ("'" + "9" * 5000 + "'", "MAX_LENGTH"),
    ("1" * 5000, "MAX_LENGTH"),
])
def test_bombs_are_refused_by_their_limit(expression: str, limit: str) -> None:
    error = refused(expression)
    assert error.limit == limit and f"{limit} is" in str(error)


def test_total_work_is_bounded() -> None:
    chain = " and ".join(["[1]*99999 == [1]*99999"] * 20)  # 20 * 200,000 cells
    assert refused(chain).limit == "MAX_WORK"


def test_operations_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expr_limits, "MAX_OPERATIONS", 50)
    assert refused(" + ".join(["1"] * 40)).limit == "MAX_OPERATIONS"  # 79 nodes


def test_sum_adds_numbers_only() -> None:
    with pytest.raises(ExpressionError, match="sum adds numbers only"):  # quadratic on lists
        evaluate("sum([[1]] * 50000, [])")


# --- expressions: depth -----------------------------------------------------------------------


@pytest.mark.parametrize("expression", [
    "-" * 1990 + "1",
    "not " * 495 + "1",
    "(" * 150 + "1" + ")" * 150,
    "[" * 150 + "]" * 150,
    "-(" * 120 + "1" + ")" * 120,
])
def test_deep_source_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch,
                                               expression: str) -> None:
    parsed: list[str] = []
    original = ast.parse

    def spy(source: Any, *args: Any, **kwargs: Any) -> Any:
        parsed.append(source)
        return original(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", spy)
    error = refused(expression)
    assert parsed == []
    assert error.limit == "MAX_DEPTH" and "brackets and unary operators" in str(error)


@pytest.mark.parametrize("expression", ["+".join(["1"] * 500), "**".join(["2"] * 400),
                                        "1 if 1 else " * 150 + "1"])
def test_deep_trees_are_refused_before_evaluating(expression: str) -> None:
    error = refused(expression)
    assert error.limit == "MAX_DEPTH" and "100 levels" in str(error)


def test_parser_recursion_is_an_expression_error(monkeypatch: pytest.MonkeyPatch) -> None:
    original = ast.parse

    def deep(source: Any, *args: Any, **kwargs: Any) -> Any:
        if source == "1 + 1":
            raise RecursionError("maximum recursion depth exceeded during compilation")
        return original(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", deep)
    assert refused("1 + 1").limit == "MAX_DEPTH"


def test_deep_values_are_an_expression_error() -> None:
    def deep() -> list[Any]:
        value: list[Any] = []
        for _ in range(5000):
            value = [value]
        return value

    with pytest.raises(ExpressionError):
        evaluate("str(x)", {"x": deep()})  # repr recurses
    with pytest.raises(ExpressionError):
        evaluate("x == y", {"x": deep(), "y": deep()})  # so does ==


@pytest.mark.parametrize("expression", ["1\x00", "'%(a)s' % x", "min([])", "x + 1", "1 +"])
def test_every_failure_is_an_expression_error(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expression, {"x": {}})


# --- when conditions: the step fails, never the workflow -------------------------------------

BOMB = "[[1] * ${n.value}] * ${n.value} == [[1] * ${n.value}] * ${n.value}"


def test_condition_bomb_is_a_step_input_error() -> None:
    step = plan({"id": "b", "tool": "calc", "args": {"expression": "1"}, "when": BOMB}).steps[0]
    with pytest.raises(StepInputError) as caught:
        condition_holds(step, {"n": {"value": 10_000}})
    assert isinstance(caught.value, ConditionError)
    assert BOMB[:40] in str(caught.value) and "MAX_SIZE is 100000" in str(caught.value)


def test_any_evaluator_failure_is_a_condition_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> Any:
        raise RuntimeError("evaluator bug")

    monkeypatch.setattr(step_io, "evaluate", broken)
    step = plan({"id": "b", "tool": "calc", "args": {"expression": "1"}, "when": "1"}).steps[0]
    with pytest.raises(ConditionError, match="RuntimeError: evaluator bug"):
        condition_holds(step, {})


@pytest.mark.parametrize(("when", "message"), [
    ("-" * 1500 + "${a.value}", "MAX_DEPTH"),
    ("${a.value} > " + "1" * 3000, "MAX_LENGTH"),
    ("'x' * 10**9 == ''", "MAX_SIZE"),  # no references: it fails now as it would at run time
    ("1 if ${a.value} else __import__('os')", "not allowed"),  # the branch never evaluated
    ("${a.value} > limit", "unknown name 'limit'"),
])
def test_static_condition_bombs_are_validation_problems(tools: dict[str, Any], when: str,
                                                        message: str) -> None:
    p = plan({"id": "a", "tool": "calc", "args": {"expression": "1"}},
             {"id": "b", "tool": "calc", "args": {"expression": "1"}, "when": when})
    problems = validate_plan(p, tools)
    assert [(x.code, x.step_id, x.location) for x in problems] == [("bad_condition", "b", "when")]
    assert message in problems[0].message


async def test_condition_bomb_fails_its_step_in_the_engine(tmp_path: Path,
                                                           tools: dict[str, Any]) -> None:
    p = plan({"id": "n", "tool": "calc", "args": {"expression": "10**4"}},
             {"id": "bomb", "tool": "calc", "args": {"expression": "1"}, "when": BOMB},
             {"id": "after", "tool": "calc", "args": {"expression": "${bomb.value}"}})
    assert validate_plan(p, tools) == []  # depends on an output: only the run can tell
    settings = Settings(data_dir=tmp_path / "data", workspace=tmp_path / "data" / "workspace",
                        webhook_url=None)
    registry = default_registry()
    state = await SimpleWorkflowEngine(tool_runtime(settings, registry)).execute_plan(
        prepare(p, registry, settings))
    assert state.status == "failed"
    by_id = {s.id: s for s in state.steps}
    assert by_id["n"].status is StepStatus.SUCCEEDED
    assert by_id["bomb"].status is StepStatus.FAILED
    error = by_id["bomb"].error
    assert error is not None and error.type == "InvalidCondition"
    assert error.message.startswith("condition '[[1] * ${n.value}]") and "MAX_SIZE" in error.message
    assert by_id["after"].status is not StepStatus.SUCCEEDED
    assert state.error is not None and state.error.step_id == "bomb"


# --- the tolerant parser ------------------------------------------------------------------------


def only_problem(outcome: ParseOutcome) -> str:
    assert isinstance(outcome, ParseOutcome) and outcome.plan is None
    assert [p.code for p in outcome.problems] == ["unparseable"]
    return str(outcome.problems[0])


@pytest.mark.parametrize("text", [
    "{" * 3200,
    "[" * 5000,
    "[" * 1000,
    "[" * 5000 + "]" * 5000,  # valid JSON, too deep for json.loads
    '{"a":' * 2000 + "1" + "}" * 2000,
    "Here it is:\n```json\n" + "{" * 300 + "\n```",
    json.dumps({"plan": "[" * 3000 + "]" * 3000}),  # deep JSON inside a JSON string
])
def test_deep_output_is_a_precise_problem(text: str) -> None:
    problem = only_problem(parse_plan_output(text))
    assert "nests deeper than 64 levels" in problem and "MAX_NESTING is 64" in problem


def test_the_depth_problem_points_at_the_level() -> None:
    outcome = parse_plan_output("{" * 3200)
    assert outcome.problems[0].location == "line 1, column 65"


def test_deep_decoded_output_is_a_precise_problem() -> None:
    problem = only_problem(parse_plan_output(nested(5000)))  # copy.deepcopy would recurse
    assert "MAX_NESTING" in problem


def test_junk_ends_in_a_problem() -> None:
    rng = random.Random(9)
    text = "".join(rng.choice("{}[]\",:ab1 \n'\\/*") for _ in range(100_000))
    outcome = parse_plan_output(text)
    assert outcome.plan is None and outcome.problems


def test_unbalanced_quote_ends_in_a_problem() -> None:
    problem = only_problem(parse_plan_output('{"goal": "' + "x" * 100_000))
    assert "cut off inside a string" in problem


def test_junk_that_json_repair_is_slow_on_is_not_repaired() -> None:
    # json_repair takes ~25 us per character per level on this: seconds without the budget
    problem = only_problem(parse_plan_output("{ " * 10 + "1 " * 60_000 + "}" * 10))
    assert "too large to repair" in problem


def test_overlapping_unclosed_blocks_are_scanned_once() -> None:
    # every '[' opens a block that runs to the end: 60 scans of 940,000 characters without the
    # scan budget
    outcome = parse_plan_output("[ " * 60 + "x " * 470_000)
    assert outcome.plan is None and outcome.problems


def test_overlong_output_is_refused_unread() -> None:
    assert "MAX_OUTPUT_CHARS" in only_problem(parse_plan_output("x" * 1_000_001))


def test_a_number_python_will_not_convert_is_not_an_exception() -> None:
    outcome = parse_plan_output('{"goal": "g", "steps": [], "n": ' + "1" * 5000 + "}")
    assert outcome.plan is None and outcome.problems


# --- loading plans -------------------------------------------------------------------------------


def plan_text(args: Any) -> str:
    return json.dumps({"goal": "g", "steps": [{"id": "a", "tool": "calc", "args": args}]})


def test_plan_nested_2000_deep_is_a_load_error() -> None:
    text = plan_text({}).replace("{}", '{"a": ' * 2000 + "1" + "}" * 2000)
    with pytest.raises(PlanLoadError, match="nests too deeply"):
        parse_plan(text)


def test_plan_args_deeper_than_the_limit_are_a_load_error() -> None:
    with pytest.raises(PlanLoadError, match=f"MAX_VALUE_DEPTH is {MAX_VALUE_DEPTH}"):
        parse_plan(plan_text(nested(MAX_VALUE_DEPTH + 1)))
    assert parse_plan(plan_text(nested(MAX_VALUE_DEPTH))).steps[0].id == "a"


def test_deep_outputs_are_refused() -> None:
    with pytest.raises(ValueError, match="outputs nest deeper"):
        Plan.model_validate({"goal": "g", "steps": [{"id": "a", "tool": "calc"}],
                             "outputs": nested(100)})


def test_a_number_python_will_not_convert_is_a_load_error() -> None:
    with pytest.raises(PlanLoadError):
        parse_plan(plan_text({"expression": "1"}).replace('"1"', "1" * 5000))


# --- a validator that crashes --------------------------------------------------------------------


def test_a_crashing_check_is_a_problem(monkeypatch: pytest.MonkeyPatch,
                                       tools: dict[str, Any]) -> None:
    def crash(*_args: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(validation, "_check_args", crash)
    p = plan({"id": "a", "tool": "calc", "args": {"expression": "1"}},
             {"id": "b", "tool": "no_such_tool", "args": {}})
    problems = validate_plan(p, tools)
    assert [(x.code, x.step_id, x.location) for x in problems] == [
        ("validator_crashed", "a", "arguments"), ("unknown_tool", "b", "tool")]
    assert "RecursionError" in problems[0].message


def test_a_crashing_plan_wide_check_is_a_problem(monkeypatch: pytest.MonkeyPatch,
                                                 tools: dict[str, Any]) -> None:
    def crash(*_args: Any) -> Any:
        raise ValueError("boom")

    monkeypatch.setattr(validation, "find_cycle", crash)
    problems = validate_plan(plan({"id": "a", "tool": "calc", "args": {"expression": "1"}}),
                             tools)
    assert [(x.code, x.step_id, x.location) for x in problems] == [
        ("validator_crashed", None, "cycles")]
