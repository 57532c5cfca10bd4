"""The local activity that runs a chain of local steps (planner/contracts/local_chain.py): the
lead step as its own local activity would, then each link while the chain's time budget lasts.

A link runs once, with its own timeout, on the outputs before it; when it fails, times out, its
arguments do not resolve or the outputs so far fill the payload limit, the chain stops there and
returns what ran: the workflow runs that step on its own, with its retry policy. Links are
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
from planner.contracts.local_chain import ChainResult, LocalChain
from planner.contracts.names import LOCAL_CHAIN_ACTIVITY
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
        results = [lead]
        outputs = {k: hydrate(v, runtime.store) for k, v in chain.known.items()}
        outputs[chain.lead.step_id] = hydrate(lead.output, runtime.store)
        size, limit = json_size(lead.output), chain.lead.inline_limit
        stopped = ""
        for link in chain.links:
            step = link.step
            if time.monotonic() - began >= chain.budget_s:
                stopped = f"the chain's {chain.budget_s:g}s were spent before step '{step.id}'"
                break
            if size >= limit:
                stopped = f"the outputs so far fill {limit} bytes before step '{step.id}'"
                break
            tool = runtime.registry.get(step.tool)
            if tool is None or tool.risk is not Risk.READ_ONLY or not tool.runs_local:
                # the workflow input says it may follow; this worker's registry decides
                stopped = (f"step '{step.id}': '{step.tool}' is not a read-only local tool on "
                           "this worker; it runs on its own")
                break
            try:
                call = prepare_call(step, outputs, limit)
                async with asyncio.timeout(link.timeout_s):
                    result = await run_attempt(runtime, metrics, call, 1, info.workflow_id,
                                               run_key)
            except (StepInputError, StepFailure, TimeoutError) as exc:
                why = "timed out" if isinstance(exc, TimeoutError) else f"failed: {exc}"
                stopped = f"step '{step.id}' {why}; it runs again on its own"
                break
            results.append(result)
            outputs[step.id] = hydrate(result.output, runtime.store)
            size += json_size(result.output)
        return ChainResult(results=results, stopped=stopped)

    return run_local_chain
