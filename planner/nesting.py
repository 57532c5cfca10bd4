"""How deep a JSON-like value nests, measured without recursion (a value too deep for Python's
recursion limit is measured like any other). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def nests_deeper(value: Any, limit: int) -> bool:
    """Whether ``value`` has more than ``limit`` levels of dicts and lists (a scalar has none,
    ``{"a": [1]}`` two). Stops as soon as the answer is known."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
