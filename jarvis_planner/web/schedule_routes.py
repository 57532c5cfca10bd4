"""The schedules of recurring goals in the web app: a read-only list (next run, last outcome)
and pause, resume and trigger (docs/schedules.md). Schedules are created where their plan is
reviewed: `jarvis schedule create` or the Python API.

Like goals, a schedule is visible only to an admin or to whoever approved its plan (as
``web:<name>``); any other id answers 404, as if it did not exist. The writes are POSTs with a
JSON body, so the cross-site refusals of ``security`` apply to them as to approve and reject."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from agents.client import JarvisClient
from agents.schedules import ScheduleNotFound, ScheduleView
from jarvis_planner.web.auth import Identity, identity
from jarvis_planner.web.bodies import ErrorOut
from jarvis_planner.web.error_mapping import ApiError
from jarvis_planner.web.routes import Client

schedules = APIRouter(prefix="/api/schedules", tags=["schedules"])
Who = Annotated[Identity, Depends(identity)]
NO_SUCH_SCHEDULE = ("no such schedule", "GET /api/schedules lists the schedules")
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such schedule"}}


class ScheduleItem(BaseModel):
    id: str
    goal: str
    when: str = Field(description="When it runs: `cron 0 8 * * *`, `every 1h`.")
    paused: bool
    note: str
    next_run: str | None = Field(description="ISO time of the next run (none while paused).")
    last_outcome: str = Field(description="The stage of its last goal now (\"\" before any).")
    last_goal_id: str | None
    actions: int = Field(description="Runs started so far.")
    approved_by: str
    overlap: str


class NoteBody(BaseModel):
    note: str = Field("", max_length=500)


class Triggered(BaseModel):
    id: str
    triggered: bool


def item(view: ScheduleView) -> ScheduleItem:
    last = view.recent[-1] if view.recent else None
    return ScheduleItem(id=view.id, goal=view.goal, when=view.when, paused=view.paused,
                        note=view.note,
                        next_run=view.next_runs[0] if view.next_runs and not view.paused
                        else None,
                        last_outcome=last.stage if last else "",
                        last_goal_id=last.goal_id if last else None, actions=view.actions,
                        approved_by=view.approved_by, overlap=view.overlap)


def _sees(who: Identity, view: ScheduleView) -> bool:
    return who.admin or view.approved_by == who.by


async def visible_schedule(schedule_id: str, who: Who, client: JarvisClient = Client
                           ) -> ScheduleView:
    """The schedule when the identity may see it; otherwise 404, as for an unknown id."""
    try:
        view = await client.describe_schedule(schedule_id, runs=1)
    except ScheduleNotFound as exc:
        raise ApiError(404, *NO_SUCH_SCHEDULE) from exc
    if not _sees(who, view):
        raise ApiError(404, *NO_SUCH_SCHEDULE)
    return view


Schedule = Annotated[ScheduleView, Depends(visible_schedule)]


@schedules.get("", response_model=list[ScheduleItem])
async def list_schedules(who: Who, client: JarvisClient = Client) -> list[ScheduleItem]:
    """The schedules of recurring goals (yours only, unless you are an admin): when they run,
    the next run, and the outcome of the last one."""
    return [item(v) for v in await client.list_schedules() if _sees(who, v)]


@schedules.post("/{schedule_id}/pause", response_model=ScheduleItem, responses=NOT_FOUND)
async def pause(schedule: Schedule, who: Who, body: NoteBody | None = None,
                client: JarvisClient = Client) -> ScheduleItem:
    """Pause the schedule: no run starts until it is resumed."""
    note = (body.note if body else "") or f"paused by {who.by}"
    await client.pause_schedule(schedule.id, note)
    return item(await client.describe_schedule(schedule.id, runs=1))


@schedules.post("/{schedule_id}/resume", response_model=ScheduleItem, responses=NOT_FOUND)
async def resume(schedule: Schedule, who: Who, body: NoteBody | None = None,
                 client: JarvisClient = Client) -> ScheduleItem:
    """Resume a paused schedule."""
    note = (body.note if body else "") or f"resumed by {who.by}"
    await client.resume_schedule(schedule.id, note)
    return item(await client.describe_schedule(schedule.id, runs=1))


@schedules.post("/{schedule_id}/trigger", response_model=Triggered, responses=NOT_FOUND)
async def trigger(schedule: Schedule, client: JarvisClient = Client) -> Triggered:
    """Start a run now: the approved plan, as at any scheduled time."""
    await client.trigger_schedule(schedule.id)
    return Triggered(id=schedule.id, triggered=True)
