"""The Python API a host application (JARVIS) embeds: submit goals, stream their events, review,
cancel, read results, run plans. The CLI and the web app use this same client.

    from jarvis_planner import JarvisClient

    async with await JarvisClient.connect() as jarvis:
        goal_id = await jarvis.submit("remember that the boiler is serviced in May")
        async for event in jarvis.events(goal_id):
            print(event.kind, event.stage, event.step_id, event.status)
        final = await jarvis.result(goal_id)

``JarvisClientSync`` offers the same goal calls for synchronous code.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from types import TracebackType
from typing import Any, TypeVar

from agents.client import DecisionRefused, EditRefused, Gone, JarvisClient, Summary
from agents.following import GoalEvent
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

    def approve(self, goal_id: str, plan_digest: str, by: str = "api", note: str = ""
                ) -> GoalState:
        return self._run(self._async.approve(goal_id, plan_digest, by, note))

    def reject(self, goal_id: str, by: str = "api", reason: str = "") -> GoalState:
        return self._run(self._async.reject(goal_id, by, reason))

    def edit(self, goal_id: str, plan: Plan, plan_digest: str, by: str = "api",
             note: str = "") -> GoalState:
        return self._run(self._async.edit(goal_id, plan, plan_digest, by, note))

    def cancel(self, goal_id: str) -> None:
        self._run(self._async.cancel(goal_id))

    def list(self, limit: int = 20, *, pending: bool = False) -> list[Summary]:
        return self._run(self._async.list(limit, pending=pending))

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> JarvisClientSync:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


__all__ = ["DecisionRefused", "EditRefused", "GoalEvent", "GoalState", "GoalSummary", "Gone",
           "JarvisClient", "JarvisClientSync", "Plan", "Summary"]
