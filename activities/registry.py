"""The tools a worker offers: the built-ins plus every ``jarvis.tools`` entry-point plugin."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from planner.tools import DuplicateToolError, ToolRegistry

if TYPE_CHECKING:
    from planner.settings import Settings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "jarvis.tools"


def load_plugins(registry: ToolRegistry, group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Call every ``register(registry)`` plugin in the entry-point group; return their names."""
    loaded = []
    for ep in entry_points(group=group):
        try:
            ep.load()(registry)
        except DuplicateToolError:
            log.debug("entry point %s: tools already registered", ep.name)
        loaded.append(ep.name)
    return loaded


def default_registry(*, plugins: bool = True,
                     settings: Settings | None = None) -> ToolRegistry:
    """The built-in tools plus every plugin registered under the ``jarvis.tools`` entry point,
    and with ``settings``, the tools of its MCP servers (``JARVIS_MCP_SERVERS``)."""
    from activities import builtins

    registry = ToolRegistry()
    builtins.register(registry)
    if plugins:
        load_plugins(registry)
    if settings is not None and settings.mcp_servers:
        from activities.mcp.tools import add_mcp_tools  # the mcp SDK only when configured

        add_mcp_tools(registry, settings.mcp_servers)
    return registry
