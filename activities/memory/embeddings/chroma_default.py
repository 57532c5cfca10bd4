"""chroma's own default embedding function, only when its model is already cached."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from activities.memory.embeddings.base import EmbeddingError, EmbeddingUnavailable

CHROMA_MODEL_FILES = ("config.json", "model.onnx", "special_tokens_map.json",
                      "tokenizer_config.json", "tokenizer.json", "vocab.txt")


def chroma_model_dir() -> Path:
    """Where chromadb keeps its default ONNX model once downloaded."""
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    return Path(ONNXMiniLM_L6_V2.DOWNLOAD_PATH) / ONNXMiniLM_L6_V2.EXTRACTED_FOLDER_NAME


class ChromaDefaultEmbedder:
    """chromadb's default embedding function (ONNX all-MiniLM-L6-v2, 384 dims).

    Only usable when the model is already cached: :meth:`available` checks the files and never
    starts chroma's download (which hangs or fails without network).
    """

    def __init__(self) -> None:
        reason = self.available()
        if reason:
            raise EmbeddingUnavailable(reason)
        self._fn: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def available() -> str | None:
        try:
            folder = chroma_model_dir()
        except ImportError as exc:
            return f"chromadb's ONNX embedding function cannot be imported: {exc}"
        missing = [f for f in CHROMA_MODEL_FILES if not (folder / f).is_file()]
        if missing:
            return (f"chroma's default model is not cached in {folder} (missing "
                    f"{', '.join(missing)}); it would be downloaded on first use, and this "
                    "machine has no network")
        return None

    @property
    def name(self) -> str:
        return "chroma-minilm"

    @property
    def dim(self) -> int:
        return 384

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        reason = self.available()
        if reason:  # removed since construction: refuse rather than let chroma download
            raise EmbeddingUnavailable(reason)
        with self._lock:
            if self._fn is None:
                from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import (
                    ONNXMiniLM_L6_V2,
                )

                self._fn = ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])
        try:
            vectors = self._fn(list(texts))
        except Exception as exc:  # onnxruntime raises assorted types
            raise EmbeddingError(f"chroma default embedding failed: {exc}") from exc
        return [[float(x) for x in v] for v in vectors]
