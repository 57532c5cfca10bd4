"""JARVIS's series recorded by activities: template lookups, LLM tokens and cost, tool step
times. Recorded through a Temporal ``MetricMeter`` (the worker's runtime: its Prometheus
endpoint carries these next to the SDK's own series; a runtime without metrics makes every
call a no-op). Activities are never replayed, so each attempt is counted once.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from temporalio.common import MetricMeter

from planner.contracts.metric_series import (
    LLM_COST,
    LLM_TOKENS,
    STEP_DURATION,
    TEMPLATE_LOOKUPS,
    StepOutcome,
    TemplateLookup,
)
from planner.contracts.usage import Usage
from planner.pricing import ModelPrice, cost_of, price_table

# The cost per model so far in this process: the SDK's counters take integers, so the cost is
# a float gauge set to this running total (one total per process: one runtime per worker).
_cost_totals: dict[str, float] = {}
_cost_lock = threading.Lock()


class ActivityMetrics:
    def __init__(self, meter: MetricMeter | None = None,
                 prices: Mapping[str, ModelPrice] | None = None) -> None:
        meter = meter or MetricMeter.noop
        self.prices = price_table(prices)  # the defaults with the setting's prices on top
        self._lookups = meter.create_counter(TEMPLATE_LOOKUPS.name, TEMPLATE_LOOKUPS.description,
                                             TEMPLATE_LOOKUPS.unit)
        self._tokens = meter.create_counter(LLM_TOKENS.name, LLM_TOKENS.description,
                                            LLM_TOKENS.unit)
        self._cost = meter.create_gauge_float(LLM_COST.name, LLM_COST.description, LLM_COST.unit)
        self._steps = meter.create_histogram_float(STEP_DURATION.name, STEP_DURATION.description,
                                                   STEP_DURATION.unit)

    def template_lookup(self, result: TemplateLookup) -> None:
        self._lookups.add(1, {"result": result})

    def llm_usage(self, model: str, usage: Usage) -> None:
        """Tokens of one LLM call (or the calls of one step) and their cost."""
        for kind, tokens in (("input", usage.prompt_tokens), ("output", usage.completion_tokens)):
            if tokens > 0:
                self._tokens.add(tokens, {"model": model, "kind": kind})
        cost = cost_of(model, usage.prompt_tokens, usage.completion_tokens, self.prices)
        with _cost_lock:
            total = _cost_totals[model] = _cost_totals.get(model, 0.0) + cost
            self._cost.set(total, {"model": model})

    def step(self, tool: str, outcome: StepOutcome, seconds: float) -> None:
        self._steps.record(max(0.0, seconds), {"tool": tool, "outcome": outcome})
