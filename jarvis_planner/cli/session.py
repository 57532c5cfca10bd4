"""What commands that talk to Temporal share: connecting, and a worker when none polls."""

from __future__ import annotations

import getpass
from contextlib import AsyncExitStack

from agents.client import JarvisClient
from agents.connection import TemporalUnreachable, connect_with_retry
from jarvis_planner.cli.console import err_console
from jarvis_planner.cli.errors import CliError
from planner.settings import Settings


def user() -> str:
    """Who decides, as recorded with a decision: ``cli:<login>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli"


async def connect_or_fail(settings: Settings) -> JarvisClient:
    try:
        return JarvisClient(await connect_with_retry(settings), settings)
    except TemporalUnreachable as exc:
        raise CliError(str(exc)) from exc


async def ensure_worker(stack: AsyncExitStack, jarvis: JarvisClient, *,
                        detach: bool = False) -> bool:
    """Run a worker in this process for this command when no worker polls the task queue.

    Returns True when it started one."""
    if await jarvis.has_pollers():
        return False
    settings = jarvis.settings
    if detach:  # started durably all the same: it waits on the server for a worker
        err_console.print(f"[yellow]note:[/] no worker polls task queue "
                          f"'{settings.task_queue}' right now; the run is queued on the "
                          "Temporal server and starts when one does (`jarvis up` or "
                          "`jarvis worker`)", highlight=False)
        return False
    err_console.print(f"[yellow]note:[/] no worker polls task queue '{settings.task_queue}'; "
                      "running one in this process for this command (`jarvis up` starts a "
                      "permanent one)")
    from activities import default_registry  # loads every tool: only when needed
    from agents.worker import create_worker

    await stack.enter_async_context(create_worker(jarvis.temporal, settings,
                                                  default_registry(settings=settings)))
    return True


async def session(settings: Settings, stack: AsyncExitStack) -> tuple[JarvisClient, bool]:
    """A connected client, with a worker in this process if none polls; (client, local)."""
    jarvis = await connect_or_fail(settings)
    return jarvis, await ensure_worker(stack, jarvis)
