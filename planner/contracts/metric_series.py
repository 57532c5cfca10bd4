"""JARVIS's own Prometheus series, defined once: name, help text, unit, labels and histogram
buckets. Dashboards (deploy/grafana/), alerts and docs/operations.md rely on these names, so
treat them like durable names: add a series, never rename one.

The names are exported exactly as written here: the worker's exporter adds no ``_total`` or unit
suffix (agents/metrics_endpoint.py), and a counter's name already ends in ``_total``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal


@dataclass(frozen=True)
class MetricSpec:
    name: str
    description: str
    unit: str
    labels: tuple[str, ...] = ()


GOALS: Final = MetricSpec(
    "jarvis_goals_total", "Goals that ended, by outcome (their final stage, or cancelled)", "1",
    ("outcome",))
PLAN_PROBLEMS: Final = MetricSpec(
    "jarvis_plan_problems_total", "Problems the validator found in drafted, repaired and "
    "prepared plans, by problem code", "1", ("code",))
REPAIR_ROUNDS: Final = MetricSpec(
    "jarvis_repair_rounds", "Repair rounds an LLM-planned goal needed (0: the first draft was "
    "valid)", "1")
TEMPLATE_LOOKUPS: Final = MetricSpec(
    "jarvis_template_lookups_total", "Template memory lookups, by result (hit, example, miss, "
    "stale, unavailable)", "1", ("result",))
LLM_TOKENS: Final = MetricSpec(
    "jarvis_llm_tokens_total", "LLM tokens spent by planning and by llm steps, by model and "
    "kind (input, output)", "1", ("model", "kind"))
LLM_COST: Final = MetricSpec(
    "jarvis_llm_cost_total", "LLM cost in US dollars from the price table (planner/pricing.py), "
    "by model; only goes up (exposed as a gauge: the SDK's counters are integers)", "USD",
    ("model",))
STEP_DURATION: Final = MetricSpec(
    "jarvis_step_duration_seconds", "Time of each tool step attempt, by tool and outcome "
    "(succeeded, failed, cancelled)", "s", ("tool", "outcome"))
GOALS_WAITING: Final = MetricSpec(
    "jarvis_goals_waiting_for_approval", "Goals waiting for a person's decision now (every "
    "worker reports the same count: aggregate with max)", "1")

ALL: Final = (GOALS, PLAN_PROBLEMS, REPAIR_ROUNDS, TEMPLATE_LOOKUPS, LLM_TOKENS, LLM_COST,
              STEP_DURATION, GOALS_WAITING)

TemplateLookup = Literal["hit", "example", "miss", "stale", "unavailable"]
StepOutcome = Literal["succeeded", "failed", "cancelled"]
TokenKind = Literal["input", "output"]

# Histogram buckets (upper bounds): the exporter's defaults suit neither a count of rounds nor
# step times from milliseconds to minutes.
BUCKETS: Final[dict[str, tuple[float, ...]]] = {
    REPAIR_ROUNDS.name: (0, 1, 2, 3, 5, 10),
    STEP_DURATION.name: (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
                         900),
}
