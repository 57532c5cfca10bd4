"""A safe calculator: arithmetic and comparisons, parsed, never ``eval``-ed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from activities.errors import ToolInputError
from planner.expr import ExpressionError, evaluate
from planner.tools import ToolRegistry, tool_from_function


class CalcResult(BaseModel):
    expression: str
    # a number, or true/false for a comparison: declared, so the validator checks what a
    # plan does with it (into a text argument it is passed as text: planner/conversions.py)
    value: bool | int | float


def calc(expression: str, variables: dict[str, Any] | None = None) -> CalcResult:
    """Evaluate an arithmetic expression, e.g. "(a + b) * 1.2" with variables {"a": 1, "b": 2}.

    Allowed: numbers, strings, + - * / // % **, comparisons, and/or/not, if-else, lists and
    abs round min max sum len sqrt log exp floor ceil int float str. The value is a number, or
    true/false for a comparison.
    """
    try:
        value = evaluate(expression, variables or {})
    except ExpressionError as exc:
        raise ToolInputError(str(exc)) from exc
    if not isinstance(value, bool | int | float):
        kind = "text" if isinstance(value, str) else type(value).__name__
        raise ToolInputError(f"calc gives a number (or true/false for a comparison), but "
                             f"{expression!r} gives {kind}; write text with ${{...}} "
                             "references in the next step's argument instead")
    return CalcResult(expression=expression, value=value)


def register(registry: ToolRegistry) -> None:
    registry.register(tool_from_function(calc, timeout_s=10, pure=True))
