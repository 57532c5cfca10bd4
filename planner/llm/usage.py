"""Token accounting across LLM calls."""

from __future__ import annotations

from openai.types import CompletionUsage
from pydantic import BaseModel


class Usage(BaseModel):
    """Tokens spent and calls made; add them up with ``+`` or ``sum(usages, Usage())``."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    calls: int = 0

    @classmethod
    def from_openai(cls, usage: CompletionUsage | None) -> Usage:
        """One call's usage; an endpoint that reports none counts as zero tokens."""
        if usage is None:
            return cls(calls=1)
        # Some OpenAI-compatible servers omit or null fields; the client does not validate them.
        prompt = getattr(usage, "prompt_tokens", None) or 0
        completion = getattr(usage, "completion_tokens", None) or 0
        total = getattr(usage, "total_tokens", None) or prompt + completion
        return cls(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total, calls=1)

    def __add__(self, other: Usage) -> Usage:
        return Usage(prompt_tokens=self.prompt_tokens + other.prompt_tokens,
                     completion_tokens=self.completion_tokens + other.completion_tokens,
                     total_tokens=self.total_tokens + other.total_tokens,
                     calls=self.calls + other.calls)
