"""Parallel local steps run in one local activity: its input and its result.

When two or more read-only local steps start at the same moment (a fan-out), the Temporal engine
runs them together, concurrently, in one local activity instead of one each: one dispatch and
one workflow activation instead of one per step (agents/plan_runner.py). While local activities
run, the workflow task stays open and nothing is recorded or answered (a ``state`` query waits)
until they end or the task heartbeats, so one activity for the fan-out hides nothing a person
could have seen.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from planner.contracts.plan_run import ToolCall, ToolCallResult


class GroupMember(BaseModel):
    """One step's call, run once with its own timeout. ``retryable``: whether its retry policy
    allows another attempt (more than one); if not, any failure here is its last."""

    call: ToolCall
    timeout_s: float = Field(gt=0)
    retryable: bool = True


class MemberFailure(BaseModel):
    """A member's failure no retry would change (the tool said so, or its policy allows one
    attempt): the step fails with it, as its own local activity would have."""

    type: str
    message: str
    worker: str | None = None  # the worker that ran it


class LocalGroup(BaseModel):
    members: list[GroupMember] = Field(min_length=2)


class GroupResult(BaseModel):
    """One entry per member, in order: its result; its failure, when no retry would change it;
    or None when it did not succeed here otherwise (a failure a retry may fix, a timeout, a tool
    that is not a read-only local tool on the worker): the workflow runs that step on its own,
    with its retry policy."""

    results: list[ToolCallResult | MemberFailure | None]
    # why each absent member did not succeed here (step id -> reason), for logs and tests
    stopped: dict[str, str] = Field(default_factory=dict)
