"""Template records: what a stored template is (hits, reuse, inputs), and how it is kept in
chroma metadata (serialising, counting outcomes, reading rows back)."""

from __future__ import annotations

import builtins
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from activities.memory.embeddings import Embedder
from planner.fingerprints import ToolLookup, tool_fingerprint
from planner.plan import Plan
from planner.rebinding import (
    GoalPattern,
    normalise_goal,
)
from planner.validation import ToolLike

log = logging.getLogger("activities.memory.store")

COLLECTION_PREFIX = "jarvis-templates"


RECORD_VERSION = 1


PREFIX_CANDIDATES = 256


Source = Literal["run", "seed", "import"]


@dataclass(frozen=True)
class TemplateHit:
    """A stored template, with its distance to the query when it came from a search."""

    id: str
    goal: str
    plan: Plan
    distance: float | None
    fingerprints: dict[str, str]
    successes: int
    failures: int
    avg_duration_s: float | None
    avg_tokens: float | None
    avg_cost_usd: float | None  # US dollars of LLM calls per run (planning + llm steps)
    pattern: str
    rebindable: bool
    invalidated: bool
    invalid_reason: str
    source: str
    created_at: float
    updated_at: float

    @property
    def runs(self) -> int:
        return self.successes + self.failures


@dataclass(frozen=True)
class Reuse:
    """A template that fits the goal: the rebound plan, validated against today's tools."""

    hit: TemplateHit
    plan: Plan
    bindings: dict[str, Any]
    route: Literal["nearest", "prefix"]


@dataclass(frozen=True)
class TemplateInput:
    """One template to store in bulk (:meth:`TemplateStore.remember_many`)."""

    goal: str
    plan: Plan
    fingerprints: Mapping[str, str]
    duration_s: float | None = None
    tokens: int | None = None
    success: bool | None = True  # None: stored without counting a run (seed templates)
    source: Source = "run"
    edited: bool = False  # changed by a person at review: an example, never rebound
    cost_usd: float | None = None  # the run's LLM cost (planner.pricing)


class TemplateNotFound(KeyError):
    pass


_Hits = list[TemplateHit]


_HitLists = list[list[TemplateHit]]


def collection_name(embedder: Embedder) -> str:
    """Chroma-valid (3-512 of [A-Za-z0-9._-], alphanumeric ends) and backend-specific."""
    raw = f"{COLLECTION_PREFIX}-{embedder.name}-{embedder.dim}"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip("-._")[:512]


def tools_by_name(registry: ToolLookup | Mapping[str, Any]) -> Mapping[str, ToolLike]:
    """A registry as the name -> tool mapping ``validate_plan`` takes."""
    if isinstance(registry, Mapping):
        return registry
    return {t.name: t for t in cast(Iterable[Any], registry)}


class _CurrentFingerprints:
    """Today's fingerprints, computed once per tool per lookup (schemas are not free)."""

    def __init__(self, tools: Mapping[str, Any]) -> None:
        self.tools = tools
        self.known: dict[str, str | None] = {}

    def stale(self, stored: Mapping[str, str]) -> builtins.list[str]:
        out = []
        for name, fingerprint in stored.items():
            if name not in self.known:
                tool = self.tools.get(name)
                self.known[name] = tool_fingerprint(tool) if tool is not None else None
            if self.known[name] != fingerprint:
                out.append(name)
        return sorted(out)


def _pattern(meta: Mapping[str, Any] | None) -> GoalPattern | None:
    if not meta or not meta.get("pattern"):
        return None
    try:
        return GoalPattern.from_json(str(meta["pattern"]))
    except (ValueError, KeyError, TypeError):
        return None


def _new_metadata(entry: TemplateInput, pattern: GoalPattern, embedder: str,
                  now: float) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "record_version": RECORD_VERSION,
        "goal": entry.goal,
        "normalised_goal": normalise_goal(entry.goal),
        "plan": entry.plan.model_dump_json(exclude_defaults=True),
        "pattern": pattern.to_json(),
        "pattern_text": pattern.text(),
        "rebindable": pattern.rebindable,
        "not_rebindable_reason": pattern.reason,
        "head": pattern.head(),
        "tools": ",".join(sorted({s.tool for s in entry.plan.steps})),
        "fingerprints": json.dumps(dict(entry.fingerprints), sort_keys=True),
        "successes": 0,
        "failures": 0,
        "runs_timed": 0,
        "total_duration_s": 0.0,
        "runs_with_tokens": 0,
        "total_tokens": 0,
        "invalidated": False,
        "invalid_reason": "",
        "source": entry.source,
        "embedder": embedder,
        "created_at": now,
        "updated_at": now,
        "last_run_at": 0.0,
    }
    return _count(meta, entry.success, entry.duration_s, entry.tokens, entry.fingerprints, now,
                  cost_usd=entry.cost_usd)


def _count(meta: dict[str, Any], success: bool | None, duration_s: float | None,
           tokens: int | None, fingerprints: Mapping[str, str], now: float,
           refresh: bool = False, cost_usd: float | None = None) -> dict[str, Any]:
    """Add one run's outcome; with ``refresh`` the template was re-validated just now (a new
    successful run or a re-seed), so its fingerprints are today's and it is valid again."""
    meta = dict(meta)
    if success is not None:
        key = "successes" if success else "failures"
        meta[key] = int(meta.get(key, 0)) + 1
        meta["last_run_at"] = now
    if duration_s is not None:
        meta["runs_timed"] = int(meta.get("runs_timed", 0)) + 1
        meta["total_duration_s"] = float(meta.get("total_duration_s", 0.0)) + duration_s
    if tokens is not None:
        meta["runs_with_tokens"] = int(meta.get("runs_with_tokens", 0)) + 1
        meta["total_tokens"] = int(meta.get("total_tokens", 0)) + tokens
    if cost_usd is not None:
        meta["runs_with_cost"] = int(meta.get("runs_with_cost", 0)) + 1
        meta["total_cost_usd"] = float(meta.get("total_cost_usd", 0.0)) + cost_usd
    if refresh and fingerprints and success is not False:
        meta["fingerprints"] = json.dumps(dict(fingerprints), sort_keys=True)
        meta["invalidated"] = False
        meta["invalid_reason"] = ""
    meta["updated_at"] = now
    return meta


def _distance(distances: Sequence[float | None] | None, i: int) -> float | None:
    value = distances[i] if distances is not None else None
    return float(value) if value is not None else None


def _hits(ids: Sequence[str], metas: Sequence[Mapping[str, Any] | None] | None,
          docs: Sequence[str | None] | None, distances: Sequence[float | None] | None,
          ) -> list[TemplateHit]:
    out = []
    for i, tid in enumerate(ids):
        meta = (metas[i] if metas else None) or {}
        try:
            plan = Plan.model_validate_json(str(meta["plan"]))
        except (KeyError, ValueError):
            log.warning("template %s has no readable plan; skipped", tid)
            continue
        timed, with_tokens = int(meta.get("runs_timed", 0)), int(meta.get("runs_with_tokens", 0))
        out.append(TemplateHit(
            id=tid,
            goal=str(meta.get("goal") or (docs[i] if docs else "") or ""),
            plan=plan,
            distance=_distance(distances, i),
            fingerprints=json.loads(str(meta.get("fingerprints") or "{}")),
            successes=int(meta.get("successes", 0)),
            failures=int(meta.get("failures", 0)),
            avg_duration_s=float(meta.get("total_duration_s", 0.0)) / timed if timed else None,
            avg_tokens=int(meta.get("total_tokens", 0)) / with_tokens if with_tokens else None,
            avg_cost_usd=(float(meta.get("total_cost_usd", 0.0)) / int(meta["runs_with_cost"])
                          if meta.get("runs_with_cost") else None),
            pattern=str(meta.get("pattern_text", "")),
            rebindable=bool(meta.get("rebindable", False)),
            invalidated=bool(meta.get("invalidated", False)),
            invalid_reason=str(meta.get("invalid_reason", "")),
            source=str(meta.get("source", "run")),
            created_at=float(meta.get("created_at", 0.0)),
            updated_at=float(meta.get("updated_at", 0.0)),
        ))
    return out
