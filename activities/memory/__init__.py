"""Template memory: plans that ran, stored in chromadb and reused for similar goals.

See :mod:`activities.memory.store` (the store and reuse rules), :mod:`planner.rebinding`
(goal patterns and parameter rebinding), :mod:`activities.memory.embeddings` (offline-capable
embedding backends) and :mod:`planner.fingerprints` (tool-schema fingerprints).
"""

from __future__ import annotations

from activities.memory.embeddings import (
    Embedder,
    EmbeddingError,
    EmbeddingUnavailable,
    HashingEmbedder,
    make_embedder,
)
from activities.memory.seed import open_store, seed_templates
from activities.memory.store import Reuse, TemplateHit, TemplateInput, TemplateStore
from planner.fingerprints import plan_fingerprints, stale_tools, tool_fingerprint
from planner.rebinding import GoalPattern, RebindResult, extract_pattern, rebind

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
