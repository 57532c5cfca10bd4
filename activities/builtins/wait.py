"""A durable wait: the engines run it as a timer (a Temporal workflow timer), not an activity."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from planner.tools import ToolRegistry, tool_from_function

MAX_WAIT_S = 30 * 86400.0


class Waited(BaseModel):
    seconds: float


def wait(seconds: Annotated[float, Field(ge=0, le=MAX_WAIT_S)]) -> Waited:
    """Pause the plan for a number of seconds; durable across worker and server restarts."""
    return Waited(seconds=seconds)  # never called by the engines: they start a timer


def register(registry: ToolRegistry) -> None:
    registry.register(tool_from_function(wait, kind="timer", timeout_s=MAX_WAIT_S))
