"""The JSON API's routes: goals (submit, list, read, cancel, events, timeline) and review
(approve, reject, edit). Every call goes through the one client, taken from the app's state.

Every route acts as the logged-in identity: goals are submitted and decided as ``web:<name>``;
a person who is not an admin sees and decides only the goals they submitted (any other goal
answers 404, as if it did not exist); admins see and decide all of them."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from agents.client import JarvisClient
from jarvis_planner.gantt import render_svg
from jarvis_planner.web.auth import Identity, identity
from jarvis_planner.web.bodies import (
    ApproveBody,
    Cancelled,
    EditBody,
    ErrorOut,
    GoalItem,
    RejectBody,
    RetryBody,
    StepDecisionBody,
    SubmitBody,
    Submitted,
)
from jarvis_planner.web.error_mapping import ERRORS, NO_SUCH_GOAL, ApiError
from jarvis_planner.web.sse import event_stream
from jarvis_planner.web.view import GoalPage, goal_page, stage_group

goals = APIRouter(prefix="/api/goals", tags=["goals"])
review = APIRouter(prefix="/api/goals", tags=["review"])


def jarvis(request: Request) -> JarvisClient:
    client: JarvisClient = request.app.state.jarvis
    return client


Client = Depends(jarvis)
Who = Annotated[Identity, Depends(identity)]


async def visible_goal(goal_id: str, who: Who, client: JarvisClient = Client) -> str:
    """The goal id when the identity may see the goal: an admin, or whoever submitted it;
    otherwise 404, the same answer as for a goal that does not exist."""
    if not who.admin and await client.owner(goal_id) != who.by:
        raise ApiError(404, *NO_SUCH_GOAL)
    return goal_id


Goal = Annotated[str, Depends(visible_goal)]


@goals.post("", status_code=201, response_model=Submitted, responses={503: ERRORS[503]})
async def submit(body: SubmitBody, who: Who, client: JarvisClient = Client) -> Submitted:
    """Start a goal: it is planned, then waits for review unless policy lets it run."""
    goal_id = await client.submit(body.goal, yes=body.yes, dry_run=body.dry_run, by=who.by)
    return Submitted(id=goal_id)


@goals.get("", response_model=list[GoalItem])
async def list_goals(who: Who,
                     pending: bool = Query(False, description="Only goals waiting for "
                                                              "a decision."),
                     limit: int = Query(20, ge=1, le=200),
                     client: JarvisClient = Client) -> list[GoalItem]:
    """Recent goals, newest first, with their stage (yours only, unless you are an admin)."""
    return [GoalItem(id=g.id, goal=g.goal, stage=g.stage, started=g.started,
                     group=stage_group(g.stage), short_id=g.id.rsplit("-", 1)[-1][:8])
            for g in await client.list(limit, pending=pending,
                                       by=None if who.admin else who.by)]


@goals.get("/{goal_id}", response_model=GoalPage,
           responses={404: ERRORS[404], 410: ERRORS[410]})
async def goal_state(goal_id: Goal, client: JarvisClient = Client) -> GoalPage:
    """Stage, plan, problems, risks, decisions, per-step run state, token usage, and the
    ``view`` the page renders (finished, steps by dependency level, reference segments)."""
    return goal_page(await client.state(goal_id))


@goals.post("/{goal_id}/cancel", response_model=Cancelled,
            responses={404: ERRORS[404], 409: ERRORS[409]})
async def cancel(goal_id: Goal, client: JarvisClient = Client) -> Cancelled:
    """Cancel a goal that has not finished (running steps are cancelled)."""
    state = await client.state(goal_id)
    if state.finished:
        raise ApiError(409, f"goal {goal_id} is {state.stage}; nothing to cancel")
    await client.cancel(goal_id)
    return Cancelled(id=goal_id, cancelled=True)


@goals.get("/{goal_id}/events", response_class=StreamingResponse,
           responses={200: {"content": {"text/event-stream": {}},
                            "description": "Server-sent events `stage`, `plan`, `step`, "
                                           "`decision`, `done` (and `error`), in the order "
                                           "the workflow made them; each `data` is `{kind, "
                                           "stage, step_id, status, seq, state}` (`state`: "
                                           "the goal page). While the goal plans, "
                                           "`attempt` reports each retry of its LLM call: "
                                           "`{activity, attempt, max_attempts, last_failure, "
                                           "next_attempt_in_s}`."},
                      404: ERRORS[404], 410: ERRORS[410]})
async def events(goal_id: Goal, request: Request, client: JarvisClient = Client
                 ) -> StreamingResponse:
    """The goal's whole event log, then its changes as they happen. The stream stays open
    while the goal waits for review and ends after `done`."""
    await client.state(goal_id)  # 404 / 410 before the stream starts
    settings = request.app.state.stream
    return StreamingResponse(
        event_stream(client, goal_id, settings["poll_s"], settings["keepalive_s"]),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@goals.get("/{goal_id}/timeline.svg", response_class=Response,
           responses={200: {"content": {"image/svg+xml": {}},
                            "description": "A Gantt chart of the run's steps"},
                      404: ERRORS[404]})
async def timeline(goal_id: Goal, client: JarvisClient = Client) -> Response:
    """The run's steps on a time axis (404 while nothing has run)."""
    state = await client.state(goal_id)
    if state.run is None:
        raise ApiError(404, f"goal {goal_id} is {state.stage}: none of its steps ran yet",
                       "the timeline exists once the goal executes")
    svg = render_svg(state.run, title=state.goal, subtitle=goal_id,
                     now=time.time() if state.run.status == "running" else None)
    return Response(svg, media_type="image/svg+xml")


@review.post("/{goal_id}/approve", response_model=GoalPage,
             responses={404: ERRORS[404], 409: ERRORS[409]})
async def approve(goal_id: Goal, body: ApproveBody, who: Who,
                  client: JarvisClient = Client) -> GoalPage:
    """Approve the plan of a goal that waits for review; it starts executing."""
    digest = await _full_digest(client, goal_id, body.plan_digest)
    return goal_page(await client.approve(goal_id, digest, by=who.by, note=body.note,
                                          gates=body.gates, until=body.until))


@review.post("/{goal_id}/steps/{step_id}/decision", response_model=GoalPage,
             responses={404: ERRORS[404], 409: ERRORS[409]})
async def decide_step(goal_id: Goal, step_id: Annotated[str, Path(max_length=200)],
                      body: StepDecisionBody, who: Who,
                      client: JarvisClient = Client) -> GoalPage:
    """Decide at a step's gate: approved, the step starts with the arguments shown; rejected,
    it is skipped with what depends on it and the rest of the plan goes on."""
    return goal_page(await client.decide_step(goal_id, step_id, body.approve, by=who.by,
                                              note=body.note, abandon=body.abandon))


@review.post("/{goal_id}/retry", response_model=GoalPage,
             responses={404: ERRORS[404], 409: ERRORS[409]})
async def retry(goal_id: Goal, body: RetryBody, who: Who,
                client: JarvisClient = Client) -> GoalPage:
    """Run an ended goal again from one of its steps (optionally with new arguments) under
    the same id; the finished steps that do not depend on it keep their outputs and do not
    run again. Returns the goal as it starts again (409 while it still runs)."""
    await client.retry(goal_id, body.step, args=body.args, by=who.by)
    return goal_page(await client.state(goal_id))


@review.post("/{goal_id}/reject", response_model=GoalPage,
             responses={404: ERRORS[404], 409: ERRORS[409]})
async def reject(goal_id: Goal, who: Who, body: RejectBody | None = None,
                 client: JarvisClient = Client) -> GoalPage:
    """Reject the plan; nothing runs."""
    body = body or RejectBody()
    return goal_page(await client.reject(goal_id, by=who.by, reason=body.reason))


@review.post("/{goal_id}/edit", response_model=GoalPage,
             responses={404: ERRORS[404], 409: ERRORS[409],
                        422: {"model": ErrorOut, "description": "The edited plan does not "
                              "validate; the goal still waits on its current plan"}})
async def edit(goal_id: Goal, body: EditBody, who: Who,
               client: JarvisClient = Client) -> GoalPage:
    """Replace the waiting goal's plan. It is validated against the tools first; an invalid
    plan is refused with its problems and the goal keeps waiting."""
    digest = await _full_digest(client, goal_id, body.plan_digest)
    return goal_page(await client.edit(goal_id, body.plan, digest, by=who.by, note=body.note))


async def _full_digest(client: JarvisClient, goal_id: str, given: str) -> str:
    """The current plan's digest when ``given`` is a prefix of it; else ``given`` (refused by
    the workflow as a decision about another version of the plan)."""
    current = (await client.state(goal_id)).plan_digest or ""
    return current if current.startswith(given) else given
