"""What the page shows of a goal, computed here so the page derives nothing itself: whether the
goal has finished, the plan's steps grouped by dependency level with each step's dependencies,
the plan as a graph laid out for drawing (``graph``), every argument, condition and output split
into text and reference segments by the one ``${...}`` scanner (:func:`planner.refs.scan`), why
a goal failed in words for the page (``failure``), whether it can be retried, and the problems in
web wording. Also the group of a stage the goal list filters by (:func:`stage_group`)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from jarvis_planner.web.failure import RETRY_STAGES, Failure, failure
from jarvis_planner.web.graph import Graph, layout
from jarvis_planner.web.wording import web_wording
from planner.contracts.goal_flow import FINAL_STAGES, FLOW_STAGES, GoalState
from planner.plan import Plan
from planner.refs import RefSyntaxError, scan
from planner.validation import Problem


class Segment(BaseModel):
    kind: Literal["text", "ref"]
    text: str


class StepView(BaseModel):
    id: str
    tool: str
    description: str = ""
    risk: str | None = None
    level: int
    deps: list[str]
    args: dict[str, list[Segment]]
    # argument (or a place inside one) -> how its reference's value is converted at the step
    # boundary, e.g. "number, passed as text"
    conversions: dict[str, str] = {}
    when: list[Segment] | None = None


StageGroup = Literal["waiting", "running", "succeeded", "failed", "other"]


class GoalView(BaseModel):
    finished: bool
    group: StageGroup = "running"  # the goal list's filter for its stage (stage_group)
    levels: list[list[StepView]]
    outputs: dict[str, list[Segment]]
    graph: Graph = Field(default_factory=lambda: Graph(width=0, height=0, nodes=[], edges=[]))
    failure: Failure | None = None
    retry: bool = False  # the page offers to submit the same goal again
    problems: list[Problem] = Field(default_factory=list)  # the state's, in web wording


class GoalPage(GoalState):
    """A goal's state as the web API sends it: the state plus its ``view``."""

    view: GoalView


class Stages(BaseModel):
    flow: list[str]  # the order a goal moves through
    final: list[str]  # where it can end


STAGES = Stages(flow=list(FLOW_STAGES), final=sorted(FINAL_STAGES))

_GROUPS: dict[str, StageGroup] = {
    "awaiting_approval": "waiting", "succeeded": "succeeded", "failed": "failed",
    "invalid": "failed", "expired": "failed", "cancelled": "failed", "canceled": "failed",
    "terminated": "failed", "timed_out": "failed", "rejected": "other", "planned": "other"}


def stage_group(stage: str) -> StageGroup:
    """What the goal list filters by: waiting for a decision, still running (planning or
    executing), succeeded, failed (failed, invalid, expired, cancelled), other (rejected,
    planned only)."""
    return _GROUPS.get(stage, "other" if stage in FINAL_STAGES else "running")


def segments(value: Any) -> list[Segment]:
    """A value as display segments: strings as they are, anything else as compact JSON; an
    escaped ``$${`` stays text, an unclosed ``${`` is text too."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           separators=(",", ":"))
    return [Segment(kind="ref" if span.kind == "ref" else "text",
                    text=text[span.start:span.end]) for span in scan(text)]


def levels(plan: Plan) -> dict[str, int]:
    """Each step's dependency level: 0 for steps that wait for nothing, else one more than the
    deepest step it waits for (steps in a cycle count as level 0; the validator reports it)."""
    deps = _known_deps(plan)
    found: dict[str, int] = {}

    def level(step_id: str, path: frozenset[str]) -> int:
        if step_id in found:
            return found[step_id]
        if step_id in path:
            return 0
        below = [level(d, path | {step_id}) for d in deps[step_id]]
        found[step_id] = 1 + max(below) if below else 0
        return found[step_id]

    for step in plan.steps:
        level(step.id, frozenset())
    return found


def _known_deps(plan: Plan) -> dict[str, list[str]]:
    """Each step's dependencies among the plan's steps (explicit ones only where a reference
    does not parse: an invalid draft is shown too)."""
    ids = {s.id for s in plan.steps}
    out = {}
    for step in plan.steps:
        try:
            found = step.dependencies()
        except RefSyntaxError:
            found = set(step.deps)
        out[step.id] = sorted((found & ids) - {step.id})
    return out


def goal_view(state: GoalState) -> GoalView:
    view = GoalView(finished=state.finished, group=stage_group(state.stage), levels=[],
                    outputs={}, failure=failure(state),
                    retry=state.stage in RETRY_STAGES,
                    problems=[p.model_copy(update={"message": web_wording(p.message)})
                              for p in state.problems])
    plan = state.plan
    if plan is None:
        return view
    deps = _known_deps(plan)
    by_level = levels(plan)
    groups: list[list[StepView]] = [[] for _ in range(max(by_level.values(), default=-1) + 1)]
    for step in plan.steps:
        groups[by_level[step.id]].append(StepView(
            id=step.id, tool=step.tool, description=step.description,
            risk=state.risks.get(step.id), level=by_level[step.id], deps=deps[step.id],
            args={k: segments(v) for k, v in step.args.items()},
            conversions=state.conversions.get(step.id, {}),
            when=segments(step.when) if step.when else None))
    view.levels = [g for g in groups if g]
    view.outputs = {k: segments(v) for k, v in plan.outputs.items()}
    view.graph = layout([[(s.id, s.tool) for s in g] for g in view.levels], deps)
    return view


def goal_page(state: GoalState) -> GoalPage:
    return GoalPage(**dict(state), view=goal_view(state))
