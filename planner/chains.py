"""Which steps may follow a local step in its local activity (a chain, planner/contracts/
local_chain.py). Pure.

A step follows the chain when it is the only step the chain so far would make ready (every step
it needs has succeeded or is in the chain; a step that also needs a step outside the chain still
running is not ready, so it does not count), and it is safe to run there: a read-only local
activity (a local attempt may run again if its worker dies; so may a chain), not routed to
another queue, with no condition, no gate, no grant, no compensation, and not an LLM call (whose
tokens the budget checks before each call). Stopping at the first fan-out keeps parallel steps
parallel.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from planner.budget import LLM_TOOL
from planner.contracts.plan_run import StepPolicy
from planner.plan import Plan, Step
from planner.scheduler import StepStatus
from planner.tools import Risk


def may_follow(step: Step, policy: StepPolicy) -> bool:
    """Whether ``step`` may run inside another step's local activity (its condition not yet
    known: none allowed)."""
    return may_group(step, policy) and not step.when


def may_group(step: Step, policy: StepPolicy) -> bool:
    """Whether ``step``, starting now (its condition, if any, held), may run in one local
    activity with other steps starting at the same moment (agents/plan_runner.py)."""
    return (policy.kind == "activity" and policy.local and policy.queue is None
            and policy.risk is Risk.READ_ONLY and policy.compensation is None
            and step.tool != LLM_TOOL)


class ChainRule:
    """The chains of one plan: built once per run, asked at each local step's start."""

    def __init__(self, plan: Plan, policies: Mapping[str, StepPolicy],
                 excluded: Collection[str] = (),
                 deps: Mapping[str, set[str]] | None = None) -> None:
        """``excluded``: steps that never follow (gated steps, steps holding a grant);
        ``deps``: the plan's dependency map, if the caller has it already."""
        self._steps = {s.id: s for s in plan.steps}
        self._deps = plan.dependency_map() if deps is None else deps
        self._dependants: dict[str, list[str]] = {s.id: [] for s in plan.steps}
        for step_id, needs in self._deps.items():
            for dep in needs:
                self._dependants[dep].append(step_id)
        self._able = {s.id for s in plan.steps
                      if s.id not in excluded and may_follow(s, policies[s.id])}

    def after(self, lead: str | Collection[str], status: Callable[[str], StepStatus],
              room: int) -> list[Step]:
        """The steps that may follow ``lead`` (a step, or the steps of a local group run
        together) (at most ``room``), in order: while exactly one step would become ready once
        the chain so far succeeds (none: the chain ends; two or more: they would run in
        parallel), and that step may follow. ``status``: a step's status now (asked only about
        the leads' neighbourhood, so a lead costs what its chain does)."""
        chain: list[Step] = []
        leads = [lead] if isinstance(lead, str) else list(lead)
        members = set(leads)
        waiting: set[str] = set()  # pending steps the chain so far would make ready
        fresh = leads  # the steps whose dependants are looked at next
        while len(chain) < room:
            # each dependant once, however many of the fresh steps it depends on (a join after
            # a group of n members would be looked at n times, each time over its n deps)
            looked = {d for last in fresh for d in self._dependants[last]} - waiting
            waiting.update(d for d in looked if status(d) is StepStatus.PENDING
                           and all(x in members or status(x) is StepStatus.SUCCEEDED
                                   for x in self._deps[d]))
            if len(waiting) != 1:
                break
            nxt = waiting.pop()
            if nxt not in self._able:
                break
            chain.append(self._steps[nxt])
            members.add(nxt)
            fresh = [nxt]
        return chain

    def needs(self, lead: str | Collection[str], links: list[Step]) -> set[str]:
        """The finished steps outside the chain whose outputs its links refer to."""
        leads = [lead] if isinstance(lead, str) else list(lead)
        members = {*leads, *(s.id for s in links)}
        return {d for s in links for d in self._deps[s.id]} - members
