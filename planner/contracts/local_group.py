"""Parallel local steps run in one local activity: its input and its result.

When two or more read-only local steps start at the same moment (a fan-out), the Temporal engine
runs them together, concurrently, in one local activity instead of one each: one dispatch and
one workflow activation instead of one per step (agents/plan_runner.py). While local activities
run, the workflow task stays open and nothing is recorded or answered (a ``state`` query waits)
until they end or the task heartbeats, so one activity for the fan-out hides nothing a person
could have seen.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from planner.contracts.local_chain import ChainLink, MemberAgain, MemberFailure
from planner.contracts.plan_run import ToolCall, ToolCallResult


class GroupMember(BaseModel):
    """One step's call, run once with its own timeout. ``retryable``: whether its retry policy
    allows another attempt (more than one); if not, any failure here is its last."""

    call: ToolCall
    timeout_s: float = Field(gt=0)
    retryable: bool = True


class LocalGroup(BaseModel):
    """The members, run at once; then, when every one of them succeeded, the chain of links
    after them (planner/chains.py: each the only step the chain so far makes ready, e.g. a
    fan-out's join), as a chain's links run (activities/local_chain.py)."""

    members: list[GroupMember] = Field(min_length=2)
    links: list[ChainLink] = Field(default_factory=list)
    # outputs (or their payload handles) of finished steps outside the group the links refer to
    known: dict[str, Any] = Field(default_factory=dict)
    # no link starts once the group has run this long
    budget_s: float = Field(0.0, ge=0)


class GroupResult(BaseModel):
    """One entry per member, in order: its result; its failure, when no retry would change it;
    its first attempt's failure, when a retry may fix it (``MemberAgain``); or None when it did
    not run here (its tool is not a read-only local tool on the worker): the workflow runs that
    step on its own, with its retry policy."""

    results: list[ToolCallResult | MemberFailure | MemberAgain | None]
    # one result per link that ran, in order (a link that failed, did not fit the budget or
    # came after either is absent: the workflow runs it on its own)
    followers: list[ToolCallResult] = Field(default_factory=list)
    # the first attempt of the link that stopped them by failing (ChainResult.stopped_by)
    stopped_by: MemberFailure | MemberAgain | None = None


__all__ = ["GroupMember", "GroupResult", "LocalGroup", "MemberAgain", "MemberFailure"]
