"""The local activity that runs a chain of local steps (planner/contracts/local_chain.py): the
lead step as its own local activity would, then each link while the chain's time budget lasts.

A link runs once, with its own timeout, on the outputs before it; when it fails, times out, its
arguments do not resolve or the outputs so far fill the payload limit, the chain stops there and
returns what ran (after a step that spent LLM tokens too, so that the run checks its budget
before the next): the workflow runs that step on its own, with its retry policy (a link whose
tool ran and failed comes back as that step's first attempt, ``ChainResult.stopped_by``). Links are
read-only local steps (planner/chains.py), so running one again is safe; a link whose tool is not
a read-only local tool in this worker's registry (whatever the workflow input says) is not run
here either.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.execution import StepFailure, ToolRuntime, failure_error, run_attempt
from activities.metrics import ActivityMetrics
from activities.payloads import hydrate
from planner.contracts.local_chain import (
    ChainLink,
    ChainResult,
    LocalChain,
    MemberAgain,
    MemberFailure,
)
from planner.contracts.names import LOCAL_CHAIN_ACTIVITY, NON_RETRYABLE_TOOL_ERRORS
from planner.contracts.plan_run import ToolCallResult
from planner.pure_tools import json_size
from planner.step_io import StepInputError, prepare_call
from planner.tools import Risk


def local_chain_activity(runtime: ToolRuntime,
                         metrics: ActivityMetrics) -> Callable[..., Any]:
    @activity.defn(name=LOCAL_CHAIN_ACTIVITY)
    async def run_local_chain(chain: LocalChain) -> ChainResult:
        info = activity.info()
        run_key = f"{info.workflow_id}/{info.workflow_run_id}"
        began = time.monotonic()
        try:
            async with asyncio.timeout(chain.lead_timeout_s):
                lead = await run_attempt(runtime, metrics, chain.lead, info.attempt,
                                         info.workflow_id, run_key)
        except StepFailure as exc:  # as the lead's own local activity fails: retried or not
            raise failure_error(exc, info.attempt, runtime.worker) from None
        except TimeoutError:
            raise ApplicationError("start_to_close timeout",
                                   {"attempt": info.attempt, "worker": runtime.worker},
                                   type="Timeout") from None
        if lead.usage is not None:
            return ChainResult(results=[lead], stopped=spent_tokens(chain.lead.step_id))
        outputs = {k: hydrate(v, runtime.store) for k, v in chain.known.items()}
        outputs[chain.lead.step_id] = hydrate(lead.output, runtime.store)
        ran, stopped, stopped_by = await run_links(
            runtime, metrics, chain.links, outputs, json_size(lead.output),
            chain.lead.inline_limit, began + chain.budget_s, info.workflow_id, run_key)
        return ChainResult(results=[lead, *ran], stopped=stopped, stopped_by=stopped_by)

    return run_local_chain


Stopped = tuple[list[ToolCallResult], str, MemberFailure | MemberAgain | None]


async def run_links(runtime: ToolRuntime, metrics: ActivityMetrics, links: list[ChainLink],
                    outputs: dict[str, Any], size: int, limit: int, until: float,
                    workflow_id: str | None, run_key: str) -> Stopped:
    """Run ``links`` one after another on ``outputs`` (the steps before them: hydrated; the
    links' outputs are added), each once with its own timeout, until one fails, times out or
    does not resolve, spends LLM tokens (the run checks its budget first), the outputs
    (``size`` bytes so far) fill ``limit``, or ``until`` (a ``time.monotonic()`` reading) has
    passed. The results that ran, why it stopped ("" when every link ran), and the first
    attempt of the link that stopped it when its tool ran."""
    results: list[ToolCallResult] = []
    for link in links:
        step = link.step
        if time.monotonic() >= until:
            return results, f"the chain's time was spent before step '{step.id}'", None
        if size >= limit:
            return results, f"the outputs so far fill {limit} bytes before step '{step.id}'", None
        if not runs_inside(runtime, step.tool):
            return results, (f"step '{step.id}': '{step.tool}' is not a read-only local tool "
                             "on this worker; it runs on its own"), None
        try:
            call = prepare_call(step, outputs, limit)
        except StepInputError as exc:  # not called: on its own, it fails the same way
            return results, f"step '{step.id}' failed: {exc}; it runs again on its own", None
        try:
            async with asyncio.timeout(link.timeout_s):
                result = await run_attempt(runtime, metrics, call, 1, workflow_id, run_key)
        except (StepFailure, TimeoutError) as exc:
            why = "timed out" if isinstance(exc, TimeoutError) else f"failed: {exc}"
            first = first_attempt(exc, link.retryable, link.timeout_s, runtime.worker)
            return results, f"step '{step.id}' {why} (its first attempt)", first
        results.append(result)
        if result.usage is not None:
            return results, spent_tokens(step.id), None
        outputs[step.id] = hydrate(result.output, runtime.store)
        size += json_size(result.output)
    return results, "", None


def spent_tokens(step_id: str) -> str:
    """Why a chain stops after a step that spent LLM tokens: the run checks its budget (tokens,
    cost) before the next step starts, as it does between steps run on their own."""
    return f"step '{step_id}' spent LLM tokens: the run checks its budget before the next step"


def first_attempt(exc: StepFailure | TimeoutError, retryable: bool, timeout_s: float,
                  worker: str | None) -> MemberFailure | MemberAgain:
    """A step's failed attempt inside another's local activity, as its first: its failure when
    no retry would change it (the tool says so; ``retryable``: its policy allows another
    attempt), else a retry's cue (a timeout with attempts left too)."""
    if isinstance(exc, TimeoutError):
        if not retryable:  # as its own local activity's last attempt
            return MemberFailure(type="Timeout", message="start_to_close timeout", worker=worker)
        return MemberAgain(message=f"timed out after {timeout_s:g}s")
    if not exc.retryable or not retryable or exc.type in NON_RETRYABLE_TOOL_ERRORS:
        return MemberFailure(type=exc.type, message=str(exc), worker=worker)
    return MemberAgain(message=f"{exc.type}: {exc}", retry_after_s=exc.retry_after_s)


def runs_inside(runtime: ToolRuntime, tool_name: str) -> bool:
    """Whether ``tool_name`` may run inside another step's local activity (a chain's or a
    group's): a read-only local tool in this worker's registry. The workflow input says it may;
    this worker's registry decides (an input forged, or prepared against another registry)."""
    tool = runtime.registry.get(tool_name)
    return tool is not None and tool.risk is Risk.READ_ONLY and tool.runs_local
