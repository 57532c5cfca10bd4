"""Connection settings for an OpenAI-compatible endpoint and the client built from them."""

from __future__ import annotations

from typing import Literal

import openai
from openai.types import CompletionUsage
from pydantic import BaseModel, Field, SecretStr

from activities.llm.errors import LLMError
from planner.contracts.usage import Usage
from planner.pricing import ModelPrice, cost_of
from planner.settings import Settings

StructuredMode = Literal["auto", "json_schema", "tools", "json"]

# Local servers (Ollama, llama.cpp, vLLM) ignore the key, but the client insists on one.
PLACEHOLDER_API_KEY = "not-needed"


class LLMConfig(BaseModel):
    """Where and how to call the model. Build it in the worker from its environment; it holds a
    secret, so it is never a workflow or activity input."""

    base_url: str | None = None
    """OpenAI-compatible base URL ending in ``/v1``; None means OPENAI_BASE_URL, else OpenAI."""
    api_key: SecretStr | None = None
    model: str = "gpt-4o-mini"
    timeout_s: float = Field(60.0, gt=0)
    structured_mode: StructuredMode = "auto"
    prices: dict[str, ModelPrice] = Field(default_factory=dict)  # over DEFAULT_PRICES

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMConfig:
        key = settings.llm_api_key
        return cls(base_url=settings.llm_base_url, api_key=SecretStr(key) if key else None,
                   model=settings.llm_model, timeout_s=settings.llm_timeout_s,
                   structured_mode=settings.llm_structured_mode, prices=settings.llm_prices)

    @property
    def configured(self) -> bool:
        return bool(self.base_url or self.api_key)


def make_client(config: LLMConfig) -> openai.AsyncOpenAI:
    """An AsyncOpenAI client for ``config``; raises LLMError(NotConfigured) without URL or key."""
    if config.api_key is not None:
        key = config.api_key.get_secret_value()
    elif config.base_url:
        key = PLACEHOLDER_API_KEY
    else:
        raise LLMError("NotConfigured", "no LLM endpoint or API key is configured",
                       model=config.model)
    # max_retries=0: Temporal owns every retry, so each attempt (and its error) shows in the
    # workflow history and latency is not multiplied by a second, hidden retry loop.
    return openai.AsyncOpenAI(api_key=key, base_url=config.base_url, timeout=config.timeout_s,
                              max_retries=0)


def usage_from_openai(usage: CompletionUsage | None, config: LLMConfig | None = None,
                      model: str | None = None) -> Usage:
    """One call's usage, priced by ``config``'s table for ``model`` (the model the endpoint
    says answered, else the configured one); an endpoint that reports none counts as zero."""
    if usage is None:
        return Usage(calls=1)
    # Some OpenAI-compatible servers omit or null fields; the client does not validate them.
    prompt = getattr(usage, "prompt_tokens", None) or 0
    completion = getattr(usage, "completion_tokens", None) or 0
    total = getattr(usage, "total_tokens", None) or prompt + completion
    cost = 0.0
    if config is not None:
        cost = cost_of(model or config.model, prompt, completion, config.prices)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total, calls=1,
                 cost_usd=cost)
