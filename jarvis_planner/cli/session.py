"""What CLI commands that talk to Temporal share: connecting, and a worker when none polls."""

from __future__ import annotations

from contextlib import AsyncExitStack

from temporalio.client import Client

from agents.engine import TemporalUnreachable, connect_with_retry
from agents.temporal_engine import TemporalWorkflowEngine
from agents.worker import create_worker
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.render import err_console
from planner.settings import Settings
from planner.tools import ToolRegistry


async def connect_or_fail(settings: Settings) -> Client:
    try:
        return await connect_with_retry(settings)
    except TemporalUnreachable as exc:
        raise CliError(str(exc)) from exc


async def ensure_worker(stack: AsyncExitStack, client: Client, settings: Settings,
                        registry: ToolRegistry, *, detach: bool = False) -> bool:
    """Run a worker in this process for this command when no worker polls the task queue.

    Returns True when it started one."""
    if await TemporalWorkflowEngine(client, settings.task_queue).has_pollers():
        return False
    if detach:
        raise CliError(f"no worker polls task queue '{settings.task_queue}'",
                       "start one with `jarvis up` (or `jarvis worker`)")
    err_console.print(f"[yellow]note:[/] no worker polls task queue '{settings.task_queue}'; "
                      "running one in this process for this command (`jarvis up` starts a "
                      "permanent one)")
    await stack.enter_async_context(create_worker(client, settings, registry))
    return True
