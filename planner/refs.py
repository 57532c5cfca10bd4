"""References from one step's arguments to earlier steps' outputs.

Syntax (inside any string argument value):

- ``${fetch}``: the whole output of step ``fetch`` (type preserved when the string is only the ref);
- ``${fetch.body.items[0].title}``: a field path: dict keys after ``.``, list indexes in ``[n]``;
- ``${rates["Exchange Rate"]}``: a quoted key, for keys with dots or brackets in them;
- ``"Total: ${sum.value} EUR"``: interpolation; non-string values are rendered as JSON;
- ``$${`` is a literal ``${``.

This module is pure (no I/O), so workflow code can use it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

PathItem = str | int

STEP_ID_PATTERN = r"[A-Za-z_][A-Za-z0-9_-]{0,63}"
_STEP_ID = re.compile(STEP_ID_PATTERN)
_SEGMENT = re.compile(
    r"""\.([^.\[\]}]+)|\[(-?\d+)\]|\[\s*("(?:[^"\\]|\\.)*")\s*\]|\[\s*'([^']*)'\s*\]"""
)


class RefSyntaxError(ValueError):
    """A ``${...}`` expression that cannot be parsed."""


class RefResolutionError(LookupError):
    """A reference whose path does not exist in the producer's actual output."""


@dataclass(frozen=True)
class Ref:
    step: str
    path: tuple[PathItem, ...] = ()

    def __str__(self) -> str:
        return "${" + self.step + format_path(self.path) + "}"


def format_path(path: tuple[PathItem, ...]) -> str:
    out = []
    for item in path:
        if isinstance(item, int):
            out.append(f"[{item}]")
        elif re.fullmatch(r"[^.\[\]}\"'\s]+", item):
            out.append(f".{item}")
        else:
            out.append(f"[{json.dumps(item)}]")
    return "".join(out)


def parse_ref(expr: str) -> Ref:
    """Parse the inside of ``${...}``: a step id followed by a field path."""
    match = _STEP_ID.match(expr)
    if not match:
        raise RefSyntaxError(f"reference '${{{expr}}}' must start with a step id")
    pos = match.end()
    path: list[PathItem] = []
    while pos < len(expr):
        seg = _SEGMENT.match(expr, pos)
        if not seg:
            raise RefSyntaxError(
                f"reference '${{{expr}}}': cannot read the path at '{expr[pos:]}' "
                "(use .key, [0] or [\"key with spaces\"])"
            )
        key, index, dq, sq = seg.groups()
        if index is not None:
            path.append(int(index))
        elif dq is not None:
            path.append(json.loads(dq))
        else:
            path.append(key if key is not None else sq)
        pos = seg.end()
    return Ref(match.group(0), tuple(path))


@dataclass(frozen=True)
class Span:
    """A piece of a string: literal ``text`` (``$${`` escapes still in it), a whole ``ref``
    (``${`` to its ``}``), or an ``unclosed`` ``${`` and everything after it."""

    kind: Literal["text", "ref", "unclosed"]
    start: int
    end: int


def scan(text: str) -> list[Span]:
    """The one ``${...}`` scanner: ``text`` as literal and reference spans, in order.

    ``$${`` is an escaped ``${`` and stays in a literal span; quotes and escapes inside a
    reference body are skipped (:func:`closing_brace`)."""
    spans: list[Span] = []
    i = start = 0
    while i < len(text):
        if text.startswith("$${", i):
            i += 3
        elif text.startswith("${", i):
            end = closing_brace(text, i + 2)
            if i > start:
                spans.append(Span("text", start, i))
            if end < 0:
                spans.append(Span("unclosed", i, len(text)))
                return spans
            spans.append(Span("ref", i, end + 1))
            i = start = end + 1
        else:
            i += 1
    if start < len(text):
        spans.append(Span("text", start, len(text)))
    return spans


def unescape(literal: str) -> str:
    """A literal span as the text it stands for (``$${`` -> ``${``)."""
    return literal.replace("$${", "${")


def parse_template(text: str) -> list[str | Ref]:
    """Split a string into literal parts and references."""
    parts: list[str | Ref] = []
    for span in scan(text):
        piece = text[span.start:span.end]
        if span.kind == "text":
            parts.append(unescape(piece))
        elif span.kind == "ref":
            parts.append(parse_ref(piece[2:-1].strip()))
        else:
            raise RefSyntaxError(f"unclosed '${{' at position {span.start} in {text!r}")
    return parts


def closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing a ``${`` whose body starts at ``start`` (quotes and escapes
    inside the body are skipped), or -1."""
    quote: str | None = None
    escaped = False
    for j in range(start, len(text)):
        ch = text[j]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "}":
            return j
    return -1


def iter_refs(value: Any) -> Iterator[Ref]:
    """Every reference inside a JSON-like value (strings in dicts and lists, recursively)."""
    if isinstance(value, str):
        if "${" in value:
            for part in parse_template(value):
                if isinstance(part, Ref):
                    yield part
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from iter_refs(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from iter_refs(item)


def is_whole_ref(value: Any) -> Ref | None:
    """The reference if ``value`` is exactly one ``${...}`` and nothing else."""
    if isinstance(value, str) and value.startswith("${"):
        parts = parse_template(value)
        if len(parts) == 1 and isinstance(parts[0], Ref):
            return parts[0]
    return None


def lookup(value: Any, ref: Ref) -> Any:
    """Follow ``ref.path`` into ``value`` (the producer's output)."""
    current = value
    for depth, item in enumerate(ref.path):
        where = "${" + ref.step + format_path(ref.path[:depth]) + "}"
        if isinstance(item, int):
            if not isinstance(current, list):
                raise RefResolutionError(
                    f"{ref}: index [{item}] applied to {_kind(current)} at {where}"
                )
            if not -len(current) <= item < len(current):
                raise RefResolutionError(
                    f"{ref}: index [{item}] out of range, {where} has {len(current)} items"
                )
            current = current[item]
        else:
            if not isinstance(current, Mapping):
                raise RefResolutionError(
                    f"{ref}: key '{item}' applied to {_kind(current)} at {where}"
                )
            if item not in current:
                keys = ", ".join(sorted(map(str, current))[:12]) or "none"
                raise RefResolutionError(
                    f"{ref}: no key '{item}' at {where} (keys: {keys})"
                )
            current = current[item]
    return current


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__} value"


def render(value: Any) -> str:
    """How a referenced value appears when interpolated into a string."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def resolve(value: Any, outputs: Mapping[str, Any]) -> Any:
    """Replace every reference in ``value`` with data from ``outputs`` (step id -> output)."""
    if isinstance(value, str):
        if "${" not in value and "$${" not in value:
            return value
        parts = parse_template(value)
        if len(parts) == 1 and isinstance(parts[0], Ref):
            return _resolve_one(parts[0], outputs)
        return "".join(
            render(_resolve_one(p, outputs)) if isinstance(p, Ref) else p for p in parts
        )
    if isinstance(value, Mapping):
        return {k: resolve(v, outputs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, outputs) for v in value]
    return value


def _resolve_one(ref: Ref, outputs: Mapping[str, Any]) -> Any:
    if ref.step not in outputs:
        raise RefResolutionError(f"{ref}: step '{ref.step}' has no output (not finished?)")
    return lookup(outputs[ref.step], ref)
