"""Tool output schemas built from NESTFUL specs, and walking them along a reference path."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evals.nestful.data import ToolSpec
from planner.refs import PathItem

_JSON_TYPES = {"string": "string", "str": "string", "number": "number", "float": "number",
               "double": "number", "integer": "integer", "int": "integer", "boolean": "boolean",
               "bool": "boolean", "array": "array", "list": "array", "object": "object",
               "dict": "object", "enum": "string"}


_PY_TYPES: dict[str, Any] = {"string": str, "number": float, "integer": int, "boolean": bool,
                             "array": list[Any], "object": dict[str, Any]}


def json_type(spec_type: str) -> str:
    """A spec's type name (``String``, ``Number``, ``Date (yyyy-mm-dd)``...) as a JSON type."""
    return _JSON_TYPES.get(spec_type.strip().lower(), "string")


def _output_node(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):  # shorthand: {"count": "string"}
        raw = {"type": raw}
    if not isinstance(raw, dict):
        return {}
    default = "object" if "properties" in raw else "array" if "items" in raw else "string"
    kind = json_type(str(raw.get("type") or default))
    node: dict[str, Any] = {"type": kind}
    if raw.get("description"):
        node["description"] = str(raw["description"])
    if kind == "object" and isinstance(raw.get("properties"), dict):
        node["properties"] = {k: _output_node(v) for k, v in raw["properties"].items()}
    if kind == "array" and "items" in raw:
        node["items"] = _output_node(raw["items"])
    return node


def output_schema_from_spec(spec: ToolSpec) -> dict[str, Any]:
    """JSON Schema of a spec's output fields (nested ``properties`` and ``items`` kept)."""
    return {"type": "object",
            "properties": {k: _output_node(v) for k, v in spec.output_parameters.items()}}


@dataclass(frozen=True)
class PathWalk:
    """A reference path checked against an output schema."""

    path: tuple[PathItem, ...]  # with [0] inserted where a field is applied to a list
    first_element: tuple[int, ...] = ()  # positions in ``path`` of the inserted [0]
    missing: int | None = None  # position in ``path`` of the first field the schema lacks
    conflict: str | None = None  # the schema rules the path out in a way no added field fixes
    node: dict[str, Any] | None = None  # the sub-schema at the end (None: unknown)


def walk_schema(schema: Mapping[str, Any], path: Sequence[PathItem]) -> PathWalk:
    out: list[PathItem] = []
    inserted: list[int] = []
    node: Mapping[str, Any] | None = schema
    for i, item in enumerate(path):
        rest = tuple(path[i:])
        while node is not None and isinstance(item, str) and node.get("type") == "array":
            inserted.append(len(out))
            out.append(0)
            items = node.get("items")
            node = items if isinstance(items, dict) and items else None
        if node is None:
            return PathWalk((*out, *rest), tuple(inserted))
        kind = node.get("type")
        if isinstance(item, int):
            if kind == "array":
                out.append(item)
                items = node.get("items")
                node = items if isinstance(items, dict) and items else None
                continue
            return PathWalk((*out, *rest), tuple(inserted),
                            conflict=f"index [{item}] applied to {kind or 'a value'}")
        if kind == "object" or (kind is None and "properties" in node):
            props = node.get("properties")
            if not isinstance(props, dict):
                return PathWalk((*out, *rest), tuple(inserted))
            if item in props:
                out.append(item)
                node = props[item]
                continue
            return PathWalk((*out, *rest), tuple(inserted), missing=len(out))
        if kind is None:
            return PathWalk((*out, *rest), tuple(inserted))
        return PathWalk((*out, *rest), tuple(inserted),
                        conflict=f"field '{item}' applied to a {kind}")
    return PathWalk(tuple(out), tuple(inserted), node=dict(node) if node is not None else None)


def _add_field(schema: dict[str, Any], walk: PathWalk, leaf: dict[str, Any]) -> None:
    assert walk.missing is not None
    node = schema
    for item in walk.path[:walk.missing]:
        node = node["items"] if isinstance(item, int) else node["properties"][item]
    rest = walk.path[walk.missing:]
    for j, item in enumerate(rest):
        after = rest[j + 1] if j + 1 < len(rest) else None
        new: dict[str, Any] = (copy.deepcopy(leaf) if after is None
                               else {"type": "array", "items": {}} if isinstance(after, int)
                               else {"type": "object", "properties": {}})
        if isinstance(item, int):
            if not node.get("items"):
                node["items"] = new
            node = node["items"]
        else:
            node = node.setdefault("properties", {}).setdefault(item, new)


def _all_fields(node: Mapping[str, Any], prefix: tuple[PathItem, ...] = ()
                ) -> Iterator[tuple[tuple[PathItem, ...], dict[str, Any]]]:
    props = node.get("properties")
    if isinstance(props, dict):
        for key, sub in props.items():
            yield (*prefix, key), sub
            yield from _all_fields(sub, (*prefix, key))
    items = node.get("items")
    if isinstance(items, dict):
        yield from _all_fields(items, (*prefix, 0))


def _similar_fields(schema: Mapping[str, Any], key: str
                    ) -> list[tuple[tuple[PathItem, ...], dict[str, Any]]]:
    """Where a missing field may be: the same name elsewhere, else close or suffixed names."""
    fields = list(_all_fields(schema))
    exact = [(p, n) for p, n in fields if p[-1] == key]
    if exact:
        return exact
    names = sorted({str(p[-1]) for p, _ in fields})
    close = set(difflib.get_close_matches(key, names, n=3, cutoff=0.8))
    low = key.lower()
    if len(low) >= 2:
        close |= {n for n in names if n.lower().endswith(("_" + low, low)) and n != key}
    return [(p, n) for p, n in fields if p[-1] in close]
