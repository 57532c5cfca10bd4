"""Retrieval eval for template memory: does the nearest stored plan fit, per embedding backend,
and how often does parameter rebinding reuse a plan with no LLM call, rightly or wrongly?

**Retrieval.** Benchmark records that share a tool chain stand in for goals that share a plan:
GNN4TaskPlan's UltraTool (3,527 requests, 812 chains) and TMDB (100 requests) in
``gnn4taskplan/data/<set>/data.json``. For every chain with two or more records, one record
(chosen with a fixed seed) is a query and the rest go into a :class:`TemplateStore` (real
chromadb, one collection per backend) together with every other record as distractors. A
stored plan is relevant when its tool chain equals the query's. Reported: hit@1, hit@3, MRR@10
and the chance level of hit@1/hit@3 for the same store (a random ranking). Same chain is a
proxy: two requests with the same tools can still need different arguments, and requests about
the same thing can use different tools.

**Rebinding, synthetic.** A synthetic set (:data:`REBIND_CASES`): the shipped seed templates
plus a few plans stored as past runs, and new goals of three kinds: the same wording with new
values (should be reused), paraphrases (ideally reused, but patterns are literal, so the LLM
plans them: "missed"), and goals that look alike but need a different plan (must not be
reused). A reuse is correct when the template is the one the goal needs and the rebound
arguments are the expected ones; any other reuse is wrong.

**Rebinding, real plans.** NESTFUL's 300 gold plans (``nestful/``): every plan's pattern must
rebind its own goal to the same steps, and is matched against every other sample's goal; a match
whose steps differ from that sample's gold plan is a wrong reuse.

Run: ``python -m evals.retrieval [--out DIR] [--limit N] [--store-limit N] [--backends a,b]``.
Writes ``retrieval.json`` and ``retrieval.md`` to ``DIR`` (default ``eval-reports/``).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from activities import default_registry
from activities.memory.embeddings import (
    BundledMiniLMEmbedder,
    ChromaDefaultEmbedder,
    Embedder,
    EmbeddingError,
    HashingEmbedder,
    OpenAIEmbedder,
)
from activities.memory.seed import seed_templates
from activities.memory.store import TemplateInput, TemplateStore
from evals.datasets import DatasetNotFound, dataset_file
from planner.fingerprints import plan_fingerprints
from planner.plan import Plan
from planner.rebinding import extract_pattern, rebind
from planner.settings import Settings
from planner.tools import ToolRegistry

DATASETS = ("ultratool", "tmdb")
BACKENDS = ("hashing", "minilm", "chroma-default", "openai")
DEFAULT_LIMIT = 200
DEFAULT_STORE_LIMIT = 1200
SEED = 7
Chain = tuple[str, ...]

# ------------------------------------------------------------------------------ retrieval


@dataclass(frozen=True)
class Record:
    goal: str
    chain: Chain


@dataclass
class RetrievalScore:
    dataset: str
    backend: str
    status: str = "ok"  # or "unavailable: <reason>"
    queries: int = 0
    stored: int = 0
    hit_at_1: float = 0.0
    hit_at_3: float = 0.0
    mrr_at_10: float = 0.0
    chance_hit_at_1: float = 0.0
    chance_hit_at_3: float = 0.0
    seconds: float = 0.0


def load_records(dataset: str) -> list[Record]:
    """GNN4TaskPlan records (JSON lines): the request and its tool chain in node order."""
    path = dataset_file("gnn4taskplan", "data", dataset, "data.json")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            chain = tuple(n["task"] for n in rec["task_nodes"])
            if chain and rec.get("user_request", "").strip():
                out.append(Record(" ".join(rec["user_request"].split()), chain))
    return out


def split_records(records: Sequence[Record], limit: int | None, store_limit: int | None,
                  seed: int = SEED) -> tuple[list[Record], list[Record]]:
    """(queries, stored): one query per repeated chain (up to ``limit``); the store keeps every
    other record, sampled down to ``store_limit`` but never below one relevant per query."""
    rng = random.Random(seed)
    by_chain: dict[Chain, list[Record]] = defaultdict(list)
    for rec in records:
        by_chain[rec.chain].append(rec)
    chains = sorted(c for c, recs in by_chain.items() if len(recs) >= 2)
    rng.shuffle(chains)
    chains = chains[:limit] if limit is not None else chains
    queries = [rng.choice(by_chain[c]) for c in chains]
    picked = {id(q) for q in queries}
    rest = [r for r in records if id(r) not in picked]
    if store_limit is None or len(rest) <= store_limit:
        return queries, rest
    must: list[Record] = []
    for chain in chains:  # one relevant record per query first
        must.append(rng.choice([r for r in by_chain[chain] if id(r) not in picked]))
    chosen = {id(r) for r in must}
    others = [r for r in rest if id(r) not in chosen]
    rng.shuffle(others)
    return queries, must + others[: max(0, store_limit - len(must))]


def stub_plan(rec: Record) -> Plan:
    steps = [{"id": f"s{i}", "tool": tool} for i, tool in enumerate(rec.chain)]
    return Plan.model_validate({"goal": rec.goal, "steps": steps})


def chance(relevant: int, total: int, k: int) -> float:
    """Probability that a random ranking puts a relevant item in the top k."""
    if total <= 0 or relevant <= 0:
        return 0.0
    k = min(k, total)
    return 1.0 - math.comb(total - relevant, k) / math.comb(total, k)


def score_retrieval(embedder: Embedder, dataset: str, queries: Sequence[Record],
                    stored: Sequence[Record]) -> RetrievalScore:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jarvis-retrieval-") as folder:
        store = TemplateStore(embedder, path=folder, migrate=False)
        store.remember_many([TemplateInput(r.goal, stub_plan(r), {}) for r in stored])
        results = store.search_many([q.goal for q in queries], k=10)
        total = store.count()
    counts: dict[Chain, int] = defaultdict(int)
    for rec in {r.goal: r for r in stored}.values():
        counts[rec.chain] += 1
    h1 = h3 = rr = c1 = c3 = 0.0
    for query, hits in zip(queries, results, strict=True):
        relevant = [tuple(s.tool for s in h.plan.steps) == query.chain for h in hits]
        h1 += bool(relevant[:1] and relevant[0])
        h3 += any(relevant[:3])
        rr += next((1.0 / (i + 1) for i, ok in enumerate(relevant) if ok), 0.0)
        c1 += chance(counts[query.chain], total, 1)
        c3 += chance(counts[query.chain], total, 3)
    n = max(1, len(queries))
    return RetrievalScore(dataset=dataset, backend=embedder.name, queries=len(queries),
                          stored=total, hit_at_1=h1 / n, hit_at_3=h3 / n, mrr_at_10=rr / n,
                          chance_hit_at_1=c1 / n, chance_hit_at_3=c3 / n,
                          seconds=time.perf_counter() - started)


# ------------------------------------------------------------------------------ rebinding


def _plan(goal: str, steps: list[dict[str, Any]], outputs: dict[str, Any]) -> Plan:
    return Plan.model_validate({"goal": goal, "steps": steps, "outputs": outputs})


# Plans stored as if they had run (the LLM's style), next to the shipped seed templates.
PAST_RUNS: dict[str, Plan] = {
    "save_page": _plan(
        "save the text of https://example.com to page.txt",
        [{"id": "page", "tool": "fetch_page", "args": {"url": "https://example.com"}},
         {"id": "save", "tool": "write_file",
          "args": {"path": "page.txt", "text": "${page.text}"}}],
        {"file": "${save.path}"}),
    "list_folder": _plan(
        "list the files in reports",
        [{"id": "ls", "tool": "list_files", "args": {"path": "reports"}}],
        {"files": "${ls.entries}"}),
    "weather": _plan(
        "what's the weather in Paris",
        [{"id": "get", "tool": "http_request",
          "args": {"url": "https://wttr.in/Paris?format=j1"}}],
        {"weather": "${get.body}"}),
    "append_result": _plan(
        "append the result of 12 * 7 to log.txt",
        [{"id": "calc", "tool": "calc", "args": {"expression": "12 * 7"}},
         {"id": "save", "tool": "write_file",
          "args": {"path": "log.txt", "text": "${calc.value}", "mode": "append"}}],
        {"value": "${calc.value}"}),
}


@dataclass(frozen=True)
class RebindCase:
    goal: str
    kind: str  # "param": same words, new values; "paraphrase"; "structure": needs another plan
    needs: str | None  # the template (seed file or PAST_RUNS name) that fits, None: none does
    args: dict[str, Any] = field(default_factory=dict)  # "step.arg" -> expected value


REBIND_CASES: tuple[RebindCase, ...] = (
    # same wording, new values: reuse expected
    RebindCase("remember that the car needs new tyres", "param", "remember_note",
               {"note.text": "the car needs new tyres"}),
    RebindCase("Please remember that my passport expires in 2027.", "param", "remember_note",
               {"note.text": "my passport expires in 2027"}),
    RebindCase("what do my notes say about passwords", "param", "recall_notes",
               {"find.query": "passwords"}),
    RebindCase("What do my notes say about the car insurance?", "param", "recall_notes",
               {"find.query": "car insurance"}),
    RebindCase("calculate 2 ** 16 and save it to powers.txt", "param", "calculate_and_save",
               {"calc.expression": "2 ** 16", "save.path": "powers.txt"}),
    RebindCase("calculate (3 + 4) * 5 and save it to out/answer.txt", "param",
               "calculate_and_save",
               {"calc.expression": "(3 + 4) * 5", "save.path": "out/answer.txt"}),
    RebindCase("remind me to take the pizza out in 45 seconds", "param", "remind_seconds",
               {"pause.seconds": 45, "ping.message": "Reminder: take the pizza out"}),
    RebindCase("remind me to stretch in 90 seconds", "param", "remind_seconds",
               {"pause.seconds": 90, "ping.message": "Reminder: stretch"}),
    RebindCase("remind me to call the bank in 5 minutes", "param", "remind_minutes",
               {"minutes.expression": "5 * 60", "ping.message": "Reminder: call the bank"}),
    RebindCase("save the text of https://jarvis.dev/docs to docs.txt", "param", "save_page",
               {"page.url": "https://jarvis.dev/docs", "save.path": "docs.txt"}),
    RebindCase("list the files in invoices", "param", "list_folder", {"ls.path": "invoices"}),
    RebindCase("what's the weather in Berlin?", "param", "weather",
               {"get.url": "https://wttr.in/Berlin?format=j1"}),
    RebindCase("append the result of 99 / 3 to log.txt", "param", "append_result",
               {"calc.expression": "99 / 3", "save.path": "log.txt"}),
    # paraphrases: the right plan exists, but the words differ
    RebindCase("don't let me forget that the car needs new tyres", "paraphrase",
               "remember_note", {"note.text": "the car needs new tyres"}),
    RebindCase("search my notes for passwords", "paraphrase", "recall_notes",
               {"find.query": "passwords"}),
    RebindCase("in 45 seconds remind me to take the pizza out", "paraphrase", "remind_seconds",
               {"pause.seconds": 45}),
    RebindCase("work out 2 ** 16 and write it to powers.txt", "paraphrase",
               "calculate_and_save", {"calc.expression": "2 ** 16"}),
    RebindCase("remind me to call mom in thirty seconds", "paraphrase", "remind_seconds",
               {"pause.seconds": 30}),
    RebindCase("show me the files in the invoices folder", "paraphrase", "list_folder",
               {"ls.path": "invoices"}),
    # look alike, need another plan: must not be reused
    RebindCase("remember that the car needs new tyres and email Bob about it", "structure",
               None),
    RebindCase("remind me to call mom in 30 seconds and then email Bob", "structure", None),
    RebindCase("calculate 2 ** 16 and email it to Bob", "structure", None),
    RebindCase("what do my notes say about the boiler service and delete them", "structure",
               None),
    RebindCase("remind me to call mom in 2 hours", "structure", None),
    RebindCase("calculate 2 ** 16 and save it to powers.txt every morning", "structure", None),
    RebindCase("calculate my taxes and save it to taxes.txt", "structure", None),
    RebindCase("what's the weather in Paris next week", "structure", None),
    RebindCase("list the files in reports recursively", "structure", None),
    RebindCase("list the files in reports and delete them", "structure", None),
    RebindCase("save the text of https://example.com to page.txt and notify me", "structure",
               None),
    RebindCase("remember that", "structure", None),
    RebindCase("what do my notes say", "structure", None),
    RebindCase("append the result of 12 * 7 to log.txt twice", "structure", None),
    RebindCase("remind me to call mom in 30 seconds every day", "structure", None),
    RebindCase("save the text of my essay to essay.txt", "structure", None),
    RebindCase("what do my notes say about the boiler service and summarise them", "structure",
               None),
    RebindCase("remember that the car needs new tyres; also book a garage", "structure", None),
    RebindCase("what's the weather in Paris and Berlin", "structure", None),
    RebindCase("what do my notes say about the boiler service? Send the answer to Bob",
               "structure", None),
    RebindCase("remember that the car needs new tyres, email Bob about it", "structure", None),
    RebindCase("remind me to call mom in 30 seconds, and text dad in 60 seconds", "structure",
               None),
)


@dataclass
class RebindScore:
    backend: str
    status: str = "ok"
    cases: int = 0
    reusable: int = 0  # cases whose goal has a fitting stored plan
    correct_reuse: int = 0
    wrong_reuse: int = 0
    missed: int = 0
    correct_reuse_rate: float = 0.0  # of the reusable cases
    wrong_reuse_rate: float = 0.0  # of all cases
    # few-shot quality: the nearest stored plan is the one the goal needs (reusable cases), and
    # the same for the paraphrases alone, where it matters most (the LLM plans them from it)
    example_hit_at_1: float = 0.0
    paraphrase_example_hit_at_1: float = 0.0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def _arg(plan: Plan, key: str) -> Any:
    step_id, arg = key.split(".", 1)
    return plan.step(step_id).args.get(arg)


def score_rebinding(embedder: Embedder, registry: ToolRegistry,
                    cases: Sequence[RebindCase] = REBIND_CASES) -> RebindScore:
    started = time.perf_counter()
    score = RebindScore(backend=embedder.name, cases=len(cases))
    with tempfile.TemporaryDirectory(prefix="jarvis-rebind-") as folder:
        store = TemplateStore(embedder, path=folder, migrate=False)
        names = {tid: name for name, tid in seed_templates(store, registry).seeded.items()}
        for name, plan in PAST_RUNS.items():
            tid = store.remember(plan.goal, plan, plan_fingerprints(plan, registry), 5.0, 800)
            names[tid] = name
        nearest_ok: dict[str, list[bool]] = defaultdict(list)
        for case in cases:
            if case.needs:
                top = store.search(case.goal, k=1)
                nearest_ok[case.kind].append(bool(top) and names.get(top[0].id) == case.needs)
            reuse = store.find_reusable(case.goal, registry)
            used = names.get(reuse.hit.id) if reuse else None
            kind = score.by_kind.setdefault(case.kind, {"cases": 0, "correct_reuse": 0,
                                                        "wrong_reuse": 0, "missed": 0})
            kind["cases"] += 1
            if reuse is None:
                outcome = "missed" if case.needs else "llm (right)"
            elif used == case.needs and all(_arg(reuse.plan, k) == v
                                            for k, v in case.args.items()):
                outcome = "correct reuse"
            else:
                outcome = "WRONG reuse"
            score.reusable += case.needs is not None
            score.correct_reuse += outcome == "correct reuse"
            score.wrong_reuse += outcome == "WRONG reuse"
            score.missed += outcome == "missed"
            for key, label in (("correct_reuse", "correct reuse"),
                               ("wrong_reuse", "WRONG reuse"), ("missed", "missed")):
                kind[key] += outcome == label
            score.details.append({
                "goal": case.goal, "kind": case.kind, "needs": case.needs, "outcome": outcome,
                "reused": used, "bindings": reuse.bindings if reuse else None,
                "route": reuse.route if reuse else None,
            })
    every = [ok for oks in nearest_ok.values() for ok in oks]
    score.example_hit_at_1 = sum(every) / max(1, len(every))
    para = nearest_ok.get("paraphrase", [])
    score.paraphrase_example_hit_at_1 = sum(para) / max(1, len(para))
    score.correct_reuse_rate = score.correct_reuse / max(1, score.reusable)
    score.wrong_reuse_rate = score.wrong_reuse / max(1, score.cases)
    score.seconds = time.perf_counter() - started
    return score


# ------------------------------------------------------------------ rebinding on NESTFUL


@dataclass
class NestfulRebindScore:
    """Rebinding on real plans (NESTFUL's 300 gold plans, see ``evals/nestful``): each plan's
    pattern must rebind its own goal to the very same plan (identity), and, matched against
    every *other* sample's goal, must either not match or yield that sample's steps."""

    status: str = "ok"
    samples: int = 0
    with_slots: int = 0
    exact_only: int = 0  # no value found in the goal: reused for the same goal only
    not_rebindable: int = 0  # a value also sits where rebinding cannot update it
    identity_ok: int = 0
    cross_pairs: int = 0
    cross_reuse: int = 0
    cross_wrong: int = 0  # reused for another sample's goal, but the steps differ from its plan
    wrong_examples: list[str] = field(default_factory=list)


def score_nestful_rebinding() -> NestfulRebindScore:
    from evals.nestful import build_suite

    score = NestfulRebindScore()
    for kind in ("executable", "glaive", "sgd"):
        try:
            plans = [p for p in build_suite(kind).plans if p is not None]
        except (DatasetNotFound, OSError) as exc:
            return NestfulRebindScore(status=f"unavailable: {exc}")
        items = [(plan, extract_pattern(plan.goal, plan)) for plan in plans]
        for i, (plan, pattern) in enumerate(items):
            score.samples += 1
            score.with_slots += bool(pattern.slots)
            score.exact_only += pattern.rebindable and not pattern.slots
            score.not_rebindable += not pattern.rebindable
            same = rebind(pattern, plan, plan.goal)
            score.identity_ok += same is not None and same.plan.steps == plan.steps
            for j, (other, _) in enumerate(items):
                if i == j:
                    continue
                score.cross_pairs += 1
                result = rebind(pattern, plan, other.goal)
                if result is None:
                    continue
                score.cross_reuse += 1
                if result.plan.steps != other.steps:
                    score.cross_wrong += 1
                    score.wrong_examples.append(f"{plan.goal!r} reused for {other.goal!r}")
    return score


# ------------------------------------------------------------------------------- backends


def backend_factories(settings: Settings) -> dict[str, Callable[[], Embedder]]:
    def openai() -> Embedder:
        if not settings.llm_configured:
            raise EmbeddingError("no endpoint configured (JARVIS_LLM_BASE_URL/JARVIS_LLM_API_KEY)")
        embedder = OpenAIEmbedder(settings.embedding_model, base_url=settings.llm_base_url,
                                  api_key=settings.llm_api_key, timeout_s=20)
        embedder.embed(["probe"])  # unreachable endpoints are reported, not half-measured
        return embedder

    return {"hashing": HashingEmbedder, "minilm": BundledMiniLMEmbedder,
            "chroma-default": ChromaDefaultEmbedder, "openai": openai}


@dataclass
class EvalReport:
    retrieval: list[RetrievalScore]
    rebinding: list[RebindScore]
    nestful: NestfulRebindScore
    settings: dict[str, Any]


def run_eval(limit: int | None = DEFAULT_LIMIT, store_limit: int | None = DEFAULT_STORE_LIMIT,
             backends: Sequence[str] = BACKENDS, datasets: Sequence[str] = DATASETS,
             settings: Settings | None = None) -> EvalReport:
    settings = settings or Settings()
    factories = backend_factories(settings)
    registry = default_registry()
    splits: dict[str, tuple[list[Record], list[Record]] | str] = {}
    for name in datasets:
        try:
            splits[name] = split_records(load_records(name), limit, store_limit)
        except DatasetNotFound as exc:
            splits[name] = str(exc)
    settings_used = {"limit": limit, "store_limit": store_limit, "seed": SEED,
                     "backends": list(backends), "datasets": list(datasets)}
    report = EvalReport([], [], score_nestful_rebinding(), settings_used)
    for backend in backends:
        try:
            embedder = factories[backend]()
        except (EmbeddingError, ImportError, OSError) as exc:
            reason = f"unavailable: {exc}"
            report.retrieval += [RetrievalScore(d, backend, reason) for d in datasets]
            report.rebinding.append(RebindScore(backend, reason))
            continue
        for name, split in splits.items():
            if isinstance(split, str):
                report.retrieval.append(RetrievalScore(name, backend, f"unavailable: {split}"))
            else:
                report.retrieval.append(score_retrieval(embedder, name, *split))
        report.rebinding.append(score_rebinding(embedder, registry))
    return report


# -------------------------------------------------------------------------------- output


def to_markdown(report: EvalReport) -> str:
    lines = ["# Template memory: retrieval eval", "",
             f"Settings: `{json.dumps(report.settings)}`", "",
             "## Retrieval (relevant = same tool chain)", "",
             "| dataset | backend | queries | stored | hit@1 | hit@3 | MRR@10 | chance hit@1 "
             "| chance hit@3 | seconds |", "|---|---|---|---|---|---|---|---|---|---|"]
    for s in report.retrieval:
        if s.status != "ok":
            lines.append(f"| {s.dataset} | {s.backend} | {s.status} | | | | | | | |")
        else:
            lines.append(f"| {s.dataset} | {s.backend} | {s.queries} | {s.stored} | "
                         f"{s.hit_at_1:.3f} | {s.hit_at_3:.3f} | {s.mrr_at_10:.3f} | "
                         f"{s.chance_hit_at_1:.3f} | {s.chance_hit_at_3:.3f} | {s.seconds:.1f} |")
    lines += ["", "## Rebinding (zero-LLM reuse)", "",
              "| backend | cases | reusable | correct reuse | wrong reuse | missed | "
              "correct rate | wrong rate | nearest = needed | same, paraphrases |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report.rebinding:
        if r.status != "ok":
            lines.append(f"| {r.backend} | {r.status} | | | | | | | | |")
        else:
            lines.append(f"| {r.backend} | {r.cases} | {r.reusable} | {r.correct_reuse} | "
                         f"{r.wrong_reuse} | {r.missed} | {r.correct_reuse_rate:.2f} | "
                         f"{r.wrong_reuse_rate:.2f} | {r.example_hit_at_1:.2f} | "
                         f"{r.paraphrase_example_hit_at_1:.2f} |")
    lines += ["", "Reuse needs the goal pattern to match (see planner/rebinding.py), so "
              "paraphrases are planned by the LLM; \"nearest = needed\" is how often the "
              "nearest stored plan, its few-shot example, is the right one."]
    n = report.nestful
    lines += ["", "## Rebinding real plans (NESTFUL gold plans, no embeddings involved)", ""]
    if n.status != "ok":
        lines.append(n.status)
    else:
        lines += [f"- {n.samples} plans: {n.with_slots} with slots, {n.exact_only} exact-goal "
                  f"only, {n.not_rebindable} not rebindable (a value also sits where it cannot "
                  "be rebound)",
                  f"- identity (own goal gives back the same steps): {n.identity_ok}/{n.samples}",
                  f"- cross-matching ({n.cross_pairs} pairs of different samples): "
                  f"{n.cross_reuse} reused, {n.cross_wrong} with steps that differ from the "
                  "other sample's gold plan"]
        lines += [f"  - wrong: {example}" for example in n.wrong_examples[:10]]
    first = next((r for r in report.rebinding if r.status == "ok"), None)
    if first:
        lines += ["", f"### Cases ({first.backend})", "", "| kind | goal | outcome | reused |",
                  "|---|---|---|---|"]
        lines += [f"| {d['kind']} | {d['goal']} | {d['outcome']} | {d['reused'] or ''} |"
                  for d in first.details]
    return "\n".join(lines) + "\n"


def write_report(report: EvalReport, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "retrieval.json", out / "retrieval.md"
    json_path.write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    md_path.write_text(to_markdown(report), encoding="utf-8")
    return json_path, md_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.retrieval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("eval-reports"))
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT,
                        help="queries per dataset (one per repeated tool chain)")
    parser.add_argument("--store-limit", type=int, default=DEFAULT_STORE_LIMIT,
                        help="stored records per dataset (0: all)")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(BACKENDS)}")
    report = run_eval(args.limit, args.store_limit or None, backends)
    markdown = to_markdown(report)
    json_path, md_path = write_report(report, args.out)
    sys.stdout.write(markdown)
    sys.stdout.write(f"\nwrote {json_path} and {md_path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
