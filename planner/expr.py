"""A safe expression evaluator: arithmetic, comparisons and boolean logic over literals.

Parses with :mod:`ast` and walks an allow-list of node types; never calls ``eval``. Pure, so the
workflow can evaluate step conditions with it.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

MAX_LENGTH = 2000
MAX_POWER = 10_000
MAX_INT_BITS = 100_000  # results beyond this are refused: no expression may exhaust memory
MAX_SEQUENCE = 100_000  # longest string or list an expression may build

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
    ast.Not: operator.not_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sum": sum,
    "len": len,
    "sqrt": math.sqrt,
    "log": math.log,
    "exp": math.exp,
    "floor": math.floor,
    "ceil": math.ceil,
    "int": int,
    "float": float,
    "str": str,
}
CONSTANTS: Mapping[str, Any] = {"pi": math.pi, "e": math.e, "true": True, "false": False,
                                "null": None, "True": True, "False": False, "None": None}


class ExpressionError(ValueError):
    """The expression is not allowed or cannot be evaluated."""


def evaluate(expression: str, variables: Mapping[str, Any] | None = None) -> Any:
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {expression!r}: {exc.msg}") from exc
    names = {**CONSTANTS, **(variables or {})}
    try:
        return _eval(tree.body, names)
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise ExpressionError(f"{expression!r}: {type(exc).__name__}: {exc}") from exc


def _eval(node: ast.AST, names: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool | None):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise ExpressionError(f"unknown name '{node.id}'")
        return names[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left, names), _eval(node.right, names)
        _check_size(node.op, left, right)
        return _bounded(_BINOPS[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand, names))
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, names) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, names)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, names)
            compare = _COMPARE.get(type(op))
            if compare is None:
                raise ExpressionError(f"operator '{type(op).__name__}' is not allowed")
            if not compare(left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, names) else node.orelse, names)
    if isinstance(node, ast.List | ast.Tuple):
        return [_eval(e, names) for e in node.elts]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        fn = FUNCTIONS.get(node.func.id)
        if fn is None:
            raise ExpressionError(
                f"function '{node.func.id}' is not allowed (allowed: {', '.join(FUNCTIONS)})"
            )
        return fn(*(_eval(a, names) for a in node.args))
    raise ExpressionError(f"'{ast.unparse(node)}' is not allowed in an expression")


def _check_size(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse operations whose result would be huge, before computing them."""
    if isinstance(op, ast.Pow) and isinstance(right, int | float):
        if abs(right) > MAX_POWER:
            raise ExpressionError(f"exponent {right} is too large (limit {MAX_POWER})")
        if isinstance(left, int) and right > 0 and abs(left).bit_length() * right > MAX_INT_BITS:
            raise ExpressionError(f"result of {left} ** {right} would be too large")
    if isinstance(op, ast.Mult):
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, str | list) and isinstance(n, int) and len(seq) * n > MAX_SEQUENCE:
                raise ExpressionError(f"repetition would build {len(seq) * n} items "
                                      f"(limit {MAX_SEQUENCE})")
    sequences = isinstance(left, str | list) and isinstance(right, str | list)
    if isinstance(op, ast.Add) and sequences and len(left) + len(right) > MAX_SEQUENCE:
        raise ExpressionError(f"result longer than {MAX_SEQUENCE} items")


def _bounded(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) \
            and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError(f"integer result too large (over {MAX_INT_BITS} bits)")
    return value
