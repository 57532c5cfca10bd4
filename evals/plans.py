"""Plan-quality eval: the LLM planner on a benchmark's requests, scored like TaskBench.

For each request of a dataset (its test split where it has one),
:func:`activities.llm.drafting.draft_plan` drafts a plan against the dataset's stub tools, with
up to ``JARVIS_LLM_REPAIR_ROUNDS`` repair rounds while the validator finds problems (as the goal
workflow does). Each final plan is scored against the gold plan (:mod:`evals.scoring`): validity,
node F1 (tool names), edge F1 (tool-to-tool dependencies), argument accuracy where gold has
arguments, plus LLM calls and tokens per valid plan and repair rounds.

The endpoint comes from the ``JARVIS_LLM_*`` settings. When none is configured, or the first
request cannot reach it (connection refused, bad key, unknown model), nothing is drafted: the
report says so and scores the stored GNN4TaskPlan model plans instead: their validity under our
validator (:mod:`evals.gnn4taskplan`) and how faithfully our conversion keeps their nodes and
edges. Their F1 against gold is not computed: the gold for those ids (TaskBench ``data.json``) is
not in the datasets snapshot. Either way the scorer is checked on gold against itself, which must
score 1.0.

Requests run one at a time, in the benchmark's order: the test split for UltraTool (500) and
TMDB (100), file order for NESTFUL and Seal-Tools (``sealtools`` is the in-domain set, then the
out-domain set; each request sees its gold tools plus distractors, see :mod:`evals.sealtools`).

``python -m evals.plans --dataset ultratool|tmdb|nestful|sealtools [--limit N] [--out DIR]``
(also ``jarvis eval plans``) prints a summary and writes ``plans-<dataset>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from activities.llm import LLMConfig, LLMError, Usage
from activities.llm.drafting import draft_plan
from evals.gold import GoldRecord, GoldSet, load_gold
from evals.reports import DEFAULT_OUT, fmt, md_table, pct, ratio, text_table, write_report
from evals.scoring import Aggregate, Counting, PlanGraph, RecordScore, aggregate, score_plan
from planner.contracts.goal_flow import PlanDraft
from planner.parsing import parse_plan_output
from planner.plan import Plan
from planner.settings import Settings, load_settings
from planner.validation import Problem

# Dataset names for the eval -> gold sets (evals.gold) whose test records it runs on.
EVAL_DATASETS: dict[str, tuple[str, ...]] = {
    "ultratool": ("ultratool",),
    "tmdb": ("tmdb",),
    "nestful": ("nestful-executable",),
    "nestful-glaive": ("nestful-glaive",),
    "nestful-sgd": ("nestful-sgd",),
    "sealtools": ("sealtools-in-domain", "sealtools-out-domain"),
    "sealtools-in-domain": ("sealtools-in-domain",),
    "sealtools-out-domain": ("sealtools-out-domain",),
}
# Errors after which no request can succeed: fall back to the stored predictions.
UNUSABLE_ENDPOINT = frozenset({"ConnectionError", "NotConfigured", "AuthenticationFailed",
                               "PermissionDenied", "ModelNotFound"})
Mode = Literal["llm", "stored_predictions"]


@dataclass(frozen=True)
class EvalItem:
    """One request: its gold record and the gold set it comes from (tools, catalogue)."""

    record: GoldRecord
    gold: GoldSet


def eval_items(dataset: str, limit: int | None = None) -> tuple[list[EvalItem], list[GoldRecord]]:
    """The requests of ``dataset`` (first ``limit``), and the gold records skipped because
    they are not valid plans (they cannot be scored)."""
    if dataset not in EVAL_DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of "
                         f"{', '.join(EVAL_DATASETS)}")
    items: list[EvalItem] = []
    skipped: list[GoldRecord] = []
    for name in EVAL_DATASETS[dataset]:
        gold = load_gold(name)
        for record in gold.eval_records():
            if record.ok:
                items.append(EvalItem(record, gold))
            else:
                skipped.append(record)
    return (items[:limit] if limit is not None else items), skipped


# ------------------------------------------------------------------------------ results


class RequestResult(BaseModel):
    """One request: the final plan, how it was reached, its score."""

    id: str
    dataset: str
    goal: str
    valid: bool
    repair_rounds: int = 0
    usage: Usage = Field(default_factory=Usage)
    problems: list[Problem] = Field(default_factory=list)
    fixes: list[str] = Field(default_factory=list, description="Parser fixes, all rounds.")
    error: str | None = Field(None, description="The LLM call that failed, if one did.")
    error_kind: str | None = None
    plan: Plan | None = None
    score: RecordScore


class StoredFile(BaseModel):
    """One GNN4TaskPlan prediction file under our parser and validator."""

    domain: str
    model: str
    records: int
    accepted: int
    repair_needed: int
    rejected: int
    validity_rate: float
    top_codes: dict[str, int]
    fidelity: Aggregate = Field(description="Our converted plans scored against the raw "
                                "prediction's own nodes and links (conversion fidelity, not "
                                "model quality).")


class StoredPredictions(BaseModel):
    files: list[StoredFile]
    note: str


class PlanEvalReport(BaseModel):
    dataset: str
    mode: Mode
    reason: str | None = Field(None, description="Why no LLM was called (mode "
                               "stored_predictions).")
    endpoint: str | None = None
    model: str | None = None
    repair_rounds_limit: int
    counting: Counting
    requests: int
    aggregate: Aggregate | None = None
    usage: Usage = Field(default_factory=Usage)
    calls_per_valid_plan: float | None = None
    tokens_per_valid_plan: float | None = None
    repair_rounds: int = 0
    repair_rounds_histogram: dict[str, int] = Field(default_factory=dict,
                                                    description="Requests per rounds used.")
    valid_first_try: int = 0
    valid_after_repair: int = 0
    llm_errors: int = 0
    results: list[RequestResult] = Field(default_factory=list)
    gold_check: Aggregate = Field(description="The scorer on gold against itself (must be 1.0).")
    skipped_gold: dict[str, str] = Field(default_factory=dict,
                                         description="Gold records not valid plans: id -> reason.")
    catalog_notes: list[str] = Field(default_factory=list)
    approximations: list[str] = Field(default_factory=list)
    stored: StoredPredictions | None = None
    seconds: float = 0.0


# --------------------------------------------------------------------------------- the LLM


async def plan_request(config: LLMConfig, item: EvalItem, repair_rounds: int,
                       counting: Counting = "multiset") -> RequestResult:
    """Draft (and repair) one plan and score it; LLM failures end the request, recorded."""
    record = item.record
    if record.plan is None:
        raise ValueError(f"gold record {record.id} of {record.dataset} is not a plan")
    registry = item.gold.catalog(record)
    usage = Usage()
    fixes: list[str] = []
    draft: PlanDraft | None = None
    rounds = 0
    error: LLMError | None = None
    try:
        draft = await draft_plan(config, record.goal, registry)
        usage, fixes = usage + draft.usage, fixes + draft.fixes
        while draft.problems and rounds < repair_rounds:
            rounds += 1
            draft = await draft_plan(config, record.goal, registry, previous=draft)
            usage, fixes = usage + draft.usage, fixes + draft.fixes
    except LLMError as exc:
        error = exc
    plan = draft.plan if draft else None
    valid = draft is not None and plan is not None and not draft.problems and error is None
    return RequestResult(
        id=record.id, dataset=record.dataset, goal=record.goal, valid=valid,
        repair_rounds=rounds, usage=usage, problems=draft.problems if draft else [],
        fixes=fixes, error=str(error) if error else None,
        error_kind=error.kind if error else None, plan=plan,
        score=score_plan(plan, record.plan, valid=valid, id=record.id, counting=counting))


class EndpointUnusable(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


async def run_llm(config: LLMConfig, items: Sequence[EvalItem], repair_rounds: int,
                  counting: Counting = "multiset") -> list[RequestResult]:
    """Every request in order; raises EndpointUnusable when the endpoint fails before any
    call succeeded with an error no other request would escape."""
    results: list[RequestResult] = []
    for item in items:
        result = await plan_request(config, item, repair_rounds, counting)
        if (result.error_kind in UNUSABLE_ENDPOINT and result.usage.calls == 0
                and not any(r.usage.calls for r in results)):
            raise EndpointUnusable(result.error or result.error_kind or "unusable")
        results.append(result)
    return results


# ------------------------------------------------------------------------- stored plans

STORED_NOTE = (
    "F1 against gold is not computed for these predictions: their gold (TaskBench "
    "data_huggingface / data_multimedia data.json) is not in the datasets snapshot, so no node, "
    "edge or argument score is claimed. `fidelity` scores our converted plans against the raw "
    "predictions' own nodes and links: it measures the conversion, not the models.")


def score_stored_predictions(counting: Counting = "multiset") -> StoredPredictions:
    """GNN4TaskPlan's model plans: validity under our validator, conversion fidelity."""
    from evals.gnn4taskplan import DOMAINS, MODELS, evaluate_file, prediction_file
    from evals.taskbench import TaskBenchTools

    files: list[StoredFile] = []
    for domain in DOMAINS:
        tools = TaskBenchTools.load(domain)
        for model in MODELS:
            report = evaluate_file(domain, model, tools=tools, keep_plans=True)
            lines = [line for line in prediction_file(domain, model)
                     .read_text(encoding="utf-8").splitlines() if line.strip()]
            scores: list[RecordScore] = []
            for result in report.results:
                if result.plan_json is None:
                    continue
                plan = parse_plan_output(result.plan_json, goal="stored prediction").plan
                raw = json.loads(lines[result.index])
                if plan is None or not isinstance(raw, dict):
                    continue
                scores.append(score_plan(plan, PlanGraph.from_taskbench(raw),
                                         valid=result.verdict == "accepted",
                                         id=str(result.id), counting=counting))
            files.append(StoredFile(
                domain=domain, model=model, records=report.records, accepted=report.accepted,
                repair_needed=report.repair_needed, rejected=report.rejected,
                validity_rate=report.accepted / report.records if report.records else 0.0,
                top_codes=dict(list(report.codes.items())[:5]), fidelity=aggregate(scores)))
    return StoredPredictions(files=files, note=STORED_NOTE)


# ------------------------------------------------------------------------------- the run


def gold_check(items: Sequence[EvalItem], counting: Counting = "multiset") -> Aggregate:
    scores = [score_plan(i.record.plan, i.record.plan, valid=True, id=i.record.id,
                         counting=counting) for i in items if i.record.plan is not None]
    return aggregate(scores)


def _why_not_configured() -> str:
    return ("no LLM endpoint is configured (JARVIS_LLM_BASE_URL and JARVIS_LLM_API_KEY are "
            "unset): no plan was drafted")


async def run_plan_eval(dataset: str, limit: int | None = None, *,
                        settings: Settings | None = None,
                        counting: Counting = "multiset") -> PlanEvalReport:
    """The whole eval of ``dataset``: LLM mode, or the stored predictions when the endpoint is
    not configured or unusable."""
    started = time.perf_counter()
    settings = settings or load_settings()
    items, skipped = eval_items(dataset, limit)
    sets = list({id(i.gold): i.gold for i in items}.values()) or [
        load_gold(n) for n in EVAL_DATASETS[dataset]]
    config = LLMConfig.from_settings(settings)
    report = PlanEvalReport(
        dataset=dataset, mode="llm", repair_rounds_limit=settings.llm_repair_rounds,
        counting=counting, requests=len(items), gold_check=gold_check(items, counting),
        skipped_gold={r.id: r.reason or "invalid" for r in skipped},
        catalog_notes=[f"{g.name}: {g.catalog_note}" for g in sets if g.catalog_note],
        approximations=[f"{g.name}: {a}" for g in sets for a in g.approximations],
        endpoint=config.base_url or ("OpenAI (default)" if config.configured else None),
        model=config.model if config.configured else None)
    reason: str | None = None
    results: list[RequestResult] = []
    if not config.configured:
        reason = _why_not_configured()
    else:
        try:
            results = await run_llm(config, items, settings.llm_repair_rounds, counting)
        except EndpointUnusable as exc:
            reason = f"the LLM endpoint is not usable, so no plan was drafted: {exc.error}"
    if reason is not None:
        return report.model_copy(update={
            "mode": "stored_predictions", "reason": reason,
            "stored": score_stored_predictions(counting),
            "seconds": round(time.perf_counter() - started, 2)})
    valid = [r for r in results if r.valid]
    usage = sum((r.usage for r in results), Usage())
    rounds = Counter(r.repair_rounds for r in results)
    return report.model_copy(update={
        "aggregate": aggregate([r.score for r in results]), "usage": usage,
        "calls_per_valid_plan": usage.calls / len(valid) if valid else None,
        "tokens_per_valid_plan": usage.total_tokens / len(valid) if valid else None,
        "repair_rounds": sum(r.repair_rounds for r in results),
        "repair_rounds_histogram": {str(k): rounds[k] for k in sorted(rounds)},
        "valid_first_try": sum(r.valid and r.repair_rounds == 0 for r in results),
        "valid_after_repair": sum(r.valid and r.repair_rounds > 0 for r in results),
        "llm_errors": sum(r.error is not None for r in results), "results": results,
        "seconds": round(time.perf_counter() - started, 2)})


# ------------------------------------------------------------------------------ rendering


def _agg_rows(a: Aggregate) -> list[tuple[str, str]]:
    return [
        ("validity rate", f"{pct(a.valid, a.records)} of {a.records}"),
        ("node F1 (micro / macro)", f"{fmt(a.node_f1)} / {fmt(a.node_f1_macro)}"),
        ("node precision / recall (micro)", f"{fmt(a.node_precision)} / {fmt(a.node_recall)}"),
        ("edge F1 (micro / macro)", f"{fmt(a.edge_f1)} / {fmt(a.edge_f1_macro)}"),
        ("edge precision / recall (micro)", f"{fmt(a.edge_precision)} / {fmt(a.edge_recall)}"),
        ("argument accuracy", fmt(a.arg_accuracy) + (
            f" ({a.records_with_gold_args} requests with gold arguments)"
            if a.records_with_gold_args else " (gold has no arguments)")),
        ("argument name / value F1 (micro)", f"{fmt(a.arg_name_f1)} / {fmt(a.arg_value_f1)}"),
        ("exact node+edge match", pct(a.exact, a.records)),
    ]


def summary_rows(report: PlanEvalReport) -> list[tuple[str, str]]:
    if report.aggregate is None:
        return []
    u = report.usage
    return [*_agg_rows(report.aggregate),
            ("LLM calls (total / per valid plan)",
             f"{u.calls} / {fmt(report.calls_per_valid_plan, 2)}"),
            ("tokens (total / per valid plan)",
             f"{u.total_tokens} / {fmt(report.tokens_per_valid_plan, 1)}"),
            ("repair rounds (total / per request)",
             f"{report.repair_rounds} / {ratio(report.repair_rounds, report.requests, 2)}"),
            ("valid first try / after repair",
             f"{report.valid_first_try} / {report.valid_after_repair}"),
            ("requests with an LLM error", str(report.llm_errors))]


def render_text(report: PlanEvalReport) -> str:
    lines = [f"plan eval: {report.dataset}, {report.requests} requests, mode {report.mode}"]
    if report.mode == "llm":
        lines.append(f"endpoint {report.endpoint}, model {report.model}, up to "
                     f"{report.repair_rounds_limit} repair rounds")
        lines.append(text_table(("metric", "value"), summary_rows(report)))
    else:
        lines.append(f"NOTE: {report.reason}.")
        lines.append("Scored the stored GNN4TaskPlan predictions instead (validity under our "
                     "validator; no gold for them, so no F1):")
        assert report.stored is not None
        lines.append(text_table(
            ("file", "records", "valid (accepted)", "repair-needed", "rejected",
             "fidelity node/edge F1"),
            [(f"{f.domain}/{f.model}", f.records, pct(f.accepted, f.records),
              pct(f.repair_needed, f.records), pct(f.rejected, f.records),
              f"{fmt(f.fidelity.node_f1)} / {fmt(f.fidelity.edge_f1)}")
             for f in report.stored.files]))
    g = report.gold_check
    lines.append(f"scorer check, gold vs gold on {g.records} requests: node F1 {fmt(g.node_f1)}, "
                 f"edge F1 {fmt(g.edge_f1)}, argument accuracy {fmt(g.arg_accuracy)}")
    return "\n".join(lines)


def render_markdown(report: PlanEvalReport) -> str:
    out = [f"# Plan eval: {report.dataset}", ""]
    if report.mode == "llm":
        out += [f"Endpoint `{report.endpoint}`, model `{report.model}`; {report.requests} "
                f"requests; up to {report.repair_rounds_limit} repair rounds per request "
                f"(`JARVIS_LLM_REPAIR_ROUNDS`); counting: {report.counting}. "
                f"Run time {report.seconds:.1f} s.", ""]
        out += md_table(("metric", "value"), summary_rows(report))
        out += ["", "Micro F1 pools matches over all requests (TaskBench's n-F1 / e-F1); macro "
                "is the mean per-request F1. Invalid plans are scored as they are; a request "
                "with no plan scores as an empty prediction. See `evals/scoring.py`.", "",
                "## Requests", ""]
        out += md_table(
            ("id", "valid", "repair rounds", "LLM calls", "tokens", "node F1", "edge F1",
             "arg accuracy", "problems / error"),
            [(r.id, "yes" if r.valid else "no", r.repair_rounds, r.usage.calls,
              r.usage.total_tokens, fmt(r.score.node_f1), fmt(r.score.edge_f1),
              fmt(r.score.arg_accuracy),
              r.error or ", ".join(sorted({p.code for p in r.problems})) or "-")
             for r in report.results], "llrrrrrrl")
    else:
        assert report.stored is not None
        out += [f"**No LLM was called: {report.reason}.** The stored GNN4TaskPlan model plans "
                "were scored instead.", "", report.stored.note, ""]
        out += md_table(
            ("file", "records", "valid (accepted)", "repair-needed", "rejected",
             "fidelity node F1", "fidelity edge F1", "top problem codes"),
            [(f"{f.domain}/{f.model}", f.records, pct(f.accepted, f.records),
              pct(f.repair_needed, f.records), pct(f.rejected, f.records),
              fmt(f.fidelity.node_f1), fmt(f.fidelity.edge_f1),
              ", ".join(f"{k} {n}" for k, n in f.top_codes.items()))
             for f in report.stored.files], "lrrrrrrl")
    g = report.gold_check
    out += ["", "## Scorer check", "",
            f"Gold against itself on the {g.records} requests: node F1 {fmt(g.node_f1)}, edge "
            f"F1 {fmt(g.edge_f1)}, argument accuracy {fmt(g.arg_accuracy)} (must all be 1.000 "
            "or n/a)."]
    if report.skipped_gold:
        out += ["", "Gold records skipped (not valid plans): " + ", ".join(
            f"{k} ({v})" for k, v in report.skipped_gold.items())]
    if report.catalog_notes or report.approximations:
        out += ["", "## Dataset notes", ""]
        out += [f"- Catalogue: {n}" for n in report.catalog_notes]
        out += [f"- {a}" for a in report.approximations]
    return "\n".join(out) + "\n"


def write(report: PlanEvalReport, out: Path) -> tuple[Path, Path]:
    return write_report(out, f"plans-{report.dataset}", report, render_markdown(report))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.plans",
        description="Run the LLM planner on a benchmark's requests and score the plans like "
                    "TaskBench (endpoint from JARVIS_LLM_*; without one, the stored "
                    "GNN4TaskPlan predictions are scored instead).")
    parser.add_argument("--dataset", required=True, choices=list(EVAL_DATASETS))
    parser.add_argument("--limit", type=int, default=None, help="first N requests only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder for the JSON and Markdown reports (default: {DEFAULT_OUT}/)")
    parser.add_argument("--counting", choices=["multiset", "set"], default="multiset",
                        help="multiset (default) or TaskBench's set counting of repeated items")
    args = parser.parse_args(argv)
    counting: Counting = "set" if args.counting == "set" else "multiset"
    report = asyncio.run(run_plan_eval(args.dataset, args.limit, counting=counting))
    print(render_text(report))
    json_path, md_path = write(report, args.out)
    print(f"reports: {json_path}, {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
