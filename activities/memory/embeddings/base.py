"""What every embedding backend is: the Embedder protocol and its errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


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
