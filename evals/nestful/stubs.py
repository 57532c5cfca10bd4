"""Deterministic stub outputs shaped by a tool's output schema."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from planner.tools import Tool


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _fake(node: Mapping[str, Any], path: str, seed: str) -> Any:
    h = _digest(seed, path)
    kind = node.get("type")
    label = path or "value"
    if kind == "object" or "properties" in node:
        props = node.get("properties")
        if isinstance(props, dict) and props:
            return {k: _fake(v, f"{path}.{k}" if path else k, seed) for k, v in props.items()}
        return {"value": f"{label}#{h[:12]}"}
    if kind == "array":
        items = node.get("items")
        item_schema = items if isinstance(items, dict) and items else {"type": "string"}
        return [_fake(item_schema, f"{path}[{i}]", seed) for i in range(2)]
    if kind == "integer":
        return int(h[:8], 16) % 100_000
    if kind == "number":
        return (int(h[:8], 16) % 10_000_000) / 100 + 0.01
    if kind == "boolean":
        return int(h[0], 16) % 2 == 0
    return f"{label}#{h[:12]}"


def stub_output(tool_name: str, schema: Mapping[str, Any], args: Mapping[str, Any]) -> Any:
    """The stub's output for a call: shaped like ``schema``; every value depends on the tool
    name, its field path and ``args`` (the call's arguments without the unset ones)."""
    seed = _digest(tool_name, json.dumps(args, sort_keys=True, default=str, ensure_ascii=False))
    return _fake(schema, "", seed)


def stub_call_args(tool: Tool, args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments a stub receives for ``args``: validated, unset (None) ones dropped."""
    parsed = tool.args_model.model_validate(dict(args))
    values = {name: getattr(parsed, name) for name in type(parsed).model_fields}
    return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class StubCall:
    """One call a stub served (recorded when ``build_stub_registry`` gets a ``calls`` list)."""

    tool: str
    args: dict[str, Any]
    output: Any
