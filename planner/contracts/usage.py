"""Token accounting across LLM calls (the provider SDK's own usage type is converted in
:mod:`activities.llm.usage`)."""

from __future__ import annotations

from pydantic import BaseModel


class Usage(BaseModel):
    """Tokens spent and calls made; add them up with ``+`` or ``sum(usages, Usage())``."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    calls: int = 0
    cost_usd: float = 0.0  # from the price table (planner.pricing); 0 for unpriced models

    def __add__(self, other: Usage) -> Usage:
        return Usage(prompt_tokens=self.prompt_tokens + other.prompt_tokens,
                     completion_tokens=self.completion_tokens + other.completion_tokens,
                     total_tokens=self.total_tokens + other.total_tokens,
                     calls=self.calls + other.calls,
                     cost_usd=self.cost_usd + other.cost_usd)
