"""One entry of a workflow's event log (planner/contracts/events.py), and the log as carried
across a continue-as-new (agents/history_budget.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

EventKind = Literal["stage", "plan", "step", "decision", "done"]


class Event(BaseModel):
    seq: int = Field(ge=1)
    kind: EventKind
    stage: str  # the goal's stage (a plan run's status) when it happened
    step_id: str | None = None
    status: str | None = None  # a step's new status, or a decision's action


class LogSnapshot(BaseModel):
    """The events still kept and the last sequence number: the next run goes on from there, so
    a follower sees no gap and no duplicate."""

    events: list[Event] = Field(default_factory=list)
    seq: int = Field(0, ge=0)
