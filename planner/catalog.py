"""The tool catalogue as the planner shows it to the model, and example plans as few-shot text."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from activities.registry import Tool, ToolRegistry
from planner.plan import Plan


class Example(BaseModel):
    """A past plan shown to the model (from template memory)."""

    goal: str
    plan: Plan
    template_id: str | None = None
    distance: float | None = None


def _compact(schema: dict[str, Any] | None) -> str:
    if not schema:
        return "any"
    return json.dumps(_strip_titles(schema), separators=(",", ":"), ensure_ascii=False)


def _strip_titles(value: Any) -> Any:
    """Titles repeat the field names: drop them to save tokens."""
    if isinstance(value, dict):
        return {k: _strip_titles(v) for k, v in value.items() if k != "title"}
    if isinstance(value, list):
        return [_strip_titles(v) for v in value]
    return value


def render_tool(tool: Tool) -> str:
    args = dict(tool.args_schema)
    about = " ".join(str(args.pop("description", "") or tool.description).split())
    return (f"- {tool.name} [{tool.risk.value}]: {about}\n"
            f"  args: {_compact(args)}\n"
            f"  output: {_compact(tool.output_schema)}")


def render_catalog(registry: ToolRegistry) -> str:
    return "\n".join(render_tool(t) for t in registry)


def render_examples(examples: Iterable[Example]) -> str:
    parts = []
    for ex in examples:
        plan = ex.plan.model_dump(mode="json", exclude_defaults=True)
        parts.append(f"Goal: {ex.goal}\nPlan: {json.dumps(plan, ensure_ascii=False)}")
    return "\n\n".join(parts)
