"""Template memory: plans that ran, stored in chromadb and reused for similar goals.

See :mod:`planner.memory.store` (the store and reuse rules), :mod:`planner.memory.rebind`
(goal patterns and parameter rebinding), :mod:`planner.memory.embeddings` (offline-capable
embedding backends) and :mod:`planner.memory.fingerprints` (tool-schema fingerprints).
"""

from __future__ import annotations

from planner.memory.embeddings import (
    Embedder,
    EmbeddingError,
    EmbeddingUnavailable,
    HashingEmbedder,
    make_embedder,
)
from planner.memory.fingerprints import plan_fingerprints, stale_tools, tool_fingerprint
from planner.memory.rebind import GoalPattern, RebindResult, extract_pattern, rebind
from planner.memory.seed import open_store, seed_templates
from planner.memory.store import Reuse, TemplateHit, TemplateInput, TemplateStore

__all__ = [
    "Embedder",
    "EmbeddingError",
    "EmbeddingUnavailable",
    "GoalPattern",
    "HashingEmbedder",
    "RebindResult",
    "Reuse",
    "TemplateHit",
    "TemplateInput",
    "TemplateStore",
    "extract_pattern",
    "make_embedder",
    "open_store",
    "plan_fingerprints",
    "rebind",
    "seed_templates",
    "stale_tools",
    "tool_fingerprint",
]
