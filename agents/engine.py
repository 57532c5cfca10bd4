"""Choosing an engine: Temporal when its server answers, else the in-process fallback (loudly)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from temporalio.client import Client
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

from activities.execution import tool_runtime
from agents.simple_engine import SimpleWorkflowEngine
from agents.temporal_engine import TemporalWorkflowEngine, connect
from planner.contracts.run import ExecutePlanInput, RunState
from planner.settings import Settings
from planner.tools import ToolRegistry

ProgressCallback = Callable[[RunState], None]


class Engine(Protocol):
    name: str

    async def execute(self, inp: ExecutePlanInput,
                      on_progress: ProgressCallback | None = None) -> RunState: ...


class TemporalUnreachable(ConnectionError):
    pass


async def connect_with_retry(settings: Settings) -> Client:
    """Connect to Temporal, retrying briefly (tenacity: Temporal is not in charge here yet)."""
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(settings.connect_timeout_s), wait=wait_fixed(0.5),
            retry=retry_if_exception_type((RuntimeError, OSError, asyncio.TimeoutError)),
            reraise=True,
        ):
            with attempt:
                return await asyncio.wait_for(
                    connect(settings.temporal_address, settings.temporal_namespace),
                    timeout=max(settings.connect_timeout_s, 1.0))
    except (TimeoutError, RuntimeError, OSError) as exc:
        raise TemporalUnreachable(
            f"Temporal server at {settings.temporal_address} is unreachable ({_short(exc)}); "
            "start one with `jarvis up` or set JARVIS_TEMPORAL_ADDRESS"
        ) from exc
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class EngineChoice:
    engine: TemporalWorkflowEngine | SimpleWorkflowEngine
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
    return EngineChoice(TemporalWorkflowEngine(client, settings.task_queue))


def _short(exc: BaseException) -> str:
    found = re.search(r'message: "([^"]+)"', str(exc))
    return found.group(1) if found else (str(exc).splitlines() or [type(exc).__name__])[0][:120]
