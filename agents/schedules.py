"""Recurring goals as Temporal Schedules: create, list, describe, pause, resume, trigger,
backfill, delete (the schedule methods of ``JarvisClient``; see docs/schedules.md).

A schedule's action starts the goal workflow with the plan a person approved when the schedule
was created (``GoalInput.approved_plan``, its digest and who approved it), so every run executes
that plan with no retrieval and no LLM call, and waits for review instead when the plan no
longer validates against the worker's tools (agents/goal_workflow.py). The times, overlap,
catch-up window, jitter and per-goal deadline are Temporal's own (the server starts the runs;
nothing of ours loops).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    WorkflowExecutionStatus,
)
from temporalio.service import RPCError, RPCStatusCode

from agents import search_attributes
from agents.connection import new_run_id
from planner.approval import plan_digest
from planner.contracts.goal_flow import GoalInput
from planner.contracts.names import GOAL_WORKFLOW
from planner.plan import Plan
from planner.settings import Settings

Overlap = Literal["skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other",
                  "allow_all"]
OVERLAPS: tuple[str, ...] = get_args(Overlap)
SCHEDULE_GOAL_PREFIX = "goal-sched-"  # a scheduled goal's id: goal-sched-<id>-<time>
MEMO_KIND = "jarvis.schedule"


class ScheduleNotApproved(ValueError):
    """A schedule is created only with an explicit approval of its plan."""


class ScheduleNotFound(LookupError):
    """No schedule with this id on this namespace."""


class ScheduleExists(ValueError):
    """A schedule with this id exists already."""


def overlap_policy(name: str) -> ScheduleOverlapPolicy:
    """The Temporal overlap policy named ``name`` (skip, buffer_one, ...)."""
    if name not in OVERLAPS:
        raise ValueError(f"unknown overlap policy '{name}': use one of {', '.join(OVERLAPS)}")
    return ScheduleOverlapPolicy[name.upper()]


def goal_id_prefix(schedule_id: str) -> str:
    """The workflow id the schedule's action names; Temporal appends the start time to it, so
    the goals of schedule ``sched-x`` are ``goal-sched-x-2026-12-03T08:00:00Z``."""
    return "goal-" + (schedule_id if schedule_id.startswith("sched-") else
                      f"sched-{schedule_id}")


@dataclass(frozen=True)
class ScheduledRun:
    """One goal a schedule started, with its stage now (or how it closed)."""

    goal_id: str
    scheduled_at: str
    started_at: str
    stage: str
    cost_usd: float | None = None  # its LLM cost (JarvisCost), when the namespace indexes it


@dataclass(frozen=True)
class ScheduleView:
    """A schedule as JARVIS shows it (``jarvis schedule describe``, the web app)."""

    id: str
    goal: str
    when: str  # "cron 0 8 * * *", "every 1h"
    paused: bool
    note: str
    approved_by: str
    approved_at: str
    plan_digest: str
    source: str  # how the approved plan was made: llm, template:<id>, file
    task_queue: str
    overlap: str
    catchup_window_s: float | None
    jitter_s: float | None
    deadline_s: float | None
    actions: int  # runs started so far
    skipped_overlap: int
    missed_catchup: int
    next_runs: list[str] = field(default_factory=list)
    running: list[str] = field(default_factory=list)  # goal ids
    recent: list[ScheduledRun] = field(default_factory=list)  # oldest first
    plan: Plan | None = None

    @property
    def cost_usd(self) -> float:
        """What the recent runs cost together (runs with no indexed cost count 0)."""
        return sum(r.cost_usd or 0.0 for r in self.recent)

    @property
    def last_outcome(self) -> str:
        return self.recent[-1].stage if self.recent else ""

    def to_json(self, *, with_plan: bool = True) -> dict[str, Any]:
        data = asdict(self)
        data["plan"] = (self.plan.model_dump(mode="json")
                        if with_plan and self.plan is not None else None)
        data["last_outcome"] = self.last_outcome
        data["cost_usd"] = self.cost_usd
        return data


def describe_when(cron: Sequence[str], every: timedelta | None) -> str:
    parts = [f"cron {c}" for c in cron]
    if every is not None:
        parts.append(f"every {_duration(every)}")
    return "; ".join(parts)


def _duration(value: timedelta) -> str:
    total = int(value.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if total >= size and total % size == 0:
            return f"{total // size}{unit}"
    return f"{value.total_seconds():g}s"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


class ScheduleMixin:
    """The schedule methods of :class:`agents.client.JarvisClient`."""

    temporal: Client
    settings: Settings
    task_queue: str

    async def _stage(self, goal_id: str, status: WorkflowExecutionStatus | None) -> str:
        raise NotImplementedError  # JarvisClient's

    async def indexed(self) -> bool:
        raise NotImplementedError  # JarvisClient's

    def _schedule(self, schedule_id: str) -> ScheduleHandle:
        return self.temporal.get_schedule_handle(schedule_id)

    async def create_schedule(
            self, plan: Plan, *, approve: bool, by: str = "api",
            cron: Sequence[str] = (), every: timedelta | None = None,
            schedule_id: str | None = None, overlap: Overlap = "skip",
            catchup_window: timedelta | None = None, jitter: timedelta | None = None,
            deadline: timedelta | None = None, paused: bool = False, note: str = "",
            source: str = "plan", time_zone: str | None = None) -> str:
        """Create a schedule that runs ``plan`` (reviewed once, now) at the times of ``cron``
        expressions and/or ``every`` interval; returns its id. ``approve=True`` is the approval
        of this plan for every run, recorded with ``by``. ``deadline`` is each goal's workflow
        execution timeout; ``time_zone`` (IANA, e.g. ``Europe/Paris``) is the zone of the cron
        expressions (UTC by default)."""
        if not approve:
            raise ScheduleNotApproved("a schedule runs its plan without asking: approve the "
                                      "plan explicitly (approve=True) to create it")
        if not cron and every is None:
            raise ValueError("say when the schedule runs: a cron expression or an interval")
        policy = overlap_policy(overlap)
        s = self.settings
        sid = schedule_id or new_run_id(plan.goal, prefix="sched",
                                        readable=not s.payload_key_id)
        digest = plan_digest(plan)
        inp = GoalInput(goal=plan.goal[:4000] or "scheduled plan", submitted_by=by,
                        approval_timeout_s=s.approval_timeout_s, approved_plan=plan,
                        approved_digest=digest, approved_by=by, schedule_id=sid,
                        budget=s.goal_budget(), index=await self.indexed())
        when = describe_when(cron, every) + (f" ({time_zone})" if time_zone and cron else "")
        memo = {"kind": MEMO_KIND, "goal": plan.goal[:500], "when": when, "approved_by": by,
                "approved_at": _iso(datetime.now(UTC)), "plan_digest": digest,
                "source": source, "deadline_s": _seconds(deadline)}
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                GOAL_WORKFLOW, inp, id=goal_id_prefix(sid), task_queue=self.task_queue,
                execution_timeout=deadline,
                memo={"goal": plan.goal[:500], "by": by, "schedule": sid}),
            spec=ScheduleSpec(cron_expressions=list(cron),
                              intervals=[ScheduleIntervalSpec(every=every)] if every else [],
                              jitter=jitter, time_zone_name=time_zone),
            policy=SchedulePolicy(overlap=policy, catchup_window=catchup_window),
            state=ScheduleState(paused=paused, note=note or None))
        try:
            await self.temporal.create_schedule(sid, schedule, memo=memo)
        except ScheduleAlreadyRunningError as exc:
            raise ScheduleExists(f"a schedule with id '{sid}' exists already") from exc
        except RPCError as exc:
            if exc.status == RPCStatusCode.INVALID_ARGUMENT:  # a bad cron or time zone
                raise ValueError(f"the server refused the schedule: {exc.message}") from exc
            raise
        return sid

    async def list_schedules(self, limit: int = 100) -> builtins.list[ScheduleView]:
        """The goal schedules whose goals run on this client's task queue (the server's
        listing is eventually consistent: a schedule just created may take a moment to show)."""
        found: builtins.list[ScheduleView] = []
        async for entry in await self.temporal.list_schedules():
            sched = entry.schedule
            if sched is None or getattr(sched.action, "workflow", "") != GOAL_WORKFLOW:
                continue
            try:
                view = await self.describe_schedule(entry.id, runs=1)
            except ScheduleNotFound:
                continue  # deleted since the listing
            if view.task_queue == self.task_queue:
                found.append(view)
            if len(found) >= limit:
                break
        return found

    async def describe_schedule(self, schedule_id: str, *, runs: int = 10
                                ) -> ScheduleView:
        """A schedule: its times, policies, next runs, the approved plan, and its last
        ``runs`` goals with each one's stage now."""
        desc = await self._describe(schedule_id)
        action = desc.schedule.action
        if not isinstance(action, ScheduleActionStartWorkflow) or \
                action.workflow != GOAL_WORKFLOW:
            raise ScheduleNotFound(f"'{schedule_id}' is not a goal schedule")
        memo = await desc.memo()
        plan = await self._approved_plan(action)
        info, pol = desc.info, desc.schedule.policy
        recent = []
        for result in list(info.recent_actions)[-runs:] if runs else []:
            started = result.action
            if isinstance(started, ScheduleActionExecutionStartWorkflow):
                stage, cost = await self._run_stage(started.workflow_id)
                recent.append(ScheduledRun(
                    goal_id=started.workflow_id, scheduled_at=_iso(result.scheduled_at),
                    started_at=_iso(result.started_at), stage=stage, cost_usd=cost))
        deadline = memo.get("deadline_s")
        return ScheduleView(
            id=schedule_id, goal=str(memo.get("goal", plan.goal if plan else "")),
            when=str(memo.get("when", "")), paused=desc.schedule.state.paused,
            note=desc.schedule.state.note or "", approved_by=str(memo.get("approved_by", "")),
            approved_at=str(memo.get("approved_at", "")),
            plan_digest=str(memo.get("plan_digest", "")), source=str(memo.get("source", "")),
            task_queue=action.task_queue,
            overlap=pol.overlap.name.lower(), catchup_window_s=_seconds(pol.catchup_window),
            jitter_s=_seconds(desc.schedule.spec.jitter),
            deadline_s=float(deadline) if isinstance(deadline, int | float) else None,
            actions=info.num_actions, skipped_overlap=info.num_actions_skipped_overlap,
            missed_catchup=info.num_actions_missed_catchup_window,
            next_runs=[_iso(t) for t in info.next_action_times[:5]],
            running=[r.workflow_id for r in info.running_actions
                     if isinstance(r, ScheduleActionExecutionStartWorkflow)],
            recent=recent, plan=plan)

    async def pause_schedule(self, schedule_id: str, note: str = "") -> None:
        await self._call(schedule_id, "pause", note=note or "paused by jarvis")

    async def resume_schedule(self, schedule_id: str, note: str = "") -> None:
        await self._call(schedule_id, "unpause", note=note or "resumed by jarvis")

    async def trigger_schedule(self, schedule_id: str, overlap: Overlap | None = None) -> None:
        """Start a run now (the schedule's overlap policy applies unless ``overlap``)."""
        await self._call(schedule_id, "trigger",
                         overlap=overlap_policy(overlap) if overlap else None)

    async def backfill_schedule(self, schedule_id: str, start: datetime, end: datetime,
                                overlap: Overlap = "buffer_all") -> None:
        """Take the actions the schedule would have taken between ``start`` (exclusive) and
        ``end``, now (``buffer_all``: one after the other)."""
        if end <= start:
            raise ValueError("the backfill's end must come after its start")
        await self._call(schedule_id, "backfill",
                         ScheduleBackfill(start_at=start, end_at=end,
                                          overlap=overlap_policy(overlap)))

    async def delete_schedule(self, schedule_id: str) -> None:
        """Delete the schedule; goals it started are not touched."""
        await self._call(schedule_id, "delete")

    async def _describe(self, schedule_id: str) -> ScheduleDescription:
        try:
            return await self._schedule(schedule_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise ScheduleNotFound(f"no schedule with id '{schedule_id}'") from exc
            raise

    async def _call(self, schedule_id: str, method: str, *args: Any, **kwargs: Any) -> None:
        try:
            await getattr(self._schedule(schedule_id), method)(*args, **kwargs)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise ScheduleNotFound(f"no schedule with id '{schedule_id}'") from exc
            raise

    async def _approved_plan(self, action: ScheduleActionStartWorkflow) -> Plan | None:
        payloads = list(action.args)
        if not payloads:
            return None
        values = await self.temporal.data_converter.decode(payloads[:1], [GoalInput])
        first = values[0] if values else None
        return first.approved_plan if isinstance(first, GoalInput) else None

    async def _run_stage(self, goal_id: str) -> tuple[str, float | None]:
        """A run's stage now and its LLM cost so far (its JarvisCost search attribute)."""
        try:
            desc = await self.temporal.get_workflow_handle(goal_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return "unknown", None
            raise
        return (await self._stage(goal_id, desc.status),
                desc.typed_search_attributes.get(search_attributes.COST))
