"""Server-sent events from the goal's event stream, with keep-alive comments while nothing
changes; each event's ``state`` is the goal page (state plus view). While the goal plans, an
``attempt`` event reports each retry of its LLM call (attempt, limit, the last failure) as the
server sees it, so the page shows retries as they happen."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from agents.client import ActivityAttempt, JarvisClient
from agents.following import GoalEvent
from jarvis_planner.web.error_mapping import describe_error
from jarvis_planner.web.view import goal_page
from jarvis_planner.web.wording import web_wording
from planner.contracts.names import DRAFT_ACTIVITY, REPAIR_ACTIVITY

PLANNING_STAGES = frozenset({"planning", "repairing"})
_PLANNING_ACTIVITIES = frozenset({DRAFT_ACTIVITY, REPAIR_ACTIVITY})


def event_json(event: GoalEvent) -> dict[str, Any]:
    return {"kind": event.kind, "stage": event.stage, "step_id": event.step_id,
            "status": event.status, "seq": event.seq,
            "state": goal_page(event.state).model_dump(mode="json")}


def attempt_json(attempt: ActivityAttempt) -> dict[str, Any]:
    return {"activity": attempt.activity, "attempt": attempt.attempt,
            "max_attempts": attempt.max_attempts,
            "last_failure": web_wording(attempt.last_failure),
            "next_attempt_in_s": attempt.next_attempt_in_s}


def sse(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def event_stream(jarvis: JarvisClient, goal_id: str, poll_s: float,
                        keepalive_s: float) -> AsyncIterator[str]:
    """SSE from ``JarvisClient.events``, with keep-alive comments while nothing changes."""
    queue: asyncio.Queue[GoalEvent | ActivityAttempt | BaseException | None] = asyncio.Queue()
    stage = [""]  # the stage of the last event, read by the attempt watcher

    async def produce() -> None:
        try:
            async for event in jarvis.events(goal_id, poll_s=poll_s):
                stage[0] = event.state.stage
                if event.state.run is not None:  # a step no worker can take says so
                    await jarvis.mark_waiting(event.state.run)
                queue.put_nowait(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reported to the page as an `error` event
            queue.put_nowait(exc)
        queue.put_nowait(None)

    async def watch_attempts() -> None:
        """While the goal plans, each new retry of its LLM call (a failed attempt)."""
        seen: tuple[str, int] | None = None
        while True:
            await asyncio.sleep(max(poll_s, 0.5))
            if stage[0] not in PLANNING_STAGES:
                continue
            with contextlib.suppress(Exception):  # the event stream reports lost connections
                for attempt in await jarvis.activity_attempts(goal_id):
                    key = (attempt.activity, attempt.attempt)
                    if (attempt.activity in _PLANNING_ACTIVITIES and attempt.last_failure
                            and key != seen):
                        seen = key
                        queue.put_nowait(attempt)

    task = asyncio.create_task(produce())
    watcher = asyncio.create_task(watch_attempts())
    try:
        yield "retry: 2000\n\n"
        while True:
            try:  # a timeout scope: 3.11's wait_for can lose the stream's cancellation
                async with asyncio.timeout(keepalive_s):
                    item = await queue.get()
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item is None:
                return
            if isinstance(item, BaseException):
                error, hint, _ = describe_error(item)
                yield sse("error", {"error": web_wording(error), "hint": web_wording(hint)})
                return
            if isinstance(item, ActivityAttempt):
                yield sse("attempt", attempt_json(item))
                continue
            yield sse(item.kind, event_json(item))
    finally:
        for running in (task, watcher):
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await running


