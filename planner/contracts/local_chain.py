"""A chain of local steps run in one local activity: its input and its result.

When a local step (``StepPolicy.local``) starts and the steps after it form a chain of read-only
local steps (each the only step the chain so far makes ready), the Temporal engine runs the step
and as many of those as fit in ``ExecutePlanInput.local_chain_s`` in one local activity: one
workflow activation instead of one per step (agents/plan_runner.py, planner/chains.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from planner.contracts.plan_run import ToolCall, ToolCallResult
from planner.plan import Step


class ChainLink(BaseModel):
    """A step after the lead: its arguments resolve in the activity, from the outputs of the
    steps before it (in the chain or ``LocalChain.known``). ``retryable``: whether its retry
    policy allows another attempt (more than one); if not, a failure in the chain is its last."""

    step: Step
    timeout_s: float = Field(gt=0)
    retryable: bool = True


class MemberFailure(BaseModel):
    """A step's failure, run inside another's local activity (a group's member, a chain's
    link), that no retry would change (the tool said so, or its policy allows one attempt):
    the step fails with it, as its own local activity would have."""

    type: str
    message: str
    worker: str | None = None  # the worker that ran it


class MemberAgain(BaseModel):
    """A step's failure (or timeout), run inside another's local activity, that a retry may
    fix: its first attempt. The workflow waits as its retry policy would (``retry_after_s``
    when the tool asked for it), then runs the step on its own with the attempts left."""

    message: str
    retry_after_s: float | None = None


class LocalChain(BaseModel):
    """The lead step's call (run with its own timeout and retry policy: a failure of it fails
    the activity as its own local activity would) and the links that may follow it."""

    lead: ToolCall
    lead_timeout_s: float = Field(gt=0)
    links: list[ChainLink] = Field(min_length=1)
    # outputs (or their payload handles) of finished steps outside the chain the links refer to
    known: dict[str, Any] = Field(default_factory=dict)
    # no link starts once the chain has run this long (the lead included)
    budget_s: float = Field(gt=0)


class ChainResult(BaseModel):
    """The lead's result, then one result per link that ran, in order. A link that failed, did
    not fit the budget or came after either is absent: the workflow runs it on its own."""

    results: list[ToolCallResult] = Field(min_length=1)
    # why the chain stopped before its last link ("" when every link ran), for logs and tests
    stopped: str = ""
    # the first attempt of the link that stopped the chain by failing once its tool ran (absent
    # in results); the workflow counts it when the run's input says so
    # (``ExecutePlanInput.link_attempts``)
    stopped_by: MemberFailure | MemberAgain | None = None
