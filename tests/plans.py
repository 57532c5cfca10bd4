"""Plans and test-only tools shared by the engine tests."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from pydantic import BaseModel

from activities.errors import ToolError
from planner.plan import Plan
from planner.retry import RetrySpec
from planner.tools import Risk, ToolRegistry, tool_from_function

# A goal the scripted LLM plans (one write_file step), another the template it becomes serves,
# and a draft with a misspelt tool that a repair round fixes.
TEA_GOAL = "Save the line Green tea is calming to tea.txt"
COFFEE_GOAL = "Save the line Coffee keeps me awake to coffee.txt"
TEA_PLAN: dict[str, Any] = {
    "goal": TEA_GOAL,
    "steps": [{"id": "write", "tool": "write_file",
               "args": {"path": "tea.txt", "text": "Green tea is calming"}}],
    "outputs": {"path": "${write.path}"},
}
BROKEN_PLAN: dict[str, Any] = {**TEA_PLAN, "steps": [
    {"id": "write", "tool": "write_fil", "args": {"path": "tea.txt", "text": "x"}}]}


class Span(BaseModel):
    label: str
    started: float
    finished: float


class Profile(BaseModel):
    name: str
    tags: list[str]
    stats: dict[str, int]


async def slow_span(label: str, seconds: float = 0.3) -> Span:
    """Sleep, then report when it ran (for concurrency assertions)."""
    started = time.time()
    await asyncio.sleep(seconds)
    return Span(label=label, started=started, finished=time.time())


def profile(name: str) -> Profile:
    """A structured output for field-level references."""
    return Profile(name=name.title(), tags=[name[:3], name[-3:]], stats={"len": len(name)})


FLAKY_CALLS: dict[str, int] = {}


def flaky(key: str, failures: int) -> dict[str, Any]:
    """Fail with a retryable error ``failures`` times per key, then succeed."""
    FLAKY_CALLS[key] = FLAKY_CALLS.get(key, 0) + 1
    if FLAKY_CALLS[key] <= failures:
        raise ToolError(f"transient failure {FLAKY_CALLS[key]} of {failures}")
    return {"key": key, "calls": FLAKY_CALLS[key]}


def big(kb: int) -> dict[str, Any]:
    """A large output (kb kilobytes of items)."""
    return {"items": [{"i": i, "pad": "x" * 1000} for i in range(kb)], "count": kb}


class Gate:
    """A test's handle on a ``gate`` step: ``entered`` is set once the step runs; the step
    returns when the test calls ``release()`` (tests wait on these events, not on sleeps)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    async def wait_entered(self, timeout_s: float = 60.0) -> None:
        if not await asyncio.to_thread(self.entered.wait, timeout_s):
            raise AssertionError("the gate step never started")


GATES: dict[str, Gate] = {}


def open_gate(name: str) -> Gate:
    """A new gate for this test (names are per test: use a unique one)."""
    GATES[name] = Gate()
    return GATES[name]


def gate(name: str) -> dict[str, Any]:
    """Block until the test releases the gate ``name`` (at most 120 s)."""
    found = GATES[name]
    found.entered.set()
    if not found._released.wait(120):
        raise ToolError(f"gate {name} was never released")
    return {"gate": name}


def add_test_tools(registry: ToolRegistry) -> ToolRegistry:
    fast = RetrySpec(max_attempts=3, initial_interval_s=0.1, backoff=1.0, max_interval_s=0.2)
    registry.register(tool_from_function(slow_span, retry=fast))
    registry.register(tool_from_function(profile, retry=fast))
    registry.register(tool_from_function(flaky, risk=Risk.SIDE_EFFECTING, retry=fast))
    registry.register(tool_from_function(big, retry=fast))
    registry.register(tool_from_function(gate, retry=RetrySpec(max_attempts=1), timeout_s=150,
                                         local_ok=False))
    return registry


def fan_plan() -> Plan:
    """Fan-out (three independent spans), fan-in (calc over fields), field-level references."""
    return Plan.model_validate({
        "goal": "fan out, fan in",
        "steps": [
            {"id": "who", "tool": "profile", "args": {"name": "ada lovelace"}},
            {"id": "a", "tool": "slow_span", "args": {"label": "${who.name}"}},
            {"id": "b", "tool": "slow_span", "args": {"label": "${who.tags[0]}"}},
            {"id": "c", "tool": "slow_span", "args": {"label": "tag ${who.tags[-1]}"}},
            {"id": "sum", "tool": "calc", "args": {
                "expression": "n * 2 + len(label)",
                "variables": {"n": "${who.stats.len}", "label": "${c.label}"}},
                "deps": ["a", "b"]},
            {"id": "note", "tool": "write_file", "args": {
                "path": "out/summary.txt", "text": "${a.label}|${b.label}|${sum.value}"}},
            {"id": "back", "tool": "read_file", "args": {"path": "${note.path}"}},
        ],
        "outputs": {"summary": "${back.text}", "total": "${sum.value}", "who": "${who}"},
    })


def overlap(spans: list[tuple[float, float]]) -> bool:
    """True when all intervals share a common instant."""
    return max(s for s, _ in spans) < min(f for _, f in spans)
