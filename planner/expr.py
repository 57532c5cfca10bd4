"""A safe expression evaluator: arithmetic, comparisons and boolean logic over literals.

Parses with :mod:`ast` and walks an allow-list of node types; never calls ``eval``. Pure, so the
workflow can evaluate step conditions with it. Bounded: the limits in :mod:`planner.expr_limits`
(source length and nesting, operations, the size of every value built, total work, integer bits,
exponents, format widths) hold wherever an expression is evaluated (the ``calc`` tool, ``when``
conditions in the workflow, validation), and every failure is an :class:`ExpressionError`.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from planner.expr_limits import (
    MAX_DEPTH,
    MAX_INT_BITS,
    MAX_LENGTH,
    MAX_OPERATIONS,
    MAX_POWER,
    MAX_SEQUENCE,
    MAX_SIZE,
    ExpressionError,
    ExpressionLimitError,
    Meter,
    check_binop,
)
from planner.expr_source import parse_source
from planner.expr_source import shorten as _short

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


def _sum(values: Any, start: Any = 0) -> Any:
    """``sum`` of numbers only: summing lists is quadratic."""
    items = list(values)
    if not all(isinstance(v, int | float) for v in [*items, start]):
        raise ExpressionError("sum adds numbers only")
    return sum(items, start)


def _round(number: Any, digits: Any = None) -> Any:
    if isinstance(digits, int) and abs(digits) > MAX_POWER:
        raise ExpressionLimitError("MAX_POWER", MAX_POWER, f"round to {digits} digits: too many "
                                   f"(MAX_POWER is {MAX_POWER})")
    return round(number) if digits is None else round(number, digits)


FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "abs": abs,
    "round": _round,
    "min": min,
    "max": max,
    "sum": _sum,
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
_BUILDERS = frozenset({"str", "int", "round", "sum", "abs", "floor", "ceil"})  # new values

__all__ = ["CONSTANTS", "FUNCTIONS", "MAX_DEPTH", "MAX_INT_BITS", "MAX_LENGTH", "MAX_OPERATIONS",
           "MAX_POWER", "MAX_SEQUENCE", "MAX_SIZE", "Expression", "ExpressionError",
           "ExpressionLimitError", "evaluate", "parse_expression"]


@dataclass(frozen=True)
class Expression:
    """A parsed expression that passed the static checks; ``names`` are the names it reads."""

    source: str
    tree: ast.Expression
    names: frozenset[str]

    def evaluate(self, variables: Mapping[str, Any] | None = None) -> Any:
        names = {**CONSTANTS, **(variables or {})}
        try:
            return _Evaluator(names).eval(self.tree.body)
        except ExpressionError:
            raise
        except RecursionError as exc:
            raise ExpressionLimitError("MAX_DEPTH", MAX_DEPTH, f"{_short(self.source)}: "
                                       "too deeply nested to evaluate") from exc
        except MemoryError as exc:
            raise ExpressionLimitError("MAX_SIZE", MAX_SIZE, f"{_short(self.source)}: "
                                       "out of memory") from exc
        except Exception as exc:  # whatever a built-in raises: the caller gets one error type
            raise ExpressionError(f"{_short(self.source)}: {type(exc).__name__}: {exc}") from exc


def evaluate(expression: str, variables: Mapping[str, Any] | None = None) -> Any:
    return parse_expression(expression).evaluate(variables)


def parse_expression(expression: str) -> Expression:
    """Parse and check ``expression`` (length, nesting, size, allowed nodes) without evaluating
    it; raises :class:`ExpressionError`."""
    tree, nodes = parse_source(expression)
    for node in nodes:
        refused = _check_node(node)
        if refused is not None:
            raise refused
    return Expression(expression, tree,
                      frozenset(n.id for n in nodes if isinstance(n, ast.Name)))


def _check_node(node: ast.AST) -> ExpressionError | None:
    """Why ``node`` is not allowed, or None."""
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.keywords:
            return _not_allowed(node)
        if node.func.id not in FUNCTIONS:
            return ExpressionError(f"function '{node.func.id}' is not allowed (allowed: "
                                   f"{', '.join(FUNCTIONS)})")
        return None
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE:
                return ExpressionError(f"operator '{type(op).__name__}' is not allowed")
        return None
    allowed = (
        (isinstance(node, ast.Constant)
         and isinstance(node.value, int | float | str | bool | None))
        or isinstance(node, ast.Name | ast.BoolOp | ast.IfExp | ast.List | ast.Tuple)
        or (isinstance(node, ast.BinOp) and type(node.op) in _BINOPS)
        or (isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY)
    )
    return None if allowed else _not_allowed(node)


def _not_allowed(node: ast.AST) -> ExpressionError:
    try:
        shown = _short(ast.unparse(node), quote=False)
    except RecursionError:  # cannot happen for a checked tree; a message is no reason to fail
        shown = f"a {type(node).__name__} node"
    return ExpressionError(f"{shown} is not allowed in an expression")


class _Evaluator:
    def __init__(self, names: Mapping[str, Any]) -> None:
        self.names = names
        self.meter = Meter()

    def eval(self, node: ast.AST) -> Any:
        self.meter.step()
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                raise ExpressionError(f"unknown name '{node.id}'")
            return self.names[node.id]
        if isinstance(node, ast.BinOp):
            left, right = self.eval(node.left), self.eval(node.right)
            cells = check_binop(self.meter, node.op, left, right)
            return self.meter.built(_BINOPS[type(node.op)](left, right), cells)
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self.eval(node.operand))
        if isinstance(node, ast.BoolOp):
            values = (self.eval(v) for v in node.values)
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.IfExp):
            return self.eval(node.body if self.eval(node.test) else node.orelse)
        if isinstance(node, ast.List | ast.Tuple):
            return self.meter.built([self.eval(e) for e in node.elts])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self._call(node.func.id, [self.eval(a) for a in node.args])
        raise _not_allowed(node)

    def _compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = self.eval(comp)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def _call(self, name: str, args: list[Any]) -> Any:
        self.meter.step()
        if name == "str" and args:
            arg = args[0]
            self.meter.need(len(arg) if isinstance(arg, str) else self.meter.text(arg), "str()")
        result = FUNCTIONS[name](*args)
        return self.meter.built(result) if name in _BUILDERS else result
