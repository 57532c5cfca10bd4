"""Server-sent events from the goal's event stream, with keep-alive comments while nothing
changes; each event's ``state`` is the goal page (state plus view)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from agents.client import JarvisClient
from agents.following import GoalEvent
from jarvis_planner.web.error_mapping import describe_error
from jarvis_planner.web.view import goal_page
from jarvis_planner.web.wording import web_wording


def event_json(event: GoalEvent) -> dict[str, Any]:
    return {"kind": event.kind, "stage": event.stage, "step_id": event.step_id,
            "status": event.status, "seq": event.seq,
            "state": goal_page(event.state).model_dump(mode="json")}


def sse(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def event_stream(jarvis: JarvisClient, goal_id: str, poll_s: float,
                        keepalive_s: float) -> AsyncIterator[str]:
    """SSE from ``JarvisClient.events``, with keep-alive comments while nothing changes."""
    queue: asyncio.Queue[GoalEvent | BaseException | None] = asyncio.Queue()

    async def produce() -> None:
        try:
            async for event in jarvis.events(goal_id, poll_s=poll_s):
                queue.put_nowait(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reported to the page as an `error` event
            queue.put_nowait(exc)
        queue.put_nowait(None)

    task = asyncio.create_task(produce())
    try:
        yield "retry: 2000\n\n"
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=keepalive_s)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item is None:
                return
            if isinstance(item, BaseException):
                error, hint, _ = describe_error(item)
                yield sse("error", {"error": web_wording(error), "hint": web_wording(hint)})
                return
            yield sse(item.kind, event_json(item))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


