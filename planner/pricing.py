"""What LLM tokens cost: a price table per model (US dollars per million input and output
tokens) and :func:`cost_of`.

The default table lists common hosted models at their list prices; ``JARVIS_LLM_PRICES`` adds
models or overrides these (e.g. ``{"my-model": {"input": 0.5, "output": 1.5}}``). A model found
in neither costs nothing (a local model); a dated snapshot such as ``gpt-4o-mini-2024-07-18``
takes the price of the longest listed name it starts with.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import BaseModel, Field

PER_TOKENS = 1_000_000


class ModelPrice(BaseModel):
    """US dollars per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


def _price(input_usd: float, output_usd: float) -> ModelPrice:
    return ModelPrice(input=input_usd, output=output_usd)


# List prices per million tokens (USD) of the provider's standard tier; override them with
# JARVIS_LLM_PRICES when your contract differs.
DEFAULT_PRICES: Mapping[str, ModelPrice] = MappingProxyType({
    "gpt-4o-mini": _price(0.15, 0.60),
    "gpt-4o": _price(2.50, 10.00),
    "gpt-4.1": _price(2.00, 8.00),
    "gpt-4.1-mini": _price(0.40, 1.60),
    "gpt-4.1-nano": _price(0.10, 0.40),
    "o3-mini": _price(1.10, 4.40),
    "o4-mini": _price(1.10, 4.40),
})


# The tokens an `llm` step is assumed to spend when a cost is estimated before it runs.
LLM_STEP_TOKENS = (1_500, 500)  # input, output


def price_table(overrides: Mapping[str, ModelPrice] | None = None) -> dict[str, ModelPrice]:
    """The default table with ``overrides`` (the ``llm_prices`` setting) on top."""
    return {**DEFAULT_PRICES, **(overrides or {})}


def price_of(model: str, prices: Mapping[str, ModelPrice] | None = None) -> ModelPrice | None:
    """The price of ``model`` in the default table with ``prices`` on top: its own entry, else
    the longest entry it extends with ``-`` (a dated snapshot), else None."""
    table = price_table(prices)
    if model in table:
        return table[model]
    stems = [name for name in table if model.startswith(name + "-")]
    return table[max(stems, key=len)] if stems else None


def cost_of(model: str, input_tokens: int, output_tokens: int,
            prices: Mapping[str, ModelPrice] | None = None) -> float:
    """US dollars for ``input_tokens`` and ``output_tokens`` of ``model`` (0.0 for a model with
    no price)."""
    price = price_of(model, prices)
    if price is None:
        return 0.0
    return (input_tokens * price.input + output_tokens * price.output) / PER_TOKENS
