"""The tolerant parser's entry point: a model's answer -> a plan, or problems the model can act
on, with every fix recorded."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from planner.nesting import nests_deeper
from planner.parsing.keys import MAX_NESTING
from planner.parsing.locating import _Budget, _locate, _TooDeep, _unwrap, too_deep_problem
from planner.parsing.normalising import _normalise
from planner.parsing.problems import _shape_problems
from planner.parsing.scanning import _Segment
from planner.plan import Plan
from planner.validation import Problem


class ParseOutcome(BaseModel):
    """A plan (then ``problems`` is empty) or the problems that stop it, and the fixes taken."""

    plan: Plan | None = None
    problems: list[Problem] = Field(default_factory=list)
    fixes: list[str] = Field(
        default_factory=list, description="Each tolerant step taken, in order, e.g. "
        "'removed code fence' or \"renamed 'arguments' to 'args' (steps 0, 1)\".")

    @property
    def ok(self) -> bool:
        return self.plan is not None


def parse_plan_output(raw: str | dict[str, Any] | list[Any], *,
                      goal: str | None = None) -> ParseOutcome:
    """Turn a model's answer into a plan, or into problems the model can act on.

    ``goal`` fills in a plan that has none (the model answered with steps only)."""
    fixes: list[str] = []
    truncated: _Segment | None = None
    if isinstance(raw, str):
        found = _locate(raw, fixes)
        if isinstance(found, list):
            return ParseOutcome(problems=found, fixes=fixes)
        data, truncated = found
    else:
        if nests_deeper(raw, MAX_NESTING):
            return ParseOutcome(problems=[too_deep_problem(None, None)], fixes=fixes)
        try:
            data = _unwrap(copy.deepcopy(raw), fixes, _Budget())
        except _TooDeep:  # JSON in a string in it
            return ParseOutcome(problems=[too_deep_problem(None, None)], fixes=fixes)
    data = _normalise(data, goal, fixes)
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        problems = _shape_problems(exc, data)
        if truncated is not None:
            problems.insert(0, Problem(
                code="unparseable", location="end of output",
                message=f"the output is cut off (it ends without the closing "
                f"'{truncated.closers}'); completed, it still does not match the plan schema, "
                "see the other problems; answer with the whole plan"))
        return ParseOutcome(problems=problems, fixes=fixes)
    return ParseOutcome(plan=plan, fixes=fixes)
