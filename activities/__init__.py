"""Everything with side effects: built-in tools, the LangChain adapter, the LLM client, template
memory, the payload store, and the activities that run tools and plan goals.

Tool authors import the specification types from here (they live in :mod:`planner.tools`)."""

from __future__ import annotations

from activities.errors import ToolError, ToolInputError, ToolRefused
from activities.registry import default_registry, load_plugins
from planner.retry import RetrySpec
from planner.tools import (
    Risk,
    Tool,
    ToolContext,
    ToolRegistry,
    tool,
    tool_from_function,
)

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
    "load_plugins",
    "tool",
    "tool_from_function",
]
