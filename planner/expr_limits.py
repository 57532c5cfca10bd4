"""The limits of the safe expression evaluator (:mod:`planner.expr`) and the meter that enforces
them. Every limit is checked *before* the work or the value it bounds is done or built, and every
refusal is an :class:`ExpressionLimitError` naming the limit and its value.

Source (checked by :mod:`planner.expr_source` before :func:`ast.parse`, so the parser itself
never recurses too deep):

- ``MAX_LENGTH``: characters of an expression.
- ``MAX_DEPTH``: nesting, counted twice: brackets plus pending unary operators (``-``, ``+``,
  ``~``, ``not``) in the source, then the depth of the parsed tree (so the evaluator, which
  recurses, never goes deeper).

Evaluation:

- ``MAX_OPERATIONS``: nodes of the parsed tree; nodes evaluated plus function calls.
- ``MAX_SIZE``: cells of any value the expression builds. A string has one cell per character,
  an integer one per 64 bits, any other scalar one; a list, tuple or dict the sum of its items'
  cells (an empty one counts one). Items are counted through nesting and every time they occur,
  so ``[[1] * 10**4] * 10**4`` is 10**8 cells, however little memory the aliases take.
  Repetition, concatenation, ``%`` formatting and ``str()`` compute the size of their result
  (or an upper bound of it) before they build it.
- ``MAX_WORK``: the cells of all values built, plus the cells read to measure them, in one
  evaluation. This bounds the time any expression takes: a few hundred milliseconds at most.
- ``MAX_INT_BITS``: bits of any integer (multiplication and powers are checked beforehand).
- ``MAX_POWER``: the largest exponent, and the largest number of digits ``round`` may round to.
- ``MAX_FORMAT_WIDTH``: width and precision in a ``%`` format (``'%0999999999d'`` is refused);
  a ``*`` width or precision is refused.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

MAX_LENGTH = 2_000
MAX_DEPTH = 100
MAX_OPERATIONS = 10_000
MAX_SIZE = 100_000
MAX_WORK = 1_000_000
MAX_INT_BITS = 100_000
MAX_POWER = 10_000
MAX_FORMAT_WIDTH = 1_000
MAX_SEQUENCE = MAX_SIZE  # the former name of MAX_SIZE

_FORMAT_SLACK = 330  # beyond width + precision + argument: '%f' % 1e308 is 316 characters


class ExpressionError(ValueError):
    """The expression is not allowed or cannot be evaluated."""


class ExpressionLimitError(ExpressionError):
    """The expression exceeds one of the limits: ``limit`` names it, ``value`` is its value."""

    def __init__(self, limit: str, value: int, message: str) -> None:
        super().__init__(message)
        self.limit, self.value = limit, value


class Meter:
    """Counts one evaluation's operations and work, and measures values (sizes are cached for
    the containers seen, which are kept alive so their ids stay theirs)."""

    def __init__(self) -> None:
        self.operations = 0
        self.work = 0
        self._sizes: dict[int, int] = {}
        self._texts: dict[int, int] = {}
        self._keep: list[Any] = []

    def step(self, count: int = 1) -> None:
        self.operations += count
        if self.operations > MAX_OPERATIONS:
            raise ExpressionLimitError("MAX_OPERATIONS", MAX_OPERATIONS, f"more than "
                                       f"{MAX_OPERATIONS} operations (MAX_OPERATIONS is "
                                       f"{MAX_OPERATIONS})")

    def charge(self, cells: int) -> None:
        self.work += cells
        if self.work > MAX_WORK:
            raise ExpressionLimitError("MAX_WORK", MAX_WORK, f"the expression builds or reads "
                                       f"more than {MAX_WORK} cells of values in all (MAX_WORK "
                                       f"is {MAX_WORK})")

    def need(self, cells: int, what: str) -> None:
        """Refuse to build ``what`` of ``cells`` cells if that is over ``MAX_SIZE``."""
        if cells > MAX_SIZE:  # measured sizes stop at MAX_SIZE + 1: that one is "more than"
            shown = (f"{cells}" if MAX_SIZE + 1 < cells <= 10 * MAX_SIZE
                     else f"more than {MAX_SIZE if cells == MAX_SIZE + 1 else 10 * MAX_SIZE}")
            raise ExpressionLimitError("MAX_SIZE", MAX_SIZE, f"{what} would have {shown} "
                                       f"cells (MAX_SIZE is {MAX_SIZE})")
        self.charge(cells)

    def built(self, value: Any, cells: int | None = None) -> Any:
        """Record a value the expression built (its size checked and charged)."""
        if isinstance(value, list | tuple | dict):
            size = self.size(value) if cells is None else cells
            self.need(size, "a value")
            self._sizes[id(value)] = size
            self._keep.append(value)
        elif isinstance(value, str):
            self.need(len(value), "a string")
        elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise int_limit("an integer result", value.bit_length())
        return value

    def size(self, value: Any) -> int:
        """Cells of ``value``, or ``MAX_SIZE + 1`` once it is known to be larger."""
        return self._measure(value, self._sizes, _cells)

    def text(self, value: Any) -> int:
        """An upper bound of ``len(repr(value))`` and ``len(str(value))``, or ``MAX_SIZE + 1``
        once it is known to be larger."""
        return self._measure(value, self._texts, _text)

    def _measure(self, value: Any, cache: dict[int, int], leaf: Any) -> int:
        cap = MAX_SIZE + 1
        total, stack, read = 0, [value], 0
        while stack and total < cap:
            item = stack.pop()
            read += 1
            known = cache.get(id(item)) if isinstance(item, list | tuple | dict) else None
            if known is not None:
                total += known
            elif isinstance(item, Mapping):
                total += leaf(item)
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list | tuple):
                total += leaf(item)
                stack.extend(item)
            else:
                total += leaf(item)
        self.charge(read)
        result = min(total, cap)
        if isinstance(value, list | tuple | dict):
            cache[id(value)] = result
            self._keep.append(value)
        return result


def _cells(item: Any) -> int:
    """The cells an item adds by itself (a container's items are measured separately)."""
    if isinstance(item, str):
        return max(1, len(item))
    if isinstance(item, list | tuple | dict):
        return 0 if item else 1
    if isinstance(item, int) and not isinstance(item, bool):
        return 1 + item.bit_length() // 64
    return 1


def _text(item: Any) -> int:
    """What an item adds to the text of a value: brackets and separators of a container, the
    whole text of a scalar."""
    if isinstance(item, str):
        return len(repr(item)) if len(item) <= MAX_SIZE else MAX_SIZE + 1
    if isinstance(item, bool) or item is None:
        return 5
    if isinstance(item, int):
        bits = item.bit_length()
        return len(str(item)) if bits <= 64 else bits * 30103 // 100_000 + 2
    if isinstance(item, float):
        return 24
    if isinstance(item, Mapping):
        return 2 + 4 * len(item)
    if isinstance(item, list | tuple):
        return 3 + 2 * len(item)
    return 64  # not a JSON value; its text is checked once built


def int_limit(what: str, bits: int) -> ExpressionLimitError:
    return ExpressionLimitError("MAX_INT_BITS", MAX_INT_BITS, f"{what} would have {bits} bits: "
                                f"too large (MAX_INT_BITS is {MAX_INT_BITS})")


def format_size(meter: Meter, fmt: str, arg: Any) -> int:
    """An upper bound of ``len(fmt % arg)``; refuses a ``*`` width or precision and those over
    ``MAX_FORMAT_WIDTH``."""
    conversions = widths = 0
    i = fmt.find("%")
    while i >= 0:
        j = i + 1
        if fmt.startswith("%", j):  # '%%'
            i = fmt.find("%", j + 1)
            continue
        if fmt.startswith("(", j):
            close = fmt.find(")", j)
            j = close + 1 if close >= 0 else len(fmt)
        while j < len(fmt) and fmt[j] in "#0- +":
            j += 1
        width, j = _format_number(fmt, j, "width")
        precision = 0
        if fmt.startswith(".", j):
            precision, j = _format_number(fmt, j + 1, "precision")
        widths += width + precision
        conversions += 1
        i = fmt.find("%", j + 1)  # fmt[j] is the conversion (or a length modifier)
    if not conversions:
        return len(fmt)
    # octal has the most digits per bit: an integer argument may be formatted with '%o'
    text = arg.bit_length() // 3 + 3 if isinstance(arg, int) else meter.text(arg)
    return len(fmt) + widths + conversions * (_FORMAT_SLACK + text)


def _format_number(fmt: str, start: int, part: str) -> tuple[int, int]:
    if fmt.startswith("*", start):
        raise ExpressionLimitError("MAX_FORMAT_WIDTH", MAX_FORMAT_WIDTH, f"a '*' {part} in a % "
                                   "format is not allowed")
    end = start
    while end < len(fmt) and fmt[end].isdigit():
        end += 1
    digits = fmt[start:end]
    if len(digits) > len(str(MAX_FORMAT_WIDTH)) or int(digits or 0) > MAX_FORMAT_WIDTH:
        shown = digits if len(digits) <= 20 else digits[:20] + "..."
        raise ExpressionLimitError("MAX_FORMAT_WIDTH", MAX_FORMAT_WIDTH, f"a % format {part} of "
                                   f"{shown} is too large (MAX_FORMAT_WIDTH is "
                                   f"{MAX_FORMAT_WIDTH})")
    return int(digits or 0), end


def check_binop(meter: Meter, op: ast.operator, left: Any, right: Any) -> int | None:
    """Refuse operations whose result would be too large, before computing them; the
    result's cells when they are known without measuring it."""
    if isinstance(op, ast.Pow) and _number(right):
        if abs(right) > MAX_POWER:
            raise ExpressionLimitError("MAX_POWER", MAX_POWER, f"exponent {right} is too "
                                       f"large (MAX_POWER is {MAX_POWER})")
        if _integer(left) and right > 0 and abs(left).bit_length() * right > MAX_INT_BITS:
            raise int_limit(f"{_describe(left)} ** {right}",
                            int(abs(left).bit_length() * right))
    if isinstance(op, ast.Mult):
        if _integer(left) and _integer(right):
            bits = left.bit_length() + right.bit_length()
            if bits > MAX_INT_BITS:
                raise int_limit("a product", bits)
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and _integer(n):
                cells = max(1, meter.size(seq) * max(n, 0)) if seq else 1
                meter.need(cells, "the repetition")
                return cells if isinstance(seq, list | tuple) else None
    if isinstance(op, ast.Add) and isinstance(left, str | list | tuple) \
            and isinstance(right, str | list | tuple) and type(left) is type(right):
        cells = meter.size(left) + meter.size(right)
        meter.need(cells, "the concatenation")
        return cells if isinstance(left, list | tuple) else None
    if isinstance(op, ast.Mod) and isinstance(left, str):
        meter.need(format_size(meter, left, right), "the formatted string")
    return None


def _integer(value: Any) -> bool:
    return isinstance(value, int)


def _number(value: Any) -> bool:
    return isinstance(value, int | float)


def _describe(number: int) -> str:
    bits = abs(number).bit_length()
    return str(number) if bits <= 64 else f"an integer of {bits} bits"
