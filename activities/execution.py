"""Running one tool call: the core both engines share, and its Temporal activity wrappers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.approval_key import approval_key
from activities.errors import ToolError
from activities.metrics import ActivityMetrics
from activities.payloads import FilePayloadStore, PayloadStore, compact, hydrate
from activities.spans import tool_span
from planner.approval import matches_template, verify_step
from planner.contracts.names import NON_RETRYABLE_TOOL_ERRORS
from planner.contracts.plan_run import ToolCall, ToolCallResult
from planner.contracts.usage import Usage
from planner.refs import resolve
from planner.settings import Settings
from planner.step_io import InvalidToolArguments, checked_args
from planner.tools import Risk, Tool, ToolContext, ToolRegistry

# Error types that no retry can fix (a durable list: the contracts define it).
NON_RETRYABLE_TYPES = list(NON_RETRYABLE_TOOL_ERRORS)

log = logging.getLogger(__name__)


_usage: ContextVar[Usage | None] = ContextVar("jarvis_tool_usage", default=None)


def record_usage(usage: Usage) -> None:
    """Called by tools that use an LLM, so the step's token usage reaches the run state."""
    current = _usage.get()
    _usage.set(usage if current is None else current + usage)


class StepFailure(Exception):
    def __init__(self, message: str, type_: str, retryable: bool,
                 retry_after_s: float | None = None, *, unexpected: bool = False) -> None:
        super().__init__(message)
        self.type = type_
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.unexpected = unexpected  # not a ToolError: a bug or an unforeseen failure


@dataclass(frozen=True)
class ToolRuntime:
    """What running tools needs besides the call: the registry, context and payload store."""

    registry: ToolRegistry
    context: ToolContext
    store: PayloadStore
    # signs and checks a person's grants for dangerous steps (None: no dangerous step runs)
    approval_key: bytes | None = None
    # the identity of the worker running the tools (pid@host), recorded with each attempt
    worker: str | None = None


async def execute_call(runtime: ToolRuntime, call: ToolCall, attempt: int, *,
                       run_key: str | None = None, worker: str | None = None) -> ToolCallResult:
    """Run ``call`` once. Raises StepFailure with its retry posture. ``run_key`` names the run
    (Temporal: workflow id and run id), so ``<run_key>/<step id>`` is the step's idempotency key:
    the same on every attempt of the step, different in every run. ``worker``: who ran it, on
    the result."""
    started = time.time()
    tool = runtime.registry.get(call.tool)
    if tool is None:
        raise StepFailure(f"tool '{call.tool}' is not registered on this worker",
                          "UnknownTool", retryable=False)
    args = call.args
    if call.deferred:
        outputs = {k: hydrate(v, runtime.store) for k, v in call.deferred.items()}
        try:
            args = resolve(args, outputs)
        except LookupError as exc:
            raise StepFailure(str(exc), "InvalidArguments", retryable=False) from exc
    if tool.risk is Risk.DANGEROUS:
        _check_grant(runtime, tool, call, args, run_key)
    try:
        parsed, conversions = checked_args(tool, call, args)
    except InvalidToolArguments as exc:
        raise StepFailure(str(exc), "InvalidArguments", retryable=False) from exc
    _usage.set(None)
    try:
        context = _call_context(runtime.context, call, run_key) if tool.context_param else None
        output = await tool.call(parsed, context)
    except ToolError as exc:
        raise StepFailure(str(exc), type(exc).__name__, retryable=exc.retryable,
                          retry_after_s=exc.retry_after_s) from exc
    except Exception as exc:  # tool bug or unexpected failure: let the retry policy decide
        # (a pure tool's: the same arguments fail the same way, as in the workflow)
        raise StepFailure(f"{type(exc).__name__}: {exc}", type(exc).__name__,
                          retryable=not tool.pure, unexpected=True) from exc
    return ToolCallResult(output=compact(output, runtime.store, call.inline_limit),
                          attempt=attempt, started_at=started, finished_at=time.time(),
                          usage=_usage.get(), conversions=conversions, worker=worker)


def _check_grant(runtime: ToolRuntime, tool: Tool, call: ToolCall, args: dict[str, Any],
                 run_key: str | None) -> None:
    """A dangerous tool runs only with a person's grant for exactly this step of exactly this
    run, over the argument template the resolved ``args`` fill in. The risk is this worker's
    registry's, never the workflow input's."""
    workflow_id, _, run_id = (run_key or "").rpartition("/")
    why = None
    if runtime.approval_key is None:
        why = "this worker has no approval key"
    elif not call.grant or call.template is None or not run_key:
        why = "no person's approval of this step came with it"
    elif not verify_step(runtime.approval_key, workflow_id, run_id, call.step_id, tool.name,
                         call.template, call.grant):
        why = ("its approval is not valid for this step in this run (forged, copied from "
               "another run, or signed with another key)")
    elif not matches_template(call.template, args):
        why = "its arguments are not the ones the person approved"
    if why:
        raise StepFailure(f"tool '{tool.name}' is dangerous and step '{call.step_id}' was "
                          f"refused: {why}; a person approves it with `jarvis approve "
                          "GOAL_ID` (or the web app)", "ToolRefused", retryable=False)


def _call_context(ctx: ToolContext, call: ToolCall, run_key: str | None) -> ToolContext:
    key = f"{run_key}/{call.step_id}" if run_key else None
    return replace(ctx, idempotency_key=key)


def _activity_for(tool: Tool, runtime: ToolRuntime,
                  metrics: ActivityMetrics) -> Callable[..., Any]:
    async def run_tool(call: ToolCall) -> ToolCallResult:
        info = activity.info()
        try:
            return await run_attempt(runtime, metrics, call, info.attempt, info.workflow_id,
                                     f"{info.workflow_id}/{info.workflow_run_id}")
        except StepFailure as exc:
            raise failure_error(exc, info.attempt, runtime.worker) from None

    run_tool.__name__ = run_tool.__qualname__ = f"run_{tool.name}"
    return activity.defn(name=tool.activity_name)(run_tool)


async def run_attempt(runtime: ToolRuntime, metrics: ActivityMetrics, call: ToolCall,
                      attempt: int, workflow_id: str | None, run_key: str) -> ToolCallResult:
    """One attempt of ``call`` in an activity (its own, or a chain's), traced, logged and
    timed (jarvis_step_duration_seconds); the result names this worker. Raises StepFailure."""
    started = time.monotonic()
    try:
        with tool_span(call.tool, call.step_id, attempt, workflow_id):
            result = await execute_call(runtime, call, attempt, run_key=run_key,
                                        worker=runtime.worker)
    except StepFailure as exc:
        log_step(workflow_id, call, attempt, time.monotonic() - started, exc)
        metrics.step(call.tool, "failed", time.monotonic() - started)
        raise
    except asyncio.CancelledError:
        log_step(workflow_id, call, attempt, time.monotonic() - started, "cancelled")
        metrics.step(call.tool, "cancelled", time.monotonic() - started)
        raise
    log_step(workflow_id, call, attempt, time.monotonic() - started, "succeeded")
    metrics.step(call.tool, "succeeded", time.monotonic() - started)
    if result.usage is not None:  # a step that called an LLM (the `llm` tool)
        metrics.llm_usage(_llm_model(runtime), result.usage)
    return result


def failure_error(exc: StepFailure, attempt: int, worker: str | None) -> ApplicationError:
    """The activity's failure for a failed attempt: its type, whether a retry can fix it, the
    attempt and worker (the workflow reads them back, agents/plan_runner.py)."""
    delay = timedelta(seconds=exc.retry_after_s) if exc.retry_after_s else None
    return ApplicationError(str(exc), {"attempt": attempt, "worker": worker}, type=exc.type,
                            non_retryable=not exc.retryable, next_retry_delay=delay)


def log_step(workflow_id: str | None, call: ToolCall, attempt: int, took_s: float,
             outcome: str | StepFailure) -> None:
    """One line per step attempt in the worker's log: the goal or run, step, tool, attempt,
    duration and outcome (a failure's type, message and whether a retry can fix it; the
    traceback only for an unexpected one)."""
    if not log.isEnabledFor(logging.INFO if isinstance(outcome, str) else logging.WARNING):
        return
    fields: dict[str, Any] = {"event": "step", "workflow_id": workflow_id,
                              "step_id": call.step_id, "tool": call.tool, "attempt": attempt,
                              "duration_s": round(took_s, 4)}
    where = (workflow_id, call.step_id, call.tool, attempt)
    if isinstance(outcome, str):
        fields["outcome"] = outcome
        log.info("%s step %s (%s) attempt %d: %s in %.3fs", *where, outcome, took_s,
                 extra={"jarvis": fields})
        return
    fields.update(outcome="failed", error_type=outcome.type, error=str(outcome),
                  retryable=outcome.retryable)
    log.warning("%s step %s (%s) attempt %d: failed in %.3fs (%s): %s: %s", *where, took_s,
                "retryable" if outcome.retryable else "not retryable", outcome.type, outcome,
                extra={"jarvis": fields},
                exc_info=outcome.__cause__ if outcome.unexpected else None)


def _llm_model(runtime: ToolRuntime) -> str:
    config = runtime.context.extras.get("llm")
    return str(getattr(config, "model", "unknown"))


def tool_activities(runtime: ToolRuntime, metrics: ActivityMetrics | None = None
                    ) -> list[Callable[..., Any]]:
    """One Temporal activity per tool, named ``tool.<name>`` (a durable contract); each
    attempt's time goes to ``metrics`` (jarvis_step_duration_seconds)."""
    metrics = metrics or ActivityMetrics()
    return [_activity_for(t, runtime, metrics) for t in runtime.registry
            if t.kind == "activity"]


def tool_runtime(settings: Settings, registry: ToolRegistry) -> ToolRuntime:
    workspace = Path(settings.workspace_dir)
    workspace.mkdir(parents=True, exist_ok=True)
    from activities.llm.endpoint import LLMConfig  # lazy: loads the openai SDK

    extras = {"llm": LLMConfig.from_settings(settings)} if settings.llm_configured else {}
    context = ToolContext(workspace=workspace, data_dir=settings.data_dir,
                          webhook_url=settings.webhook_url, extras=extras,
                          egress_allow=tuple(settings.egress_allow),
                          http_max_bytes=settings.http_max_bytes)
    return ToolRuntime(registry=registry, context=context,
                       store=FilePayloadStore(settings.payload_dir),
                       approval_key=approval_key(settings))
