"""NESTFUL's `$label.field$` references, parsed into our references."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from evals.nestful.data import Call, Sample
from planner.refs import PathItem, Ref

_LABEL = r"[A-Za-z_][A-Za-z0-9_-]*"


_BODY = _LABEL + r"(?:\.[^.$\[\]]+|\[\d+\])*"


_NREF = re.compile(r"\$(" + _BODY + r")\$")


_NSEG = re.compile(r"\.([^.$\[\]]+)|\[(\d+)\]")


_HALF_REF = re.compile(r"\$?(" + _BODY + r")\$?")


def parse_nestful_ref(body: str) -> Ref:
    """``var1.author[0].id`` (the inside of ``$...$``) -> Ref('var1', ('author', 0, 'id'))."""
    match = re.match(_LABEL, body)
    if not match:
        raise ValueError(f"not a NESTFUL reference: {body!r}")
    path: list[PathItem] = []
    pos = match.end()
    while pos < len(body):
        seg = _NSEG.match(body, pos)
        if not seg:
            raise ValueError(f"cannot read the path of NESTFUL reference {body!r} at {pos}")
        key, index = seg.groups()
        path.append(int(index) if index is not None else key)
        pos = seg.end()
    return Ref(match.group(0), tuple(path))


@dataclass(frozen=True)
class Template:
    """A NESTFUL string argument holding references: literal text and refs, in order."""

    parts: tuple[str | Ref, ...]
    original: str
    repaired: bool = False

    @property
    def whole(self) -> Ref | None:
        only = self.parts[0] if len(self.parts) == 1 else None
        return only if isinstance(only, Ref) else None

    def refs(self) -> list[Ref]:
        return [p for p in self.parts if isinstance(p, Ref)]


def parse_nestful_value(value: Any, labels: set[str]) -> Any:
    """``value`` with each string that references a known label replaced by a Template."""
    if isinstance(value, dict):
        return {k: parse_nestful_value(v, labels) for k, v in value.items()}
    if isinstance(value, list):
        return [parse_nestful_value(v, labels) for v in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    parts: list[str | Ref] = []
    pos = 0
    for match in _NREF.finditer(value):
        ref = parse_nestful_ref(match.group(1))
        if ref.step not in labels:
            continue
        if match.start() > pos:
            parts.append(value[pos:match.start()])
        parts.append(ref)
        pos = match.end()
    if any(isinstance(p, Ref) for p in parts):
        if pos < len(value):
            parts.append(value[pos:])
        return Template(tuple(parts), value)
    half = _HALF_REF.fullmatch(value)
    if half and value.startswith("$") != value.endswith("$"):
        ref = parse_nestful_ref(half.group(1))
        if ref.step in labels:
            return Template((ref,), value, repaired=True)
    return value


def iter_templates(parsed: Any) -> Iterator[Template]:
    if isinstance(parsed, Template):
        yield parsed
    elif isinstance(parsed, dict):
        for v in parsed.values():
            yield from iter_templates(v)
    elif isinstance(parsed, list):
        for v in parsed:
            yield from iter_templates(v)


def _labels(sample: Sample) -> dict[str, Call]:
    return {c.label: c for c in sample.calls() if c.label}


def _nestful_text(ref: Ref) -> str:
    return "$" + ref.step + "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" for p in ref.path) + "$"
