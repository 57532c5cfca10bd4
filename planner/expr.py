"""A safe expression evaluator: arithmetic, comparisons and boolean logic over literals.

Parses with :mod:`ast` and walks an allow-list of node types; never calls ``eval``. Pure, so the
workflow can evaluate step conditions with it.

Bounded, whoever wrote the expression (the same limits in ``calc``, in ``when`` conditions
evaluated inside workflows, and in validation); every breach is an :class:`ExpressionLimitError`
naming the limit:

- ``MAX_LENGTH`` characters of source, ``MAX_DEPTH`` levels of nesting (checked on the source
  before :mod:`ast` parses it, and on the tree after);
- ``MAX_OPERATIONS`` nodes evaluated in all;
- the **weight** of every value built: a string weighs its length, a list one plus its items'
  weights (an item repeated by ``*`` counts each time, so aliasing cannot hide size), an integer
  its size in 64-bit words; no intermediate value may weigh more than ``MAX_WEIGHT``, and every
  operation is checked *before* it runs (``[[1] * 10**4] * 10**4`` is refused, not built);
- string formatting with ``%`` is not part of the language (it builds strings of any width).
"""

from __future__ import annotations

import ast
import math
import operator
import warnings
from collections.abc import Callable, Mapping
from typing import Any

MAX_LENGTH = 2000
MAX_DEPTH = 64  # nesting of brackets, operators and calls
MAX_OPERATIONS = 10_000  # nodes evaluated, in all
MAX_POWER = 10_000
MAX_INT_BITS = 100_000  # results beyond this are refused: no expression may exhaust memory
MAX_SEQUENCE = 100_000  # longest string or list an expression may build
MAX_WEIGHT = 100_000  # heaviest value (see the module docstring) an expression may build

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


class ExpressionLimitError(ExpressionError):
    """The expression would go past one of the evaluator's bounds."""


def parse(expression: str) -> ast.expr:
    """The expression's tree, within the length and depth bounds."""
    if len(expression) > MAX_LENGTH:
        raise ExpressionLimitError(f"expression longer than {MAX_LENGTH} characters")
    _check_source_depth(expression)
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal": an error follows
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {expression!r}: {exc.msg}") from exc
    except (RecursionError, MemoryError) as exc:
        raise ExpressionLimitError(f"expression nests deeper than {MAX_DEPTH} levels") from exc
    _check_tree_depth(tree.body)
    return tree.body


def evaluate(expression: str, variables: Mapping[str, Any] | None = None) -> Any:
    body = parse(expression)
    names = {**CONSTANTS, **(variables or {})}
    try:
        return _Evaluation(names).eval(body)
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise ExpressionError(f"{expression!r}: {type(exc).__name__}: {exc}") from exc
    except (RecursionError, MemoryError) as exc:
        raise ExpressionLimitError(f"{expression!r} is too large to evaluate") from exc


def _check_source_depth(text: str) -> None:
    """Brackets and runs of unary operators, counted on the text: ``ast.parse`` itself
    recurses on them."""
    depth = run = 0
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        if ch in "-+~":
            run += 1
        elif not ch.isspace():
            run = 0
        if depth > MAX_DEPTH or run > MAX_DEPTH:
            raise ExpressionLimitError(f"expression nests deeper than {MAX_DEPTH} levels")


def _check_tree_depth(root: ast.AST) -> None:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionLimitError(f"expression nests deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def weight(value: Any, _depth: int = 0) -> int:
    """How much building or copying ``value`` costs (see the module docstring)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return 1
    if isinstance(value, int):
        return value.bit_length() // 64 + 1
    if isinstance(value, list | tuple) and _depth < MAX_DEPTH:
        total = 1
        for item in value:
            total += weight(item, _depth + 1)
            if total > MAX_WEIGHT:
                return total
        return total
    return MAX_WEIGHT + 1 if isinstance(value, list | tuple) else 1


def _heavy(w: int, what: str) -> None:
    if w > MAX_WEIGHT:
        raise ExpressionLimitError(f"{what} would weigh {w} (limit {MAX_WEIGHT}: about that "
                                   "many list items or characters)")


class _Evaluation:
    """One evaluation: the names, the operations left, the weights of lists built so far."""

    def __init__(self, names: Mapping[str, Any]) -> None:
        self.names = names
        self.left = MAX_OPERATIONS
        self.weights: dict[int, int] = {}

    def weigh(self, value: Any) -> int:
        known = self.weights.get(id(value)) if isinstance(value, list) else None
        return known if known is not None else weight(value)

    def built(self, value: Any, w: int) -> Any:
        _heavy(w, "the result")
        if isinstance(value, list):
            self.weights[id(value)] = w
        return value

    def eval(self, node: ast.AST) -> Any:
        self.left -= 1
        if self.left < 0:
            raise ExpressionLimitError(f"expression takes more than {MAX_OPERATIONS} operations")
        return _eval(self, node)


def _eval(ev: _Evaluation, node: ast.AST) -> Any:
    names = ev.names
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool | None):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise ExpressionError(f"unknown name '{node.id}'")
        return names[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = ev.eval(node.left), ev.eval(node.right)
        _check_size(ev, node.op, left, right)
        result = _bounded(_BINOPS[type(node.op)](left, right))
        return ev.built(result, _result_weight(ev, node.op, left, right, result))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](ev.eval(node.operand))
    if isinstance(node, ast.BoolOp):
        values = (ev.eval(v) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        left = ev.eval(node.left)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = ev.eval(comp)
            compare = _COMPARE.get(type(op))
            if compare is None:
                raise ExpressionError(f"operator '{type(op).__name__}' is not allowed")
            if not compare(left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return ev.eval(node.body if ev.eval(node.test) else node.orelse)
    if isinstance(node, ast.List | ast.Tuple):
        items = [ev.eval(e) for e in node.elts]
        return ev.built(items, 1 + sum(ev.weigh(i) for i in items))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        fn = FUNCTIONS.get(node.func.id)
        if fn is None:
            raise ExpressionError(
                f"function '{node.func.id}' is not allowed (allowed: {', '.join(FUNCTIONS)})"
            )
        args = [ev.eval(a) for a in node.args]
        result = fn(*args)
        return ev.built(result, weight(result))
    raise ExpressionError(f"'{ast.unparse(node)}' is not allowed in an expression")


def _check_size(ev: _Evaluation, op: ast.operator, left: Any, right: Any) -> None:
    """Refuse operations whose result would be huge, before computing them."""
    if isinstance(op, ast.Mod) and isinstance(left, str):
        raise ExpressionError("string formatting with '%' is not allowed in an expression")
    if isinstance(op, ast.Pow) and isinstance(right, int | float):
        if abs(right) > MAX_POWER:
            raise ExpressionLimitError(f"exponent {right} is too large (limit {MAX_POWER})")
        if isinstance(left, int) and right > 0 and abs(left).bit_length() * right > MAX_INT_BITS:
            raise ExpressionLimitError(f"result of {left} ** {right} would be too large")
    if isinstance(op, ast.Mult):
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, str | list) and isinstance(n, int) and not isinstance(n, bool):
                if len(seq) * n > MAX_SEQUENCE:
                    raise ExpressionLimitError(f"repetition would build {len(seq) * n} items "
                                               f"(limit {MAX_SEQUENCE})")
                _heavy(ev.weigh(seq) * max(n, 0), "the repetition")
    sequences = isinstance(left, str | list) and isinstance(right, str | list)
    if isinstance(op, ast.Add) and sequences:
        if len(left) + len(right) > MAX_SEQUENCE:
            raise ExpressionLimitError(f"result longer than {MAX_SEQUENCE} items")
        _heavy(ev.weigh(left) + ev.weigh(right), "the concatenation")


def _result_weight(ev: _Evaluation, op: ast.operator, left: Any, right: Any,
                   result: Any) -> int:
    if isinstance(result, list):
        if isinstance(op, ast.Mult):
            seq, n = (left, right) if isinstance(left, list) else (right, left)
            return 1 + (ev.weigh(seq) - 1) * max(int(n), 0)
        return ev.weigh(left) + ev.weigh(right)
    return weight(result)


def _bounded(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) \
            and value.bit_length() > MAX_INT_BITS:
        raise ExpressionLimitError(f"integer result too large (over {MAX_INT_BITS} bits)")
    return value
