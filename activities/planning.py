"""The planner's activities: retrieve templates, draft and repair plans with the LLM, prepare a
plan for execution, remember the outcome. Names are durable contracts
(:mod:`planner.contracts.names`); each activity takes one input model."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.llm import LLMConfig, LLMError
from activities.llm.drafting import draft_plan, replan_steps
from activities.memory import TemplateStore, plan_fingerprints
from activities.metrics import ActivityMetrics
from planner.contracts.goal_flow import (
    DraftRequest,
    Example,
    PlanDraft,
    PrepareRequest,
    PrepareResult,
    RememberRequest,
    ReplanRequest,
    RetrieveRequest,
    RetrieveResult,
)
from planner.contracts.names import (
    DRAFT_ACTIVITY,
    LLM_NOT_CONFIGURED,
    PREPARE_ACTIVITY,
    REMEMBER_ACTIVITY,
    REPAIR_ACTIVITY,
    REPLAN_ACTIVITY,
    RETRIEVE_ACTIVITY,
)
from planner.preparation import prepare
from planner.pricing import LLM_STEP_TOKENS, cost_of
from planner.settings import Settings
from planner.tools import ToolRegistry
from planner.validation import ValidationFailed, planned_conversions

log = logging.getLogger(__name__)
MEMORY_ATTEMPTS = 3  # the goal workflow's retry policy for memory activities

NO_LLM = (
    "no LLM endpoint is configured and no stored template matches this goal. Configure an "
    "OpenAI-compatible endpoint: JARVIS_LLM_BASE_URL (e.g. http://localhost:11434/v1 for Ollama) "
    "and JARVIS_LLM_MODEL, or JARVIS_LLM_API_KEY for OpenAI; `jarvis templates list` shows the "
    "goals that work offline"
)


def _worker_note() -> str:
    """Which process said so: a worker keeps the settings it read when it started."""
    return (f". (This is what the worker pid {os.getpid()} on {socket.gethostname()} read when "
            "it started: set them with `jarvis config set llm_base_url URL` (and llm_model, "
            "llm_api_key), then `jarvis up --restart`.)")


def llm_failure(exc: LLMError) -> ApplicationError:
    """An LLM error as an activity failure with the provider's retry posture."""
    delay = timedelta(seconds=exc.retry_after_s) if exc.retry_after_s else None
    return ApplicationError(str(exc), type=exc.kind, non_retryable=not exc.retryable,
                            next_retry_delay=delay)


def _log_llm_call(started: float, outcome: str) -> None:
    """One line per planning call in the worker's log: goal, activity, attempt, time, outcome."""
    info = activity.info()
    took = time.monotonic() - started
    log.info("%s %s attempt %d: %s in %.2fs", info.workflow_id, info.activity_type, info.attempt,
             outcome, took, extra={"jarvis": {
                 "event": "planning", "goal_id": info.workflow_id,
                 "activity": info.activity_type, "attempt": info.attempt,
                 "duration_s": round(took, 3), "outcome": outcome}})


class PlannerActivities:
    """Activities with the worker's settings, tool registry and template store."""

    def __init__(self, settings: Settings, registry: ToolRegistry,
                 store: Callable[[], TemplateStore], *,
                 metrics: ActivityMetrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or ActivityMetrics()
        self.registry = registry
        self._store_factory = store
        self._store: TemplateStore | None = None
        self._store_lock = threading.Lock()

    def store(self) -> TemplateStore:
        with self._store_lock:  # activities run in threads: open the store once
            if self._store is None:
                self._store = self._store_factory()
            return self._store

    @activity.defn(name=RETRIEVE_ACTIVITY)
    async def retrieve(self, request: RetrieveRequest) -> RetrieveResult:
        """Templates for the goal. Memory is an optimisation: when the store keeps failing, the
        last attempt plans without it (and says so) instead of failing the goal."""
        try:
            return await asyncio.to_thread(self._retrieve, request.goal)
        except Exception as exc:
            self._store = None  # a stale client (e.g. another process wrote): reopen next time
            if activity.info().attempt < MEMORY_ATTEMPTS:
                raise
            log.warning("template memory unavailable, planning without it: %s", exc)
            self.metrics.template_lookup("unavailable")
            return RetrieveResult(note=f"template memory unavailable ({type(exc).__name__}: "
                                       f"{exc}); planned without templates")

    def _retrieve(self, goal: str) -> RetrieveResult:
        store = self.store()
        stale: list[str] = []
        reuse = store.find_reusable(goal, self.registry, self.settings.template_reuse_distance,
                                    on_stale=stale.append)
        if reuse is not None:
            self.metrics.template_lookup("hit")
            return RetrieveResult(
                reuse=Example(goal=goal, plan=reuse.plan, template_id=reuse.hit.id,
                              distance=reuse.hit.distance, avg_cost_usd=reuse.hit.avg_cost_usd),
                bindings=dict(reuse.bindings),
                note=f"reused template {reuse.hit.id} ('{reuse.hit.goal}'); no LLM call")
        examples = [Example(goal=h.goal, plan=h.plan, template_id=h.id, distance=h.distance)
                    for h in store.search(goal, k=3) if not h.invalidated]
        # one result per lookup: a stale template that would have served beats the examples
        self.metrics.template_lookup("stale" if stale else "example" if examples else "miss")
        return RetrieveResult(examples=examples)

    @activity.defn(name=DRAFT_ACTIVITY)
    async def draft(self, request: DraftRequest) -> PlanDraft:
        return await self._call_llm(request.model_copy(update={"previous": None}))

    @activity.defn(name=REPAIR_ACTIVITY)
    async def repair(self, request: DraftRequest) -> PlanDraft:
        if request.previous is None:
            raise ApplicationError("repair needs the previous draft", type="BadRequest",
                                   non_retryable=True)
        return await self._call_llm(request)

    @activity.defn(name=REPLAN_ACTIVITY)
    async def replan(self, request: ReplanRequest) -> PlanDraft:
        """A replacement for a failed step and its dependants (planner/recovery.py)."""
        return await self._call_llm(request)

    async def _call_llm(self, request: DraftRequest | ReplanRequest) -> PlanDraft:
        if not self.settings.llm_configured:
            raise ApplicationError(NO_LLM + _worker_note(), type=LLM_NOT_CONFIGURED,
                                   non_retryable=True)
        started = time.monotonic()
        config = LLMConfig.from_settings(self.settings)
        try:
            if isinstance(request, ReplanRequest):
                draft = await replan_steps(config, request, self.registry,
                                           self.settings.plan_limits())
            else:
                draft = await draft_plan(config, request.goal, self.registry,
                                         request.examples, request.previous,
                                         self.settings.plan_limits())
        except LLMError as exc:
            _log_llm_call(started, f"failed ({exc.kind}, "
                                   f"{'retryable' if exc.retryable else 'not retryable'})")
            raise llm_failure(exc) from None
        _log_llm_call(started, f"{len(draft.problems)} problem(s), "
                               f"{draft.usage.total_tokens} tokens")
        self.metrics.llm_usage(self.settings.llm_model, draft.usage)
        return draft

    @activity.defn(name=PREPARE_ACTIVITY)
    async def prepare_plan(self, request: PrepareRequest) -> PrepareResult:
        plan = request.plan
        try:
            execution = prepare(plan, self.registry, self.settings, allow_dangerous=True)
        except ValidationFailed as exc:
            return PrepareResult(problems=exc.problems)
        execution = execution.model_copy(update={"allow_dangerous": False})
        risks = {s.id: self.registry[s.tool].risk for s in plan.steps}
        step_cost = cost_of(self.settings.llm_model, *LLM_STEP_TOKENS,
                            prices=self.settings.llm_prices)
        conversions = planned_conversions(plan, {t.name: t for t in self.registry})
        return PrepareResult(execution=execution, risks=risks, conversions=conversions,
                             llm_step_cost_usd=step_cost)

    @activity.defn(name=REMEMBER_ACTIVITY)
    async def remember(self, request: RememberRequest) -> str | None:
        """Record the outcome in template memory; a store that keeps failing loses this one
        template (logged), never the goal's result."""
        try:
            return await asyncio.to_thread(self._remember, request)
        except Exception as exc:
            self._store = None
            if activity.info().attempt < MEMORY_ATTEMPTS:
                raise
            log.warning("template memory unavailable, outcome not recorded: %s", exc)
            return None

    def _remember(self, request: RememberRequest) -> str | None:
        store = self.store()
        if request.template_id and not request.edited:
            store.record_outcome(request.template_id, request.succeeded, request.duration_s,
                                 request.tokens, request.cost_usd)
            return request.template_id
        if not request.succeeded:
            return None  # only plans that ran successfully become templates
        return store.remember(request.goal, request.plan,
                              plan_fingerprints(request.plan, self.registry),
                              request.duration_s, request.tokens, edited=request.edited,
                              cost_usd=request.cost_usd)

    def all(self) -> list[Any]:
        return [self.retrieve, self.draft, self.repair, self.prepare_plan, self.remember,
                self.replan]
