"""The offline default: a hashing embedder (no model, no download)."""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
import zlib
from collections.abc import Sequence

from planner.words import STOP_WORDS

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
