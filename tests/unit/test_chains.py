"""Which steps follow a local step in its local activity (planner/chains.py)."""

from __future__ import annotations

from typing import Any

from activities import default_registry
from planner.chains import ChainRule
from planner.plan import Plan
from planner.preparation import step_policies
from planner.scheduler import StepStatus
from planner.tools import ToolRegistry, tool_from_function


async def add(n: int, k: int = 1) -> int:
    """``n + k`` (read-only, local)."""
    return n + k


def registry() -> ToolRegistry:
    reg = default_registry(plugins=False)
    reg.register(tool_from_function(add, timeout_s=10))
    return reg


def plan(*steps: dict[str, Any]) -> Plan:
    return Plan.model_validate({"goal": "chains", "steps": list(steps)})


def add_step(step_id: str, after: str | None = None, **more: Any) -> dict[str, Any]:
    args = {"n": f"${{{after}}}"} if after else {"n": 0}
    return {"id": step_id, "tool": "add", "args": args, **more}


def follow(p: Plan, lead: str, *, room: int = 100, excluded: tuple[str, ...] = (),
           status: dict[str, StepStatus] | None = None, queues: dict[str, str] | None = None
           ) -> list[str]:
    reg = registry()
    rule = ChainRule(p, step_policies(p, reg, queues=queues), excluded=excluded)
    now = {s.id: StepStatus.PENDING for s in p.steps} | {lead: StepStatus.RUNNING}
    return [s.id for s in rule.after(lead, (now | (status or {})).__getitem__, room)]


def test_a_chain_follows_its_lead_up_to_the_room_given() -> None:
    p = plan(add_step("a"), add_step("b", "a"), add_step("c", "b"), add_step("d", "c"))
    assert follow(p, "a") == ["b", "c", "d"]
    assert follow(p, "a", room=2) == ["b", "c"]
    assert follow(p, "a", room=0) == []
    assert follow(p, "b", status={"a": StepStatus.SUCCEEDED}) == ["c", "d"]


def test_a_fan_out_stops_the_chain_so_parallel_steps_stay_parallel() -> None:
    p = plan(add_step("a"), add_step("b", "a"), add_step("x", "b"), add_step("y", "b"),
             {"id": "join", "tool": "add", "args": {"n": "${x}", "k": "${y}"}})
    assert follow(p, "a") == ["b"]
    assert follow(p, "x", status={"a": StepStatus.SUCCEEDED, "b": StepStatus.SUCCEEDED}) == [], \
        "join also waits on y, still pending"
    done = {s: StepStatus.SUCCEEDED for s in ("a", "b", "y")}
    assert follow(p, "x", status=done) == ["join"], "y succeeded: join may follow x"


def test_a_step_that_must_not_run_inside_another_ends_the_chain() -> None:
    cases: dict[str, dict[str, Any]] = {
        "a condition": add_step("c", "b", when="${b} > 0"),
        "a side effect": {"id": "c", "tool": "notes_append", "args": {"text": "${b}"}},
        "an LLM call": {"id": "c", "tool": "llm", "args": {"prompt": "say ${b}"}},
        "a regular activity": {"id": "c", "tool": "fetch_page", "args": {"url": "${b}"}},
        "a timer": {"id": "c", "tool": "wait", "args": {"seconds": "${b}"}},
    }
    for why, step in cases.items():
        p = plan(add_step("a"), add_step("b", "a"), step, add_step("d", "c"))
        assert follow(p, "a") == ["b"], why
    p = plan(add_step("a"), add_step("b", "a"), add_step("c", "b"))
    assert follow(p, "a", excluded=("b",)) == [], "a gated step, or one holding a grant"
    assert follow(p, "a", queues={"add": "elsewhere"}) == [], "a tool routed to another queue"
    assert follow(p, "a", status={"b": StepStatus.CANCELLED}) == []


def test_a_later_step_that_also_needs_the_rest_of_the_chain_does_not_stop_it() -> None:
    p = plan(add_step("a"), add_step("b", "a"), add_step("c", "b"),
             {"id": "note", "tool": "notes_append", "args": {"text": "${a} ${b} ${c}"}})
    assert follow(p, "a") == ["b", "c"], "note waits on c anyway; then it cannot follow"
    p = plan(add_step("a"), add_step("b", "a"), add_step("c", "b"),
             {"id": "d", "tool": "add", "args": {"n": "${a}", "k": "${c}"}})
    assert follow(p, "a") == ["b", "c", "d"]


def test_needs_names_the_finished_outputs_from_outside_the_chain() -> None:
    p = plan(add_step("x"), add_step("a"), add_step("b", "a"),
             {"id": "c", "tool": "add", "args": {"n": "${b}", "k": "${x}"}})
    rule = ChainRule(p, step_policies(p, registry()))
    status = {"x": StepStatus.SUCCEEDED, "a": StepStatus.RUNNING, "b": StepStatus.PENDING,
              "c": StepStatus.PENDING}
    links = rule.after("a", status.__getitem__, 100)
    assert [s.id for s in links] == ["b", "c"]
    assert rule.needs("a", links) == {"x"}
