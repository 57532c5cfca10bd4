"""Choosing an engine for a plan run: Temporal when its server answers, else the in-process
fallback, loudly (it is not durable)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from activities.execution import tool_runtime
from agents.client import JarvisClient
from agents.connection import TemporalUnreachable, connect_with_retry
from agents.simple_engine import SimpleWorkflowEngine
from planner.contracts.plan_run import ExecutePlanInput, RunState
from planner.settings import Settings
from planner.tools import ToolRegistry

ProgressCallback = Callable[[RunState], None]


class PlanEngine(Protocol):
    name: str

    async def execute_plan(self, inp: ExecutePlanInput,
                           on_progress: ProgressCallback | None = None) -> RunState: ...


@dataclass
class EngineChoice:
    engine: JarvisClient | SimpleWorkflowEngine
    warning: str | None = None


async def choose_engine(settings: Settings, registry: ToolRegistry) -> EngineChoice:
    """Temporal unless the setting says simple; in 'auto' mode fall back when unreachable."""
    if settings.engine == "simple":
        return EngineChoice(SimpleWorkflowEngine(tool_runtime(settings, registry)))
    try:
        client = await connect_with_retry(settings)
    except TemporalUnreachable as exc:
        if settings.engine == "temporal":
            raise
        return EngineChoice(
            SimpleWorkflowEngine(tool_runtime(settings, registry)),
            warning=f"{exc}. Falling back to the in-process simple engine: this run is NOT "
            "durable (a crash loses it) and will not appear in `jarvis list`.",
        )
    return EngineChoice(JarvisClient(client, settings))
