"""The fault suite, small: goals and plan runs through worker and server SIGKILLs (some right
after a side effect), failing tools and a misbehaving LLM. Nothing acknowledged is lost, no side
effect happens twice or goes missing, every goal ends as its kind says; then the web API under
concurrent load answers without a server error. (`python -m evals chaos --size large` is the
bigger run; figures in docs/reliability.md.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.chaos.report import summary
from evals.chaos.run import ChaosOptions, run_chaos
from evals.chaos.web_load import web_load


@pytest.mark.timeout(600)
async def test_nothing_is_lost_or_done_twice_through_kills_and_faults(tmp_path: Path) -> None:
    result = await run_chaos(ChaosOptions(folder=tmp_path / "chaos", goals=8, plan_runs=4,
                                          worker_kills=3, server_kills=1, seed=11))
    report = summary(result)
    assert report["started"] == 12
    assert report["lost"] == 0, result.lost
    assert report["side_effects_repeated"] == 0, result.repeated
    assert report["side_effects_missing"] == 0, result.missing_effects()
    assert result.unexpected == [], result.unexpected
    assert all(o.reason for o in result.outcomes if o.status == "failed")
    # the faults really happened, the kills included one right after a side effect
    assert result.faults["server SIGKILL"] == 1
    assert result.faults["worker SIGKILL after a side effect"] >= 1
    assert sum(n for k, n in result.faults.items() if k.startswith("llm ")) > 0


@pytest.mark.timeout(300)
async def test_the_web_api_holds_concurrent_clients(tmp_path: Path) -> None:
    load = await web_load(tmp_path / "web", clients=6, seconds=3.0)
    assert load["requests"] > 0 and load["server_errors"] == 0, load
    assert not load["transport_errors"], load
    assert set(load["statuses"]) <= {200, 201, 429}, load
