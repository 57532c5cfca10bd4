"""Which workflows and tools a worker serves, from its task queue, the tool routing
(``JARVIS_TOOL_QUEUES``) and an optional list of tools (``jarvis worker --queue Q --tools ...``).

A worker on the default task queue runs the plan and goal workflows, the planner's activities
and every tool not routed to another queue; a worker on another queue runs only tools: those
routed to its queue, or the ones it is told to serve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from planner.settings import Settings
from planner.tools import ToolRegistry


class WorkerConfigError(ValueError):
    """A worker asked to serve tools that do not exist, or nothing at all."""


@dataclass(frozen=True)
class Served:
    queue: str
    workflows: bool  # the workflows and the planner's activities (the default queue only)
    tools: frozenset[str]
    # tools this worker was told to serve although their steps go to another queue
    unrouted: frozenset[str] = frozenset()


def served(settings: Settings, registry: ToolRegistry, queue: str | None = None,
           tools: Sequence[str] | None = None) -> Served:
    """What a worker polling ``queue`` (default: the settings' task queue) serves."""
    queue = queue or settings.task_queue
    default = queue == settings.task_queue
    names = set(registry.names())
    unknown = sorted(set(tools or ()) - names)
    if unknown:
        raise WorkerConfigError(f"no tool named {', '.join(unknown)} is registered; "
                                "`jarvis tools` lists them")
    routes = settings.tool_queues
    bad = sorted(t for t in routes if t not in names)
    if bad:
        raise WorkerConfigError(f"JARVIS_TOOL_QUEUES routes {', '.join(bad)}, which no "
                                "registered tool is called; `jarvis tools` lists them")

    def steps_queue(tool: str) -> str:
        return routes.get(tool, settings.task_queue)

    routed_here = {t for t in names if steps_queue(t) == queue}
    chosen = set(tools) if tools else routed_here
    if not default and not chosen:
        raise WorkerConfigError(
            f"no tool is routed to task queue '{queue}': route some with JARVIS_TOOL_QUEUES "
            f"(e.g. '{{\"shell\": \"{queue}\"}}') or name them with --tools")
    return Served(queue=queue, workflows=default, tools=frozenset(chosen),
                  unrouted=frozenset(chosen - routed_here))
