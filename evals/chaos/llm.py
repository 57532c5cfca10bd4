"""An OpenAI-compatible endpoint that misbehaves in bursts: rate limits (429 with Retry-After),
server errors (500), answers slower than the client's timeout, and garbage instead of a plan.
Between the bursts it answers the plan of the goal it is asked about (see :func:`plan_for`).

The schedule is a function of the call number, so a run with the same seed injects the same
faults in the same order; how many of each landed is counted in ``injected``. No goal's calls
meet more than ``MAX_FAULTS_IN_A_ROW`` faults one after another: the goal retries its LLM call
five times (agents/goal_workflow.py), and a goal that runs out of them fails as it should, which
is not what the fault suite measures (tests/e2e/test_cli_logs.py covers giving up). Which goal
a call is for depends on how the concurrent goals interleave, so without the cap a run could
end one goal on five faults in a row by timing alone."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from jarvis_planner.testing.replies import message_text, reply_error, reply_json, reply_text
from jarvis_planner.testing.scripted_llm import RecordedRequest, ScriptedLLM

KINDS = ("effect", "flaky", "calc", "broken")
# Each kind is worded differently, so template memory reuses plans within a kind (rebinding the
# number) and never across kinds.
PHRASES = {
    "effect": "write an effect note",
    "flaky": "call the flaky tool, then write an effect note",
    "calc": "double the number, then write an effect note",
    "broken": "call the broken tool, then write an effect note",
}
GOAL = re.compile(r"Goal: chaos goal (\d+): (" + "|".join(map(re.escape, PHRASES.values()))
                  + ")")
TIMEOUT_DELAY_S = 4.0  # longer than the chaos settings' llm_timeout_s
MAX_FAULTS_IN_A_ROW = 2  # per goal: fewer than its five attempts, with room for worker kills


def goal_text(index: int, kind: str | None = None) -> str:
    kind = kind or KINDS[index % len(KINDS)]
    return f"chaos goal {index}: {PHRASES[kind]}"


def plan_for(index: int, kind: str, hold_s: float) -> dict[str, Any]:
    goal = goal_text(index, kind)
    effect = {"id": "effect", "tool": "chaos_effect",
              "args": {"tag": f"g{index}", "hold_s": hold_s}}
    steps: list[dict[str, Any]]
    if kind == "effect":
        steps = [effect]
    elif kind == "flaky":
        steps = [{"id": "flaky", "tool": "chaos_flaky", "args": {"tag": f"g{index}"}},
                 {**effect, "deps": ["flaky"]}]
    elif kind == "calc":
        steps = [{"id": "calc", "tool": "calc", "args": {"expression": f"{index} * 2"}},
                 {**effect, "args": {"tag": f"g{index}-${{calc.value}}", "hold_s": hold_s}}]
    else:
        steps = [{"id": "broken", "tool": "chaos_broken", "args": {"tag": f"g{index}"}},
                 {**effect, "deps": ["broken"]}]
    return {"goal": goal, "steps": steps}


class FaultyLLM(ScriptedLLM):
    def __init__(self, seed: int, *, hold_s: float = 0.6, fault_rate: float = 0.35) -> None:
        super().__init__(model="chaos-model")
        self.rng = random.Random(seed)
        self.hold_s = hold_s
        self.fault_rate = fault_rate
        self.injected: Counter[str] = Counter()
        self._burst: list[str] = []
        self._in_a_row: Counter[str] = Counter()  # goal number -> faults its calls met in a row

    def _chat(self, request: RecordedRequest) -> tuple[int, Any, Mapping[str, str], float]:
        self._calls += 1
        body = request.json() or {}
        # the last "Goal:" is the user's; examples from template memory come before it
        matches = list(GOAL.finditer(message_text(body)))
        found = matches[-1] if matches else None
        goal = found.group(1) if found else ""
        if not self._burst and self.rng.random() < self.fault_rate:
            kind = self.rng.choice(["429", "500", "timeout", "garbage"])
            self._burst = [kind] * self.rng.randint(1, 3 if kind in ("429", "500") else 1)
        if self._burst and self._in_a_row[goal] < MAX_FAULTS_IN_A_ROW:
            kind = self._burst.pop()
            self.injected[kind] += 1
            self._in_a_row[goal] += 1
            if kind == "429":
                reply = reply_error(429, message="rate limited (chaos)",
                                    headers={"retry-after": "0.2"})
            elif kind == "500":
                reply = reply_error(500, message="server error (chaos)")
            elif kind == "timeout":
                reply = reply_text("{}", delay_s=TIMEOUT_DELAY_S)
            else:
                reply = reply_text("Sure! Here is what I would do: first, think about it.")
            status, payload = reply.render(body)
            return status, payload, reply.headers, reply.delay_s
        self._in_a_row[goal] = 0
        if found is None:
            return self._refuse("the chaos LLM only plans chaos goals")
        kind = next(k for k, phrase in PHRASES.items() if phrase == found.group(2))
        reply = reply_json(plan_for(int(found.group(1)), kind, self.hold_s))
        status, payload = reply.render(body)
        return status, payload, reply.headers, 0.0
