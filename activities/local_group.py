"""The local activity that runs parallel local steps together (planner/contracts/local_group.py):
every member at once, each once with its own timeout, as its own local activity's first attempt
would. A member's failure that no retry would change (the tool says so, or the step allows one
attempt) comes back as its failure; one a retry may fix (a timeout too) as its first attempt
(``MemberAgain``): the workflow runs that step again on its own with the attempts left (a
read-only step, so running it again is safe). A member whose tool is not a read-only local tool
in this worker's registry (whatever the workflow input says) is not run here: absent, it runs
on its own with its whole retry policy. When every member succeeded, the links after them (a
fan-out's join, say) run as a chain's do (activities/local_chain.py ``run_links``), unless a
member spent LLM tokens: the run checks its budget before they start. The
activity itself fails only on a bug; then every member runs on its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.execution import StepFailure, ToolRuntime, run_attempt
from activities.local_chain import first_attempt, run_links, runs_inside
from activities.metrics import ActivityMetrics
from activities.payloads import hydrate
from planner.contracts.local_group import (
    GroupMember,
    GroupResult,
    LocalGroup,
    MemberAgain,
    MemberFailure,
)
from planner.contracts.names import LOCAL_GROUP_ACTIVITY
from planner.contracts.plan_run import ToolCallResult
from planner.pure_tools import json_size


def local_group_activity(runtime: ToolRuntime,
                         metrics: ActivityMetrics) -> Callable[..., Any]:
    @activity.defn(name=LOCAL_GROUP_ACTIVITY)
    async def run_local_group(group: LocalGroup) -> GroupResult:
        info = activity.info()
        run_key = f"{info.workflow_id}/{info.workflow_run_id}"

        async def one(member: GroupMember) -> ToolCallResult | MemberFailure | MemberAgain | None:
            call = member.call
            if not runs_inside(runtime, call.tool):
                return None  # not run here: on its own, with its whole retry policy
            try:
                async with asyncio.timeout(member.timeout_s):
                    return await run_attempt(runtime, metrics, call, 1, info.workflow_id,
                                             run_key)
            except (StepFailure, TimeoutError) as exc:
                return first_attempt(exc, member.retryable, member.timeout_s, runtime.worker)

        began = time.monotonic()
        outcomes = await asyncio.gather(*(one(m) for m in group.members))
        followers: list[ToolCallResult] = []
        stopped_by: MemberFailure | MemberAgain | None = None
        done = [o for o in outcomes if isinstance(o, ToolCallResult)]
        if (group.links and len(done) == len(outcomes)  # every member succeeded
                and all(o.usage is None for o in done)):  # none spent tokens: no budget check
            outputs = {k: hydrate(v, runtime.store) for k, v in group.known.items()}
            outputs.update({m.call.step_id: hydrate(o.output, runtime.store)
                            for m, o in zip(group.members, done, strict=True)})
            limit = group.members[0].call.inline_limit
            followers, _, stopped_by = await run_links(
                runtime, metrics, group.links, outputs, sum(json_size(o.output) for o in done),
                limit, began + group.budget_s, info.workflow_id, run_key)
        return GroupResult(results=outcomes, followers=followers, stopped_by=stopped_by)

    return run_local_group
