"""The retrieval eval at smoke size: numbers are sane, reports are written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.datasets import DatasetNotFound, dataset_file
from evals.retrieval import (
    REBIND_CASES,
    chance,
    load_records,
    main,
    run_eval,
    split_records,
)
from planner.settings import Settings


@pytest.fixture(scope="module", autouse=True)
def datasets() -> None:
    try:
        dataset_file("gnn4taskplan", "data", "ultratool", "data.json")
    except DatasetNotFound as exc:
        pytest.skip(str(exc))


def test_split_keeps_one_relevant_record_per_query() -> None:
    records = load_records("ultratool")
    queries, stored = split_records(records, limit=25, store_limit=100)
    assert len(queries) == 25 and len(stored) == 100
    chains = {r.chain for r in stored}
    assert all(q.chain in chains for q in queries)
    assert not {id(q) for q in queries} & {id(r) for r in stored}
    assert split_records(records, 25, 100)[0] == queries  # deterministic


def test_chance() -> None:
    assert chance(1, 10, 1) == pytest.approx(0.1)
    assert chance(1, 10, 3) == pytest.approx(0.3)
    assert chance(0, 10, 3) == 0.0 and chance(5, 5, 1) == 1.0


def test_smoke_eval_hashing(tmp_path: Path) -> None:
    report = run_eval(limit=40, store_limit=400, backends=["hashing", "openai"],
                      settings=Settings(data_dir=tmp_path))
    by = {(s.dataset, s.backend): s for s in report.retrieval}
    ultra = by[("ultratool", "hashing-v1")]
    assert ultra.status == "ok" and ultra.queries == 40 and ultra.stored >= 390
    assert ultra.hit_at_3 >= max(0.2, 10 * ultra.chance_hit_at_3)
    assert ultra.hit_at_1 <= ultra.hit_at_3 and 0 < ultra.mrr_at_10 <= 1
    tmdb = by[("tmdb", "hashing-v1")]
    assert tmdb.status == "ok" and tmdb.hit_at_3 > tmdb.chance_hit_at_3
    assert by[("ultratool", "openai")].status.startswith("unavailable: ")

    rebinding = {r.backend: r for r in report.rebinding}
    hashing = rebinding["hashing-v1"]
    assert hashing.cases == len(REBIND_CASES)
    assert hashing.wrong_reuse == 0 and hashing.wrong_reuse_rate == 0.0
    assert hashing.by_kind["param"]["correct_reuse"] == hashing.by_kind["param"]["cases"]
    assert hashing.by_kind["structure"]["wrong_reuse"] == 0
    assert hashing.example_hit_at_1 >= 0.5  # the nearest example is mostly the right one
    assert rebinding["openai"].status.startswith("unavailable: ")

    nestful = report.nestful
    if nestful.status == "ok":
        assert nestful.samples >= 250 and nestful.identity_ok == nestful.samples
        assert nestful.with_slots >= 0.8 * nestful.samples
        assert nestful.cross_wrong == 0, nestful.wrong_examples


def test_cli_writes_json_and_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path), "--limit", "10", "--store-limit", "100",
                 "--backends", "hashing"]) == 0
    data = json.loads((tmp_path / "retrieval.json").read_text())
    assert {s["dataset"] for s in data["retrieval"]} == {"ultratool", "tmdb"}
    markdown = (tmp_path / "retrieval.md").read_text()
    assert "| ultratool | hashing-v1 | 10 |" in markdown
    assert "Rebinding" in capsys.readouterr().out
