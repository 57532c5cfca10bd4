"""jarvis_template_lookups_total: what the retrieve activity records for each kind of lookup,
read from a Temporal runtime's metric buffer (the same meter the worker's /metrics exports)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment

from activities import default_registry
from activities.memory import HashingEmbedder, TemplateStore, plan_fingerprints
from activities.metrics import ActivityMetrics
from activities.planning import MEMORY_ATTEMPTS, PlannerActivities
from planner.contracts.goal_flow import RetrieveRequest
from planner.plan import Plan
from planner.settings import Settings
from planner.tools import ToolRegistry, tool_from_function
from tests.unit.test_memory import calc_save_plan, changed_calc

CALC_GOAL = "calculate 3 * 3 and save it to nine.txt"


class Lookups:
    """Retrieve activities over one store, recording into one metric buffer."""

    def __init__(self, tmp_path: Path) -> None:
        self.buffer = MetricBuffer(1000)
        runtime = Runtime(telemetry=TelemetryConfig(metrics=self.buffer))
        self.metrics = ActivityMetrics(runtime.metric_meter)
        self.store = TemplateStore(HashingEmbedder(), path=tmp_path / "chroma")
        self.settings = Settings(data_dir=tmp_path / "data")
        self.seen: Counter[str] = Counter()

    async def retrieve(self, goal: str, registry: ToolRegistry | None = None, *,
                       attempt: int = 1, broken: bool = False) -> Counter[str]:
        """Run the activity once; the lookups it recorded, by result."""

        def store() -> TemplateStore:
            if broken:
                raise ConnectionError("chroma is down")
            return self.store

        planner = PlannerActivities(self.settings, registry or default_registry(), store,
                                    metrics=self.metrics)
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, attempt=attempt)
        await env.run(planner.retrieve, RetrieveRequest(goal=goal))
        for update in self.buffer.retrieve_updates():
            if update.metric.name == "jarvis_template_lookups_total":
                self.seen[str(update.attributes["result"])] += int(update.value)
        new, self.seen = self.seen, Counter()
        return new


@pytest.fixture
def lookups(tmp_path: Path) -> Lookups:
    return Lookups(tmp_path)


def remember(store: TemplateStore, plan: Plan) -> None:
    store.remember(plan.goal, plan, plan_fingerprints(plan, default_registry()))


async def test_each_kind_of_lookup_is_counted_once(lookups: Lookups) -> None:
    assert await lookups.retrieve(CALC_GOAL) == {"miss": 1}  # an empty memory
    remember(lookups.store, calc_save_plan("1 + 1", "two.txt"))
    assert await lookups.retrieve(CALC_GOAL) == {"hit": 1}
    assert await lookups.retrieve("remember that the boiler is due") == {"example": 1}

    changed = default_registry()
    changed.register(tool_from_function(changed_calc, name="calc"), replace=True)
    assert await lookups.retrieve(CALC_GOAL, changed) == {"stale": 1}


async def test_memory_down_counts_unavailable_only_when_the_goal_plans_without_it(
        lookups: Lookups) -> None:
    with pytest.raises(ConnectionError):  # an earlier attempt: Temporal retries it, and
        await lookups.retrieve(CALC_GOAL, broken=True)  # it records nothing (seen below)
    assert await lookups.retrieve(CALC_GOAL, attempt=MEMORY_ATTEMPTS, broken=True) == {
        "unavailable": 1}
