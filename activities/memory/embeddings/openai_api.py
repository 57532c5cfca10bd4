"""OpenAI (or compatible) embeddings, by setting."""

from __future__ import annotations

from collections.abc import Sequence

from activities.memory.embeddings.base import EmbeddingError

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
