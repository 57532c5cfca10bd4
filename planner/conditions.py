"""Step conditions (``when``): a safe expression whose ``${...}`` references become variables.

Validation and both engines read a condition through :func:`condition_source` and the one
bounded evaluator (:mod:`planner.expr`), so a condition refused at run time for its size or
nesting is refused by validation too, whenever that can be known before the run. Pure.
"""

from __future__ import annotations

from planner.expr import CONSTANTS, Expression, ExpressionError, parse_expression
from planner.refs import Ref, parse_template


def condition_source(when: str) -> tuple[str, list[Ref]]:
    """The condition as an expression, each distinct reference a variable ``_ref<n>``, and the
    references in that order. Raises :class:`planner.refs.RefSyntaxError`."""
    parts = parse_template(when)
    refs: list[Ref] = []
    pieces: list[str] = []
    for part in parts:
        if isinstance(part, Ref):
            if part not in refs:
                refs.append(part)
            pieces.append(f"_ref{refs.index(part)}")
        else:
            pieces.append(part)
    return "".join(pieces), refs


def check_condition(when: str) -> Expression:
    """What can be known of a condition before the run: its references parse; its expression
    is short and shallow enough, parses and uses only allowed operations, functions and names.
    A condition without references is evaluated too, since it fails now exactly as it would
    at run time. Raises :class:`planner.refs.RefSyntaxError` or :class:`ExpressionError`."""
    text, refs = condition_source(when)
    expression = parse_expression(text)
    known = {f"_ref{i}" for i in range(len(refs))} | set(CONSTANTS)
    unknown = sorted(expression.names - known)
    if unknown:
        raise ExpressionError(f"unknown name '{unknown[0]}' (references are written "
                              "${step.field})")
    if not refs:
        expression.evaluate()
    return expression
