"""Everything with side effects: the tool registry, built-in tools, and their activities."""

from __future__ import annotations

from activities.errors import ToolError, ToolInputError, ToolRefused
from activities.registry import (
    RetrySpec,
    Risk,
    Tool,
    ToolContext,
    ToolRegistry,
    tool,
    tool_from_function,
)


def default_registry(*, plugins: bool = True) -> ToolRegistry:
    """The built-in tools plus every plugin registered under the ``jarvis.tools`` entry point."""
    from activities import builtins

    registry = ToolRegistry()
    builtins.register(registry)
    if plugins:
        registry.load_entry_points()
    return registry


__all__ = [
    "RetrySpec",
    "Risk",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolInputError",
    "ToolRefused",
    "ToolRegistry",
    "default_registry",
    "tool",
    "tool_from_function",
]
