"""The Python API a host application (JARVIS) embeds: submit goals, stream their events, review,
cancel, read results. The CLI and the web app use this same client.

    async with await JarvisClient.connect() as jarvis:
        goal_id = await jarvis.submit("remember that the boiler is serviced in May")
        async for event in jarvis.events(goal_id):
            print(event.kind, event.stage, event.step_id, event.status)
        final = await jarvis.result(goal_id)

``JarvisClientSync`` offers the same calls for synchronous code.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar

from agents.engine import connect_with_retry
from agents.goals import DecisionRefused, EditRefused, GoalClient, GoalSummary
from planner.contracts.goal import GoalState
from planner.plan import Plan
from planner.settings import Settings, load_settings

T = TypeVar("T")
EventKind = Literal["stage", "plan", "step", "decision", "done"]


@dataclass(frozen=True)
class GoalEvent:
    """One change in a goal: a new stage, a (new) plan, a step's status, a decision, the end."""

    kind: EventKind
    stage: str
    state: GoalState
    step_id: str | None = None
    status: str | None = None


class JarvisClient:
    def __init__(self, goals: GoalClient, settings: Settings) -> None:
        self.goals = goals
        self.settings = settings

    @classmethod
    async def connect(cls, settings: Settings | None = None) -> JarvisClient:
        settings = settings or load_settings()
        client = await connect_with_retry(settings)
        return cls(GoalClient(client, settings.task_queue), settings)

    async def __aenter__(self) -> JarvisClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None  # the Temporal client needs no closing

    async def submit(self, goal: str, *, yes: bool = False, dry_run: bool = False,
                     by: str = "api") -> str:
        """Start a goal; returns its id. ``yes`` pre-approves (dangerous steps still ask)."""
        s = self.settings
        return await self.goals.submit(
            goal, policy="approve-all" if yes else "auto-read-only", dry_run=dry_run,
            submitted_by=by, repair_rounds=s.llm_repair_rounds, llm_timeout_s=s.llm_timeout_s,
            auto_approve=s.auto_approve, approval_timeout_s=s.approval_timeout_s)

    async def state(self, goal_id: str) -> GoalState:
        state = await self.goals.state(goal_id)
        if state is None:
            raise LookupError(f"goal {goal_id} was cancelled or terminated")
        return state

    async def plan(self, goal_id: str) -> Plan | None:
        return (await self.state(goal_id)).plan

    async def events(self, goal_id: str, poll_s: float = 0.25) -> AsyncIterator[GoalEvent]:
        """Stage, plan, step and decision changes until the goal finishes or waits for review
        (a ``stage`` event with stage ``awaiting_approval``; keep iterating after deciding)."""
        previous: GoalState | None = None
        while True:
            state = await self.state(goal_id)
            for event in diff(previous, state):
                yield event
            previous = state
            if state.finished:
                yield GoalEvent("done", state.stage, state)
                return
            await asyncio.sleep(poll_s)

    async def result(self, goal_id: str) -> GoalState:
        """Wait for the goal to finish (approval included) and return its final state."""
        return await self.goals.wait(goal_id)

    async def approve(self, goal_id: str, by: str = "api", note: str = "") -> GoalState:
        return await self.goals.approve(goal_id, by=by, note=note)

    async def reject(self, goal_id: str, by: str = "api", reason: str = "") -> GoalState:
        return await self.goals.reject(goal_id, by=by, reason=reason)

    async def edit(self, goal_id: str, plan: Plan, by: str = "api", note: str = ""
                   ) -> GoalState:
        return await self.goals.edit(goal_id, plan, by=by, note=note)

    async def cancel(self, goal_id: str) -> None:
        await self.goals.cancel(goal_id)

    async def list(self, limit: int = 20, *, pending: bool = False) -> list[GoalSummary]:
        return await self.goals.list_goals(limit, pending=pending)


def diff(before: GoalState | None, after: GoalState) -> list[GoalEvent]:
    """The events that lead from one observed state to the next."""
    events: list[GoalEvent] = []
    if after.plan is not None and (before is None or before.plan != after.plan):
        events.append(GoalEvent("plan", after.stage, after))
    if before is None or len(after.decisions) > len(before.decisions):
        seen = 0 if before is None else len(before.decisions)
        events += [GoalEvent("decision", after.stage, after, status=d.action)
                   for d in after.decisions[seen:]]
    old = {s.id: s.status for s in before.run.steps} if before and before.run else {}
    for step in after.run.steps if after.run else []:
        if old.get(step.id) != step.status:
            events.append(GoalEvent("step", after.stage, after, step.id, step.status.value))
    if before is None or before.stage != after.stage:  # last: what happened led to this stage
        events.append(GoalEvent("stage", after.stage, after))
    return events


class JarvisClientSync:
    """The same API for synchronous code: a private event loop runs in a daemon thread."""

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

    def approve(self, goal_id: str, by: str = "api", note: str = "") -> GoalState:
        return self._run(self._async.approve(goal_id, by, note))

    def reject(self, goal_id: str, by: str = "api", reason: str = "") -> GoalState:
        return self._run(self._async.reject(goal_id, by, reason))

    def edit(self, goal_id: str, plan: Plan, by: str = "api", note: str = "") -> GoalState:
        return self._run(self._async.edit(goal_id, plan, by, note))

    def cancel(self, goal_id: str) -> None:
        self._run(self._async.cancel(goal_id))

    def list(self, limit: int = 20, *, pending: bool = False) -> list[GoalSummary]:
        return self._run(self._async.list(limit, pending=pending))

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> JarvisClientSync:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


__all__ = ["DecisionRefused", "EditRefused", "GoalEvent", "GoalState", "GoalSummary",
           "JarvisClient", "JarvisClientSync"]
