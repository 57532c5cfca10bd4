"""The event log both workflows keep: what changed, in the order it happened.

Workflow code appends an :class:`Event` whenever a stage, the plan, a decision or a step changes;
the ``events`` query returns the events after a sequence number together with the current
state. Clients follow a goal or a run by asking for what came after the last event they saw, so
they see every change in the workflow's own order, however slowly they poll (the state observed
between two polls no longer decides what a client is told).
"""

from __future__ import annotations

from collections import deque

from pydantic import BaseModel, Field

from planner.contracts.event_record import Event as Event
from planner.contracts.event_record import EventKind as EventKind
from planner.contracts.event_record import LogSnapshot
from planner.contracts.goal_flow import GoalState
from planner.contracts.plan_run import RunState

# Events kept per workflow run; a client that falls further behind resynchronises from the state
# (the page says where the log starts).
MAX_EVENTS = 5_000


class EventsRequest(BaseModel):
    after: int = Field(0, ge=0, description="The last sequence number the caller has seen.")
    limit: int = Field(1_000, ge=1, le=MAX_EVENTS)


class GoalEventPage(BaseModel):
    events: list[Event]
    first_seq: int = 1  # the oldest event still kept
    state: GoalState


class RunEventPage(BaseModel):
    events: list[Event]
    first_seq: int = 1
    state: RunState


class EventLog:
    """Append-only, bounded; lives in workflow memory (never in the history)."""

    def __init__(self, snapshot: LogSnapshot | None = None) -> None:
        self._events: deque[Event] = deque(maxlen=MAX_EVENTS)
        self._seq = 0
        if snapshot is not None:  # a run continued as new goes on where the last one stopped
            self._events.extend(snapshot.events)
            self._seq = snapshot.seq

    def snapshot(self, keep: int = MAX_EVENTS) -> LogSnapshot:
        """The last ``keep`` events and the sequence number, for the next run."""
        kept = list(self._events)[-keep:] if keep else []
        return LogSnapshot(events=kept, seq=self._seq)

    def add(self, kind: EventKind, stage: str, step_id: str | None = None,
            status: str | None = None) -> None:
        self._seq += 1
        self._events.append(Event(seq=self._seq, kind=kind, stage=stage, step_id=step_id,
                                  status=status))

    @property
    def first_seq(self) -> int:
        return self._events[0].seq if self._events else self._seq + 1

    def after(self, request: EventsRequest) -> list[Event]:
        start = max(request.after + 1, self.first_seq) - self.first_seq
        return [self._events[i] for i in range(start, min(len(self._events),
                                                          start + request.limit))]
