"""Template memory: plans that ran, stored in chromadb with their goal, pattern and tool schemas.

One chroma record per template: the document is the example goal, the vector its embedding, the
metadata flat scalars (chroma's rule): the plan, the goal pattern and the tool fingerprints as
JSON strings, plus run counts, total duration and tokens, and the invalidation flag.

The collection is ``jarvis-templates-<embedder name>-<dim>``, cosine space, so vectors of two
backends never mix. A store opened on an empty collection copies the templates of the other
backends' collections (re-embedding their goals), so switching backends keeps the memory.

Reuse (:meth:`TemplateStore.find_reusable`) never trusts similarity alone: a template is reused
only when its goal pattern matches the whole new goal (see :mod:`planner.rebinding`), its
tools still have the fingerprints it was validated with, and the rebound plan passes
``validate_plan`` against today's registry. Candidates are the nearest templates within
``max_distance`` plus every template whose pattern starts with the goal's first word (an exact
metadata lookup: a long value such as a note's text moves the embedding far from the stored
example even though the pattern fits).

Everything here is synchronous (chromadb's client is); callers run it inside activities.
"""

from __future__ import annotations

import builtins
import functools
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from activities.memory.embeddings import Embedder, make_embedder
from activities.memory.records import (
    COLLECTION_PREFIX,
    PREFIX_CANDIDATES,
    RECORD_VERSION,
    Reuse,
    Source,
    TemplateHit,
    TemplateInput,
    TemplateNotFound,
    _count,
    _CurrentFingerprints,
    _HitLists,
    _Hits,
    _hits,
    _new_metadata,
    _pattern,
    collection_name,
    tools_by_name,
)
from planner.fingerprints import ToolLookup
from planner.plan import Plan
from planner.rebinding import (
    GoalPattern,
    example_pattern,
    extract_pattern,
    goal_head,
    rebind,
    template_key,
)
from planner.validation import validate_plan

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from planner.settings import Settings


log = logging.getLogger(__name__)


def _cosine_distance(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return 1.0 - dot / (na * nb) if na and nb else 1.0


F = TypeVar("F", bound=Callable[..., Any])


def _locked(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: TemplateStore, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return cast(F, wrapper)


class TemplateStore:
    """Stored plans over one chroma collection (see the module doc)."""

    def __init__(self, embedder: Embedder, *, client: ClientAPI | None = None,
                 path: str | Path | None = None, host: str | None = None, port: int = 8000,
                 reuse_distance: float = 0.25, migrate: bool = True) -> None:
        self.embedder = embedder
        self.reuse_distance = reuse_distance
        # read-modify-write of counts: activities may call one store from several threads
        self._lock = threading.RLock()
        self.client = client or _make_client(path, host, port)
        self.name = collection_name(embedder)
        self.collection: Collection = self.client.get_or_create_collection(
            self.name, embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_search": 200}},
            metadata={"embedder": embedder.name, "dim": embedder.dim,
                      "record_version": RECORD_VERSION})
        if migrate and self.collection.count() == 0:
            self._migrate()

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None) -> TemplateStore:
        """PersistentClient in ``settings.chroma_dir``, or HttpClient when chroma_host is set."""
        return cls(embedder or make_embedder(settings),
                   path=None if settings.chroma_host else settings.chroma_dir,
                   host=settings.chroma_host, port=settings.chroma_port,
                   reuse_distance=settings.template_reuse_distance)

    # ----------------------------------------------------------------------------- writing

    def remember(self, goal: str, plan: Plan, fingerprints: Mapping[str, str],
                 duration_s: float | None = None, tokens: int | None = None,
                 success: bool = True, *, source: Source = "run", edited: bool = False,
                 cost_usd: float | None = None) -> str:
        """Store a plan that ran (or update the counts of the same template); returns its id.

        The same goal pattern with the same plan (slot values aside) is one template: a second
        "remember that X" run adds to the counts of the first instead of duplicating it.
        """
        return self.remember_many([TemplateInput(goal, plan, fingerprints, duration_s, tokens,
                                                 success, source, edited, cost_usd)])[0]

    @_locked
    def remember_many(self, entries: Sequence[TemplateInput]) -> builtins.list[str]:
        """Bulk :meth:`remember`: one embedding batch and one write for new templates."""
        now = time.time()
        ids: builtins.list[str] = []
        patterns: dict[str, GoalPattern] = {}
        for entry in entries:
            pattern = (example_pattern(entry.goal) if entry.edited
                       else extract_pattern(entry.goal, entry.plan))
            tid = "t-" + template_key(pattern, entry.plan)[:20]
            ids.append(tid)
            patterns.setdefault(tid, pattern)
        existing = self._metadatas(list(patterns))
        metas: dict[str, dict[str, Any]] = {}
        first: dict[str, TemplateInput] = {}
        for tid, entry in zip(ids, entries, strict=True):
            outcome = (entry.success, entry.duration_s, entry.tokens, entry.fingerprints)
            if tid in metas:
                metas[tid] = _count(metas[tid], *outcome, now, refresh=True,
                                    cost_usd=entry.cost_usd)
            elif tid in existing:
                metas[tid] = _count(dict(existing[tid]), *outcome, now, refresh=True,
                                    cost_usd=entry.cost_usd)
            else:
                first[tid] = entry
                metas[tid] = _new_metadata(entry, patterns[tid], self.embedder.name, now)
        if first:
            new_ids = list(first)
            goals = [first[t].goal for t in new_ids]
            self.collection.add(ids=new_ids, documents=goals,
                                embeddings=cast(Any, self.embedder.embed(goals)),
                                metadatas=cast(Any, [metas[t] for t in new_ids]))
        updated = [t for t in metas if t in existing]
        if updated:
            self.collection.update(ids=updated, metadatas=cast(Any, [metas[t] for t in updated]))
        return ids

    @_locked
    def record_outcome(self, template_id: str, success: bool, duration_s: float | None = None,
                       tokens: int | None = None, cost_usd: float | None = None) -> None:
        """Count one more run of a template (a reuse or a re-run)."""
        meta = self._metadatas([template_id]).get(template_id)
        if meta is None:
            raise TemplateNotFound(template_id)
        meta = _count(dict(meta), success, duration_s, tokens, {}, time.time(),
                      cost_usd=cost_usd)
        self.collection.update(ids=[template_id], metadatas=[cast(Any, meta)])

    @_locked
    def invalidate(self, template_id: str, reason: str) -> None:
        meta = self._metadatas([template_id]).get(template_id)
        if meta is None:
            raise TemplateNotFound(template_id)
        meta = dict(meta, invalidated=True, invalid_reason=reason, updated_at=time.time())
        self.collection.update(ids=[template_id], metadatas=[cast(Any, meta)])

    @_locked
    def delete(self, template_id: str) -> bool:
        if template_id not in self._metadatas([template_id]):
            return False
        self.collection.delete(ids=[template_id])
        return True

    # ----------------------------------------------------------------------------- reading

    def count(self) -> int:
        return self.collection.count()

    def get(self, template_id: str) -> TemplateHit | None:
        got = self.collection.get(ids=[template_id], include=["metadatas", "documents"])
        hits = _hits(got["ids"], got["metadatas"], got["documents"], None)
        return hits[0] if hits else None

    def list(self, *, include_invalid: bool = True) -> _Hits:
        """Every template, most used first."""
        got = self.collection.get(include=["metadatas", "documents"])
        hits = _hits(got["ids"], got["metadatas"], got["documents"], None)
        if not include_invalid:
            hits = [h for h in hits if not h.invalidated]
        return sorted(hits, key=lambda h: (-h.successes, -h.updated_at, h.id))

    def search(self, goal: str, k: int = 3, *, include_invalid: bool = True) -> _Hits:
        """The ``k`` stored templates nearest to ``goal`` (cosine distance, smallest first)."""
        return self._search(self.embedder.embed([goal])[0], k, include_invalid)

    def search_many(self, goals: Sequence[str], k: int = 3) -> _HitLists:
        """:meth:`search` for several goals with one embedding batch and one query."""
        total = self.count()
        if not goals or total == 0:
            return [[] for _ in goals]
        vectors = self.embedder.embed(list(goals))
        got = self.collection.query(query_embeddings=cast(Any, vectors),
                                    n_results=min(k, total),
                                    include=["metadatas", "documents", "distances"])
        metas, docs, dists = got["metadatas"], got["documents"], got["distances"]
        assert metas is not None and docs is not None and dists is not None
        return [_hits(got["ids"][i], metas[i], docs[i], dists[i]) for i in range(len(goals))]

    def find_reusable(self, goal: str, registry: ToolLookup | Mapping[str, Any],
                      max_distance: float | None = None, *, k: int = 8,
                      on_stale: Callable[[str], None] | None = None) -> Reuse | None:
        """A stored plan rebound to ``goal`` and valid against ``registry``, or None.

        Stale templates met on the way (a tool gone or its schema changed) are marked invalid
        (``invalidated=True`` with the reason) and never reused; they stay listed. ``on_stale``
        hears the id of each one.
        """
        limit = self.reuse_distance if max_distance is None else max_distance
        vector = self.embedder.embed([goal])[0]
        rows: dict[str, tuple[_Row, Literal["nearest", "prefix"]]] = {}
        for row in self._nearest_rows(vector, k, include_invalid=False):
            if row.distance is not None and row.distance <= limit:
                rows[row.id] = (row, "nearest")
        for row in self._head_rows(goal_head(goal), vector):
            rows.setdefault(row.id, (row, "prefix"))
        tools = tools_by_name(registry)
        current = _CurrentFingerprints(tools)
        for row, route in sorted(rows.values(), key=lambda r: (r[0].distance or 0.0, r[0].id)):
            stale = current.stale(json.loads(str(row.meta.get("fingerprints") or "{}")))
            if stale:
                self.invalidate(row.id, "tool schema changed or tool removed: "
                                        + ", ".join(stale))
                log.info("template %s invalidated: tools %s changed", row.id, stale)
                if on_stale is not None:
                    on_stale(row.id)
                continue
            pattern = _pattern(row.meta)
            if pattern is None or pattern.match(goal) is None:
                continue  # cheap test first: most candidates stop here
            hits = _hits([row.id], [row.meta], [row.document], [row.distance])
            result = rebind(pattern, hits[0].plan, goal) if hits else None
            if result is None:
                continue
            problems = validate_plan(result.plan, tools)
            if problems:
                log.info("template %s rebinds to an invalid plan: %s", row.id,
                         "; ".join(map(str, problems)))
                continue
            return Reuse(hit=hits[0], plan=result.plan, bindings=result.bindings, route=route)
        return None

    # ---------------------------------------------------------------------------- internals

    def _search(self, vector: Sequence[float], k: int, include_invalid: bool) -> _Hits:
        rows = self._nearest_rows(vector, k, include_invalid)
        return _hits([r.id for r in rows], [r.meta for r in rows], [r.document for r in rows],
                     [r.distance for r in rows])

    def _nearest_rows(self, vector: Sequence[float], k: int,
                      include_invalid: bool) -> builtins.list[_Row]:
        total = self.count()
        if total == 0 or k <= 0:
            return []
        got = self.collection.query(
            query_embeddings=[cast(Any, list(vector))], n_results=min(k, total),
            where=None if include_invalid else {"invalidated": False},
            include=["metadatas", "documents", "distances"])
        metas, docs, dists = got["metadatas"], got["documents"], got["distances"]
        assert metas is not None and docs is not None and dists is not None
        return [_Row(tid, metas[0][i] or {}, docs[0][i] or "", float(dists[0][i]))
                for i, tid in enumerate(got["ids"][0])]

    def _head_rows(self, head: str, vector: Sequence[float]) -> builtins.list[_Row]:
        """Valid templates whose pattern starts with the same first word (exact lookup)."""
        if not head:
            return []
        got = self.collection.get(where={"$and": [{"head": head}, {"invalidated": False}]},
                                  limit=PREFIX_CANDIDATES,
                                  include=["metadatas", "documents", "embeddings"])
        metas, docs, embeddings = got["metadatas"] or [], got["documents"] or [], got["embeddings"]
        return [_Row(tid, metas[i] or {}, docs[i] or "",
                     _cosine_distance(vector, list(embeddings[i]))
                     if embeddings is not None else None)
                for i, tid in enumerate(got["ids"])]

    def _metadatas(self, ids: builtins.list[str]) -> dict[str, Mapping[str, Any]]:
        if not ids:
            return {}
        got = self.collection.get(ids=ids, include=["metadatas"])
        metas = got["metadatas"] or []
        return {i: m for i, m in zip(got["ids"], metas, strict=True) if m is not None}

    def _migrate(self) -> None:
        """Copy templates from other backends' collections into this (empty) one."""
        for col in self.client.list_collections():
            name = col.name if hasattr(col, "name") else str(col)
            if name == self.name or not name.startswith(COLLECTION_PREFIX + "-"):
                continue
            other = self.client.get_collection(name, embedding_function=None)
            got = other.get(include=["metadatas", "documents"])
            docs, metas = got["documents"] or [], got["metadatas"] or []
            if not got["ids"]:
                continue
            for start in range(0, len(got["ids"]), 256):
                ids = got["ids"][start:start + 256]
                batch_docs = [d or "" for d in docs[start:start + 256]]
                batch_metas = [dict(m or {}, embedder=self.embedder.name)
                               for m in metas[start:start + 256]]
                self.collection.add(ids=ids, documents=batch_docs,
                                    embeddings=cast(Any, self.embedder.embed(batch_docs)),
                                    metadatas=cast(Any, batch_metas))
            log.info("copied %d templates from %s into %s", len(got["ids"]), name, self.name)
            return  # one source is enough: every collection holds the same templates


@dataclass(frozen=True)
# ---------------- records2

class _Row:
    id: str
    meta: Mapping[str, Any]
    document: str
    distance: float | None


def _make_client(path: str | Path | None, host: str | None, port: int) -> ClientAPI:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if host:
        return chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
    if path is None:
        raise ValueError("TemplateStore needs a client, a path or a host")
    Path(path).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)

__all__ = ["Reuse", "TemplateHit", "TemplateInput", "TemplateNotFound", "TemplateStore",
           "collection_name", "tools_by_name"]
