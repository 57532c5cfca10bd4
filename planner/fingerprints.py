"""Tool-schema fingerprints: a stored template is only valid for the tools it was validated with.

A fingerprint is the sha256 of the canonical JSON of a tool's name, argument schema, output schema
and kind (activity or timer). Descriptions, risk, retries and timeouts are left out: they change
how a plan runs, not whether its arguments and references still fit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Protocol

from planner.plan import Plan


class FingerprintTool(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def args_schema(self) -> dict[str, Any]: ...
    @property
    def output_schema(self) -> dict[str, Any] | None: ...
    @property
    def kind(self) -> str: ...


class ToolLookup(Protocol):
    """What is needed of a registry: ``ToolRegistry`` and ``dict[str, Tool]`` both fit."""

    def get(self, name: str, /) -> Any: ...


def tool_fingerprint(tool: FingerprintTool) -> str:
    """sha256 (hex) of the canonical JSON of the tool's name, schemas and kind."""
    payload = {
        "name": tool.name,
        "args_schema": tool.args_schema,
        "output_schema": tool.output_schema,
        "kind": tool.kind,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def plan_fingerprints(plan: Plan, registry: ToolLookup) -> dict[str, str]:
    """Fingerprint of every tool the plan uses; raises KeyError for a tool not in the registry."""
    out: dict[str, str] = {}
    for step in plan.steps:
        if step.tool in out:
            continue
        tool = registry.get(step.tool)
        if tool is None:
            raise KeyError(f"step '{step.id}' uses tool '{step.tool}', which is not registered")
        out[step.tool] = tool_fingerprint(tool)
    return out


def stale_tools(stored: Mapping[str, str], registry: ToolLookup) -> list[str]:
    """Tools (sorted) that are gone from the registry or whose fingerprint changed."""
    stale = []
    for name, fingerprint in stored.items():
        tool = registry.get(name)
        if tool is None or tool_fingerprint(tool) != fingerprint:
            stale.append(name)
    return sorted(stale)


__all__ = ["plan_fingerprints", "stale_tools", "tool_fingerprint"]
