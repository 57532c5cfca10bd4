"""Walking a plan's JSON: its literal leaves and the text outside references."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from planner.rebinding.goal_text import PathItem
from planner.refs import scan


def _split_raw(text: str) -> list[tuple[bool, int, int]]:
    """Segments of a raw argument string: (is_reference, start, end), from the one scanner
    (:func:`planner.refs.scan`); ``$${`` and an unclosed ``${`` stay literal."""
    return [(span.kind == "ref", span.start, span.end) for span in scan(text)]


def _literal_text(text: str) -> list[str]:
    return [text[a:b] for is_ref, a, b in _split_raw(text) if not is_ref]


def _leaves(value: Any, path: tuple[PathItem, ...]) -> Iterator[tuple[tuple[PathItem, ...], Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _plan_leaves(data: dict[str, Any], *, sources: bool) -> Iterator[tuple[tuple[PathItem, ...],
                                                                          Any]]:
    """Leaves of the plan dict: step args and conditions; with ``sources=False`` also the
    outputs (values are rewritten there but never discovered there)."""
    for i, step in enumerate(data["steps"]):
        yield from _leaves(step.get("args", {}), ("steps", i, "args"))
        if step.get("when"):
            yield ("steps", i, "when"), step["when"]
    if not sources:
        yield from _leaves(data.get("outputs", {}), ("outputs",))


def _get(data: Any, path: tuple[PathItem, ...]) -> Any:
    for item in path:
        data = data[item]
    return data


def _set(data: Any, path: tuple[PathItem, ...], value: Any) -> None:
    for item in path[:-1]:
        data = data[item]
    data[path[-1]] = value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_texts(value: float) -> list[str]:
    if isinstance(value, int):
        return [str(value)]
    texts = [repr(value)]
    if value.is_integer():
        texts.insert(0, str(int(value)))
    return texts
