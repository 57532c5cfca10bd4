"""The Python API a host application (JARVIS) embeds: submit goals, stream their events, review,
cancel, read results, run plans. The CLI and the web app use this same client.

    from jarvis_planner import JarvisClient

    async with await JarvisClient.connect() as jarvis:
        goal_id = await jarvis.submit("remember that the boiler is serviced in May")
        async for event in jarvis.events(goal_id):
            print(event.kind, event.stage, event.step_id, event.status)
        final = await jarvis.result(goal_id)

``JarvisClientSync`` offers the same goal and schedule calls for synchronous code.

A recurring goal is a Temporal Schedule, reviewed once: plan it (``submit(goal, dry_run=True)``
then ``result``, or take a plan of your own), look at the plan, and create the schedule with an
explicit approval; every run executes that plan with no LLM call (docs/schedules.md)::

    planned = await jarvis.result(await jarvis.submit(goal, dry_run=True))
    schedule_id = await jarvis.create_schedule(planned.plan, approve=True, by="alice",
                                               cron=["0 8 * * *"])
"""

from __future__ import annotations

import asyncio
import builtins
import threading
from collections.abc import Coroutine, Iterator, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

from agents.client import DecisionRefused, EditRefused, Gone, JarvisClient, Summary
from agents.following import GoalEvent
from agents.schedules import (
    Overlap,
    ScheduledRun,
    ScheduleExists,
    ScheduleNotApproved,
    ScheduleNotFound,
    ScheduleView,
)
from planner.contracts.goal_flow import GoalState
from planner.plan import Plan
from planner.settings import Settings

T = TypeVar("T")
GoalSummary = Summary  # the name this API used before the client was merged


class JarvisClientSync:
    """The goal API for synchronous code: a private event loop runs in a daemon thread."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="jarvis-client")
        self._thread.start()
        self._async = self._run(JarvisClient.connect(settings))

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def submit(self, goal: str, *, yes: bool = False, dry_run: bool = False,
               by: str = "api") -> str:
        return self._run(self._async.submit(goal, yes=yes, dry_run=dry_run, by=by))

    def state(self, goal_id: str) -> GoalState:
        return self._run(self._async.state(goal_id))

    def events(self, goal_id: str, poll_s: float = 0.25) -> Iterator[GoalEvent]:
        stream = self._async.events(goal_id, poll_s)

        async def step() -> GoalEvent | None:
            try:
                return await anext(stream)
            except StopAsyncIteration:
                return None

        while (event := self._run(step())) is not None:
            yield event

    def result(self, goal_id: str) -> GoalState:
        return self._run(self._async.result(goal_id))

    def approve(self, goal_id: str, plan_digest: str, by: str = "api", note: str = "", *,
                gates: Sequence[str] = (), until: str | None = None) -> GoalState:
        return self._run(self._async.approve(goal_id, plan_digest, by, note, gates=gates,
                                             until=until))

    def decide_step(self, goal_id: str, step_id: str, approve: bool, by: str = "api",
                    note: str = "", *, abandon: bool = False) -> GoalState:
        return self._run(self._async.decide_step(goal_id, step_id, approve, by, note,
                                                 abandon=abandon))

    def retry(self, goal_id: str, from_step: str, *, args: dict[str, Any] | None = None,
              by: str = "api") -> GoalState:
        return self._run(self._async.retry(goal_id, from_step, args=args, by=by))

    def reject(self, goal_id: str, by: str = "api", reason: str = "") -> GoalState:
        return self._run(self._async.reject(goal_id, by, reason))

    def edit(self, goal_id: str, plan: Plan, plan_digest: str, by: str = "api",
             note: str = "") -> GoalState:
        return self._run(self._async.edit(goal_id, plan, plan_digest, by, note))

    def cancel(self, goal_id: str) -> None:
        self._run(self._async.cancel(goal_id))

    def list(self, limit: int = 20, *, pending: bool = False) -> list[Summary]:
        return self._run(self._async.list(limit, pending=pending))

    # -- schedules (agents/schedules.py) ---------------------------------------------------
    def create_schedule(self, plan: Plan, *, approve: bool, by: str = "api",
                        cron: Sequence[str] = (), every: timedelta | None = None,
                        schedule_id: str | None = None, overlap: Overlap = "skip",
                        catchup_window: timedelta | None = None,
                        jitter: timedelta | None = None, deadline: timedelta | None = None,
                        paused: bool = False, note: str = "", source: str = "plan",
                        time_zone: str | None = None) -> str:
        return self._run(self._async.create_schedule(
            plan, approve=approve, by=by, cron=cron, every=every, schedule_id=schedule_id,
            overlap=overlap, catchup_window=catchup_window, jitter=jitter, deadline=deadline,
            paused=paused, note=note, source=source, time_zone=time_zone))

    def list_schedules(self, limit: int = 100) -> builtins.list[ScheduleView]:
        return self._run(self._async.list_schedules(limit))

    def describe_schedule(self, schedule_id: str, *, runs: int = 10) -> ScheduleView:
        return self._run(self._async.describe_schedule(schedule_id, runs=runs))

    def pause_schedule(self, schedule_id: str, note: str = "") -> None:
        self._run(self._async.pause_schedule(schedule_id, note))

    def resume_schedule(self, schedule_id: str, note: str = "") -> None:
        self._run(self._async.resume_schedule(schedule_id, note))

    def trigger_schedule(self, schedule_id: str, overlap: Overlap | None = None) -> None:
        self._run(self._async.trigger_schedule(schedule_id, overlap))

    def backfill_schedule(self, schedule_id: str, start: datetime, end: datetime,
                          overlap: Overlap = "buffer_all") -> None:
        self._run(self._async.backfill_schedule(schedule_id, start, end, overlap))

    def delete_schedule(self, schedule_id: str) -> None:
        self._run(self._async.delete_schedule(schedule_id))

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> JarvisClientSync:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


__all__ = ["DecisionRefused", "EditRefused", "GoalEvent", "GoalState", "GoalSummary", "Gone",
           "JarvisClient", "JarvisClientSync", "Plan", "ScheduleExists", "ScheduleNotApproved",
           "ScheduleNotFound", "ScheduleView", "ScheduledRun", "Summary"]
