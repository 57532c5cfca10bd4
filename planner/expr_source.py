"""The source side of the safe expression evaluator: an expression is checked for length and
nesting before :func:`ast.parse` sees it (so the parser never recurses too deep), parsed with
every parser failure turned into an :class:`ExpressionError`, and its tree measured without
recursion (depth, number of nodes) before anything walks it recursively. Pure."""

from __future__ import annotations

import ast
import warnings

from planner.expr_limits import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_OPERATIONS,
    ExpressionError,
    ExpressionLimitError,
)

_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def parse_source(expression: str) -> tuple[ast.Expression, list[ast.AST]]:
    """The checked tree of ``expression`` and its expression nodes, parents first."""
    if not isinstance(expression, str):
        raise ExpressionError(f"an expression is text, not {type(expression).__name__}")
    check_source(expression)
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal": an error follows
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {shorten(expression)}: {exc.msg}") from exc
    except (RecursionError, MemoryError) as exc:
        raise ExpressionLimitError("MAX_DEPTH", MAX_DEPTH, f"cannot parse "
                                   f"{shorten(expression)}: too complex") from exc
    except ValueError as exc:  # null bytes
        raise ExpressionError(f"cannot parse {shorten(expression)}: {exc}") from exc
    return tree, _nodes(tree)


def _nodes(tree: ast.Expression) -> list[ast.AST]:
    nodes: list[ast.AST] = []
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionLimitError("MAX_DEPTH", MAX_DEPTH, f"expression nested deeper than "
                                       f"{MAX_DEPTH} levels (MAX_DEPTH is {MAX_DEPTH})")
        nodes.append(node)
        if len(nodes) > MAX_OPERATIONS:
            raise ExpressionLimitError("MAX_OPERATIONS", MAX_OPERATIONS, f"expression has more "
                                       f"than {MAX_OPERATIONS} parts (MAX_OPERATIONS is "
                                       f"{MAX_OPERATIONS})")
        children = node.args if isinstance(node, ast.Call) else ast.iter_child_nodes(node)
        stack.extend((child, depth + 1) for child in children if not isinstance(child, _LEAVES))
    return nodes


def shorten(text: str, limit: int = 120, quote: bool = True) -> str:
    shown = text if len(text) <= limit else text[:limit - 3] + "..."
    return repr(shown) if quote else f"'{shown}'"


def check_source(source: str) -> None:
    """Refuse sources that are too long or nest too deep, before anything parses them."""
    if len(source) > MAX_LENGTH:
        raise ExpressionLimitError("MAX_LENGTH", MAX_LENGTH, f"expression longer than "
                                   f"{MAX_LENGTH} characters (MAX_LENGTH is {MAX_LENGTH})")
    depth = source_depth(source)
    if depth > MAX_DEPTH:
        raise ExpressionLimitError("MAX_DEPTH", MAX_DEPTH, f"expression nested deeper than "
                                   f"{MAX_DEPTH} levels of brackets and unary operators "
                                   f"(MAX_DEPTH is {MAX_DEPTH})")


def source_depth(source: str) -> int:
    """The deepest nesting of brackets plus pending unary operators in ``source`` (an upper
    bound of how deep a parser recurses on it), counted up to ``MAX_DEPTH + 1``. Plain strings
    are skipped; f-strings are counted as code, since their ``{...}`` hold expressions."""
    stack: list[int] = []  # unary operators pending outside each open bracket
    held = pending = deepest = 0  # held: sum(stack)
    i, n = 0, len(source)
    while i < n and deepest <= MAX_DEPTH:
        ch = source[i]
        if ch in "\"'" and "f" not in _string_prefix(source, i).lower():
            i = _string_end(source, i)
            pending = 0
            continue
        if ch in "([{":
            stack.append(pending)
            held += pending
            pending = 0
        elif ch in ")]}":
            held -= stack.pop() if stack else 0
            pending = 0  # the bracketed group was the operand of what was pending
        elif ch in "-+~":
            pending += 1
        elif ch.isalnum() or ch in "_.":
            j = i
            while j < n and (source[j].isalnum() or source[j] in "_."):
                j += 1
            pending = pending + 1 if source[i:j] == "not" else 0
            i = j - 1
        deepest = max(deepest, len(stack) + held + pending)
        i += 1
    return deepest


def _string_prefix(source: str, quote_at: int) -> str:
    j = quote_at
    while j > 0 and source[j - 1].isalpha():
        j -= 1
    return source[j:quote_at]


def _string_end(source: str, start: int) -> int:
    """The index after the string literal opening at ``start`` (the end of the source if it is
    not closed: the parser reports that)."""
    quote = source[start] * 3 if source.startswith(source[start] * 3, start) else source[start]
    i = start + len(quote)
    while i < len(source):
        if source[i] == "\\":
            i += 2
        elif source.startswith(quote, i):
            return i + len(quote)
        else:
            i += 1
    return len(source)
