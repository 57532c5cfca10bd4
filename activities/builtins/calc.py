"""A safe calculator: arithmetic and comparisons, parsed, never ``eval``-ed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from activities.errors import ToolInputError
from planner.expr import ExpressionError, evaluate
from planner.tools import ToolRegistry, tool_from_function


class CalcResult(BaseModel):
    expression: str
    value: Any


def calc(expression: str, variables: dict[str, Any] | None = None) -> CalcResult:
    """Evaluate an arithmetic expression, e.g. "(a + b) * 1.2" with variables {"a": 1, "b": 2}.

    Allowed: numbers, strings, + - * / // % **, comparisons, and/or/not, if-else, lists and
    abs round min max sum len sqrt log exp floor ceil int float str.
    """
    try:
        value = evaluate(expression, variables or {})
    except ExpressionError as exc:
        raise ToolInputError(str(exc)) from exc
    return CalcResult(expression=expression, value=value)


def register(registry: ToolRegistry) -> None:
    registry.register(tool_from_function(calc, timeout_s=10))
