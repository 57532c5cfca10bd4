"""Choosing an embedder from the settings (``auto``: the best one available here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from activities.memory.embeddings.base import Embedder, EmbeddingUnavailable
from activities.memory.embeddings.chroma_default import ChromaDefaultEmbedder
from activities.memory.embeddings.hashing import HashingEmbedder
from activities.memory.embeddings.minilm import BundledMiniLMEmbedder
from activities.memory.embeddings.openai_api import OpenAIEmbedder

if TYPE_CHECKING:
    from planner.settings import Settings


AUTO_ORDER = ("minilm", "chroma-default", "hashing")


def backend_status() -> dict[str, str | None]:
    """Offline backends -> None when usable here, else the reason (openai is not probed)."""
    return {
        "minilm": BundledMiniLMEmbedder.available(),
        "chroma-default": ChromaDefaultEmbedder.available(),
        "hashing": None,
    }


def make_embedder(settings: Settings, backend: str | None = None) -> Embedder:
    """The embedder for ``backend`` (default: ``settings.embedding_backend``).

    ``auto``: bundled MiniLM, else chroma's cached default model, else hashing. An explicitly
    chosen backend that cannot run raises :class:`EmbeddingUnavailable` instead of silently
    switching vector spaces.
    """
    choice = backend or settings.embedding_backend
    if choice == "auto":
        status = backend_status()
        choice = next(b for b in AUTO_ORDER if status[b] is None)
    if choice == "hashing":
        return HashingEmbedder()
    if choice in ("minilm", "bundled"):
        return BundledMiniLMEmbedder()
    if choice == "chroma-default":
        return ChromaDefaultEmbedder()
    if choice == "openai":
        if not settings.llm_configured:
            raise EmbeddingUnavailable(
                "embedding_backend 'openai' needs an endpoint: set JARVIS_LLM_BASE_URL and/or "
                "JARVIS_LLM_API_KEY")
        return OpenAIEmbedder(settings.embedding_model, base_url=settings.llm_base_url,
                              api_key=settings.llm_api_key, timeout_s=settings.llm_timeout_s)
    raise ValueError(f"unknown embedding backend {choice!r}; expected auto, hashing, minilm, "
                     "chroma-default or openai")
