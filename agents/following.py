"""Follow a running workflow from the client: poll its ``state`` query until it closes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

S = TypeVar("S", bound=BaseModel)


async def follow(handle: WorkflowHandle[Any, Any], final: Awaitable[S | None],
                 state_type: type[S], on_progress: Callable[[S], None] | None,
                 poll_s: float = 0.25) -> S | None:
    """Await ``final`` (the closed state), reporting each changed queried state meanwhile."""
    result_task = asyncio.ensure_future(final)
    last = ""
    try:
        while not result_task.done():
            if on_progress:
                try:
                    state = await handle.query("state", result_type=state_type)
                except RPCError:
                    state = None  # no worker right now, or the workflow just closed
                if state is not None and (dump := state.model_dump_json()) != last:
                    last = dump
                    on_progress(state)
            await asyncio.wait([result_task], timeout=poll_s)
        closed = result_task.result()
    finally:
        result_task.cancel()
    if on_progress and closed is not None:
        on_progress(closed)
    return closed
