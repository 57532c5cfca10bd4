"""The plan-quality eval against the strict scripted OpenAI-compatible server (replies scripted as
plausible plans, one needing a repair round): the scores are what those replies deserve. Without
an endpoint, or with an unreachable one, the eval says so and scores the stored predictions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evals.cli_eval import app as eval_app
from evals.plans import EVAL_DATASETS, eval_items, main, run_plan_eval
from jarvis_planner.testing import UNROUTABLE_BASE_URL, ScriptedLLM, reply_error, reply_json
from planner.settings import Settings, load_settings

PROMPT, COMPLETION = 1000, 100  # tokens per scripted reply
STORED_COUNTS = {"huggingface/CodeLlama-13b": 497, "huggingface/mistral-7b": 489,
                 "multimedia/CodeLlama-13b": 498, "multimedia/mistral-7b": 487}


def llm_settings(server: ScriptedLLM, **extra: Any) -> Settings:
    return load_settings(llm_base_url=server.base_url, llm_api_key="scripted-key",
                         llm_model=server.model, llm_timeout_s=10.0, **extra)


def reply(plan: dict[str, Any]) -> Any:
    return reply_json(plan, prompt_tokens=PROMPT, completion_tokens=COMPLETION)


def flights(goal: str, origin: str, dest: str, out: str, back: str, *,
            airport_tool: str = "SkyScrapperSearchAirport",
            hotel_args: dict[str, str] | None = None) -> dict[str, Any]:
    """A NESTFUL-style flights + hotels plan, with our own step ids."""
    return {"goal": goal, "steps": [
        {"id": "from", "tool": airport_tool, "args": {"query": origin}},
        {"id": "to", "tool": "SkyScrapperSearchAirport", "args": {"query": dest}},
        {"id": "flights", "tool": "SkyScrapperFlightSearch", "args": {
            "originSkyId": "${from.skyId}", "destinationSkyId": "${to.skyId}",
            "originEntityId": "${from.entityId}", "destinationEntityId": "${to.entityId}",
            "date": out, "returnDate": back}},
        {"id": "where", "tool": "TripadvisorSearchLocation", "args": {"query": dest}},
        {"id": "hotels", "tool": "TripadvisorSearchHotels", "args": {
            "geoId": "${where.geoId}", "checkIn": out, "checkOut": back, **(hotel_args or {})}}],
        "outputs": {"flights": "${flights}", "hotels": "${hotels}"}}


async def test_scores_are_what_the_replies_deserve(scripted_llm: ScriptedLLM,
                                                   tmp_path: Path) -> None:
    items, skipped = eval_items("nestful", 3)
    assert [i.record.id for i in items] == ["0", "1", "2"] and skipped == []
    goals = [i.record.goal for i in items]
    # request 0: the gold plan with other step ids -> perfect
    scripted_llm.expect(reply(flights(goals[0], "New York", "London", "2024-08-15",
                                      "2024-08-18")),
                        expects_text_in_messages="SkyScrapperFlightSearch")
    # request 1: a misspelt tool (invalid), then a repair with one wrong value (sort)
    scripted_llm.expect(reply(flights(goals[1], "Los Angeles", "Paris", "2024-10-05",
                                      "2024-10-15", airport_tool="SkyScrapperAirportSearch",
                                      hotel_args={"sort": "rating"})),
                        expects_text_in_messages="Los Angeles")
    scripted_llm.expect(reply(flights(goals[1], "Los Angeles", "Paris", "2024-10-05",
                                      "2024-10-15", hotel_args={"sort": "price"})),
                        expects_text_in_messages="unknown_tool")
    # request 2: valid, but only the first of the two gold steps
    scripted_llm.expect(reply({"goal": goals[2], "steps": [
        {"id": "rome", "tool": "TripadvisorSearchLocation", "args": {"query": "Rome"}}]}),
        expects_text_in_messages="Rome")

    report = await run_plan_eval("nestful", 3, settings=llm_settings(scripted_llm))

    assert report.mode == "llm" and report.reason is None and report.requests == 3
    assert report.endpoint == scripted_llm.base_url and report.model == scripted_llm.model
    r0, r1, r2 = report.results
    assert [r.valid for r in report.results] == [True, True, True]
    assert [r.repair_rounds for r in report.results] == [0, 1, 0]
    assert r0.score.node_f1 == r0.score.edge_f1 == r0.score.arg_accuracy == 1.0
    assert r1.score.node_f1 == r1.score.edge_f1 == 1.0
    assert r1.score.arg_accuracy == pytest.approx(12 / 13)  # sort: price, not rating
    assert r2.score.node_f1 == pytest.approx(2 / 3) and r2.score.edge_f1 == 0.0
    assert r2.score.arg_accuracy == pytest.approx(1 / 3)  # query; geoId and sort missed

    agg = report.aggregate
    assert agg is not None and agg.validity_rate == 1.0
    assert agg.node_f1 == pytest.approx(22 / 23)  # tp 11, fn 1
    assert agg.node_f1_macro == pytest.approx((1 + 1 + 2 / 3) / 3)
    assert agg.edge_f1 == pytest.approx(12 / 13)  # tp 6, fn 1
    assert agg.edge_f1_macro == pytest.approx(2 / 3)
    assert agg.arg_accuracy == pytest.approx(25 / 28)  # 12 + 13 + 3 gold arguments
    assert agg.records_with_gold_args == 3 and agg.exact == 2

    assert report.usage.calls == 4 and report.llm_errors == 0
    assert report.usage.total_tokens == 4 * (PROMPT + COMPLETION)
    assert report.calls_per_valid_plan == pytest.approx(4 / 3)
    assert report.tokens_per_valid_plan == pytest.approx(4 * (PROMPT + COMPLETION) / 3)
    assert report.repair_rounds == 1 and report.repair_rounds_histogram == {"0": 2, "1": 1}
    assert (report.valid_first_try, report.valid_after_repair) == (2, 1)
    assert report.gold_check.node_f1 == report.gold_check.arg_accuracy == 1.0
    assert report.stored is None

    from evals.plans import write

    json_path, md_path = write(report, tmp_path)
    data = json.loads(json_path.read_text())
    assert data["aggregate"]["node_f1"] == pytest.approx(22 / 23)
    markdown = md_path.read_text()
    assert "| validity rate | 3 (100%) of 3 |" in markdown
    assert "| argument accuracy | 0.893 (3 requests with gold arguments) |" in markdown


async def test_repairs_stop_at_the_configured_rounds(scripted_llm: ScriptedLLM) -> None:
    items, _ = eval_items("tmdb", 1)
    broken = {"goal": items[0].record.goal, "steps": [
        {"id": "a", "tool": "SearchPerson", "args": {"query": "Sofia Coppola"}}]}
    for _ in range(2):  # the draft and one repair round; both name an unknown tool
        scripted_llm.expect(reply(broken))
    report = await run_plan_eval("tmdb", 1, settings=llm_settings(scripted_llm,
                                                                   llm_repair_rounds=1))
    (result,) = report.results
    assert not result.valid and result.repair_rounds == 1
    assert [p.code for p in result.problems] == ["unknown_tool"]
    assert result.score.node_f1 == 0.0  # scored as predicted: SearchPerson is no gold tool
    assert report.aggregate is not None and report.aggregate.validity_rate == 0.0
    assert report.calls_per_valid_plan is None and report.tokens_per_valid_plan is None


def test_cli_plans_with_an_llm_error(scripted_llm: ScriptedLLM, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in scripted_llm.settings_env().items():
        monkeypatch.setenv(key, value)
    items, _ = eval_items("tmdb", 2)
    scripted_llm.expect(reply({"goal": items[0].record.goal, "steps": [
        {"id": "who", "tool": "SearchPeople", "args": {"query": "Sofia Coppola"}},
        {"id": "credits", "tool": "GetPersonMovieCredit",
         "args": {"person_id": "${who.results[0].id}"}}]}))
    scripted_llm.expect(reply_error(500, message="model crashed"))
    result = CliRunner().invoke(eval_app, ["plans", "--dataset", "tmdb", "--limit", "2",
                                           "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "mode llm" in result.output
    data = json.loads((tmp_path / "plans-tmdb.json").read_text())
    assert data["mode"] == "llm" and data["llm_errors"] == 1
    assert [r["valid"] for r in data["results"]] == [True, False]
    assert "ServerError" in data["results"][1]["error"]
    assert data["aggregate"]["node_f1"] == pytest.approx(2 * 2 / (2 * 2 + 2))  # 2 of 4 nodes
    assert data["aggregate"]["edge_f1"] == pytest.approx(2 / 3)  # 1 of 2 edges


# ------------------------------------------------------------------------- without an LLM


async def test_no_endpoint_scores_the_stored_predictions(no_real_llm: None) -> None:
    report = await run_plan_eval("tmdb", 2, settings=load_settings())
    assert report.mode == "stored_predictions"
    assert report.reason is not None and "no LLM endpoint is configured" in report.reason
    assert report.results == [] and report.aggregate is None and report.usage.calls == 0
    assert report.stored is not None and "not in the datasets snapshot" in report.stored.note
    files = {f"{f.domain}/{f.model}": f for f in report.stored.files}
    assert {k: f.records for k, f in files.items()} == STORED_COUNTS
    for f in files.values():
        assert f.accepted + f.repair_needed + f.rejected == f.records
        assert f.validity_rate == pytest.approx(f.accepted / f.records)
        assert f.fidelity.node_f1 == 1.0  # the conversion keeps every predicted node
    # links naming tools absent from the plan cannot become edges (the README counts them)
    recall = files["multimedia/mistral-7b"].fidelity.edge_recall
    assert recall is not None and recall < 1.0
    assert report.gold_check.records == 2 and report.gold_check.node_f1 == 1.0


async def test_unreachable_endpoint_says_so(no_real_llm: None) -> None:
    settings = load_settings(llm_base_url=UNROUTABLE_BASE_URL, llm_timeout_s=5.0)
    report = await run_plan_eval("tmdb", 1, settings=settings)
    assert report.mode == "stored_predictions"
    assert report.reason is not None and "ConnectionError" in report.reason
    assert report.endpoint == UNROUTABLE_BASE_URL and report.stored is not None


def test_main_without_endpoint(no_real_llm: None, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dataset", "ultratool", "--limit", "3", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "NOTE: no LLM endpoint is configured" in printed
    assert "scorer check, gold vs gold on 3 requests: node F1 1.000" in printed
    markdown = (tmp_path / "plans-ultratool.md").read_text()
    assert "No LLM was called" in markdown and "no node, edge or argument score" in markdown


def test_eval_datasets() -> None:
    assert {"ultratool", "tmdb", "nestful", "sealtools"} <= set(EVAL_DATASETS)
    items, _ = eval_items("sealtools", 2)
    assert [i.record.dataset for i in items] == ["sealtools-in-domain"] * 2
    assert len(items[0].gold.catalog(items[0].record)) == 1 + 8
    with pytest.raises(ValueError, match="unknown dataset"):
        eval_items("nope")
