"""Following a workflow: the one event stream of goals and plan runs.

Both workflows keep an event log (:mod:`planner.contracts.events`); :func:`watch` asks the
``events`` query for what came after the last event seen, starting fast and backing off while
nothing changes. Order and completeness come from the workflow, so a slow client sees every
change in the order it happened. Once the workflow has closed and no worker can answer a query,
the final state comes from the workflow's result.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError

from agents.bounded_query import QUERY_WAIT_S, ask
from planner.contracts.events import EventKind, EventsRequest, GoalEventPage, RunEventPage
from planner.contracts.goal_flow import GoalState
from planner.contracts.names import EVENTS_QUERY

Page = TypeVar("Page", GoalEventPage, RunEventPage)
FIRST_POLL_S = 0.02  # the first polls come quickly (a template goal plans in ~50 ms)
EVENTS_WAIT_S = QUERY_WAIT_S  # an events query unanswered this long: look again, ask again


@dataclass(frozen=True)
class GoalEvent:
    """One change in a goal: a stage, a (new) plan, a step's status, a decision, the end.
    ``state`` is the goal's state when the event was delivered (it may be newer)."""

    kind: EventKind
    stage: str
    state: GoalState
    step_id: str | None = None
    status: str | None = None
    seq: int = 0  # the event's place in the goal's log (0: synthesised from the final state)


async def watch(handle: WorkflowHandle[Any, Any], page_type: type[Page], *, after: int = 0,
                poll_s: float = 0.25) -> AsyncIterator[Page]:
    """Pages of new events (each with the current state) until the log's ``done`` event. Polls
    every ``FIRST_POLL_S``, doubling up to ``poll_s`` while nothing changes. Stops silently when
    the workflow cannot be queried any more (closed with no worker): callers take the final
    state from the result."""
    delay = FIRST_POLL_S
    while True:
        try:
            page = await ask(handle, EVENTS_QUERY, page_type, EventsRequest(after=after),
                             wait_s=EVENTS_WAIT_S)
        except (TimeoutError, RPCError):
            if not await _running(handle):
                return
            await asyncio.sleep(delay)  # not ready yet, or no worker right now: try again
            delay = min(delay * 2, poll_s)
            continue
        if page.events:
            after = page.events[-1].seq
            delay = FIRST_POLL_S
            yield page
            if page.events[-1].kind == "done":
                return
            continue
        if after < page.first_seq - 1:  # fell behind the bounded log: resynchronise
            after = page.first_seq - 1
            continue
        await asyncio.sleep(delay)
        delay = min(delay * 2, poll_s)


async def _running(handle: WorkflowHandle[Any, Any]) -> bool:
    try:
        return (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    except RPCError:
        return False


async def goal_events(handle: WorkflowHandle[Any, Any],
                      final: Callable[[], Awaitable[GoalState]], *, after: int = 0,
                      poll_s: float = 0.25) -> AsyncIterator[GoalEvent]:
    """A goal's events after ``after``; ends with ``done`` (from the final state if the log
    cannot be read)."""
    async for page in watch(handle, GoalEventPage, after=after, poll_s=poll_s):
        for event in page.events:
            yield GoalEvent(event.kind, event.stage, page.state, event.step_id, event.status,
                            event.seq)
            if event.kind == "done":
                return
    state = await final()
    yield GoalEvent("done", state.stage, state)
