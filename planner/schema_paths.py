"""Walk a JSON Schema along a reference path, to check fields exist before anything runs."""

from __future__ import annotations

from typing import Any

from planner.refs import PathItem

JSON_TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}


def deref(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 32:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return {}
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node if isinstance(node, dict) else {}
        seen += 1
    return schema


def _single_branch(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any] | None:
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branches = [deref(b, root) for b in schema[key]]
            branches = [b for b in branches if b.get("type") != "null"]
            return branches[0] if len(branches) == 1 else None
    return schema


class PathProblem(ValueError):
    pass


def schema_at(
    schema: dict[str, Any], path: tuple[PathItem, ...]
) -> dict[str, Any] | None:
    """The sub-schema at ``path``; None when the schema does not say (open object, any).

    Raises PathProblem when the schema says the path cannot exist.
    """
    root = schema
    node: dict[str, Any] | None = deref(schema, root)
    for depth, item in enumerate(path):
        if node is None:
            return None
        node = _single_branch(deref(node, root), root)
        if node is None:
            return None
        kind = node.get("type")
        where = "the output" if depth == 0 else f"'{_fmt(path[:depth])}'"
        if isinstance(item, int):
            if kind == "object" or "properties" in node:
                raise PathProblem(f"index [{item}] applied to an object at {where}")
            if kind == "array":
                items = node.get("items")
                node = deref(items, root) if isinstance(items, dict) else None
                continue
            if kind in JSON_TYPES:
                raise PathProblem(f"index [{item}] applied to a {kind} at {where}")
            return None
        if kind == "array":
            raise PathProblem(
                f"field '{item}' applied to a list at {where} (use an index like [0] first)"
            )
        if kind in JSON_TYPES - {"object"}:
            raise PathProblem(f"field '{item}' applied to a {kind} at {where}")
        props = node.get("properties")
        if isinstance(props, dict) and item in props:
            node = deref(props[item], root)
            continue
        extra = node.get("additionalProperties")
        if (props and extra in (None, False)) or extra is False:
            known = ", ".join(sorted(props)) if props else "none"
            raise PathProblem(f"no field '{item}' in {where} (fields: {known})")
        node = deref(extra, root) if isinstance(extra, dict) else None
    return node


def _fmt(path: tuple[PathItem, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def json_types(schema: dict[str, Any] | None, root: dict[str, Any] | None = None) -> set[str]:
    """The JSON types a schema admits; empty set means 'anything'."""
    if not schema:
        return set()
    schema = deref(schema, root or schema)
    if "anyOf" in schema or "oneOf" in schema:
        out: set[str] = set()
        for branch in schema.get("anyOf", schema.get("oneOf", [])):
            sub = json_types(branch, root or schema)
            if not sub:
                return set()
            out |= sub
        return out
    kind = schema.get("type")
    if isinstance(kind, list):
        return set(kind)
    if isinstance(kind, str):
        return {kind}
    if "enum" in schema or "const" in schema:
        return set()
    return set()
