"""Pure tools' steps run inside the workflow, with no activity: the table the workflow finds
them in, and one call.

A pure tool (:attr:`planner.tools.Tool.pure`: a plain function of its arguments, no I/O, clock or
randomness, bounded; e.g. ``calc``) is workflow code: its output is not recorded in the history
but computed again on replay, so every worker of a task queue must have the same function, and a
change to what it returns is a workflow change (docs/versioning.md). Workers install their
registry's pure tools here when they start (``install``); so do replayers.
"""

from __future__ import annotations

import json
from typing import Any

from planner.contracts.plan_run import ToolCall
from planner.step_io import checked_args
from planner.tools import Tool, ToolRegistry, to_jsonable

# name -> tool, for the whole process: workflow code reads it (the SDK's sandbox passes this
# module through, so sandboxed workflows see the same table)
_TABLE: dict[str, Tool] = {}


class PureToolClash(ValueError):
    """Two different functions installed as the same pure tool in one process."""


def install(registry: ToolRegistry) -> None:
    """Make ``registry``'s pure tools available to workflow code in this process. The same name
    with another function is refused: a replay would depend on which one came last."""
    for tool in registry:
        if not tool.pure:
            continue
        known = _TABLE.get(tool.name)
        if known is not None and known.fn is not tool.fn:
            raise PureToolClash(
                f"pure tool '{tool.name}' is already installed in this process as "
                f"{_where(known)}, not {_where(tool)}; a pure tool is workflow code: give the "
                "new one another name")
        _TABLE[tool.name] = tool


def installed(name: str) -> Tool | None:
    """The pure tool ``name`` installed in this process, or None."""
    return _TABLE.get(name)


def call_pure(tool: Tool, call: ToolCall) -> tuple[Any, list[str]]:
    """(output as JSON data, conversions made) of ``call``. Raises InvalidToolArguments for
    arguments that do not fit, and whatever the function raises (a ToolError for an input it
    refuses) as it is: the caller names the failure."""
    parsed, conversions = checked_args(tool, call, call.args)
    return to_jsonable(tool.fn(**tool.kwargs(parsed))), conversions


def json_size(value: Any) -> int:
    """Bytes of ``value``'s compact JSON (how the payload store measures an output)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _where(tool: Tool) -> str:
    return f"{getattr(tool.fn, '__module__', '?')}.{getattr(tool.fn, '__qualname__', '?')}"
