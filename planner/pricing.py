"""What LLM calls cost: a price table per model, in US dollars per million tokens.

The default table below covers common OpenAI models (list prices when this was written; check
your provider's current prices). ``JARVIS_LLM_PRICES`` (JSON, or a table in config.toml) adds or
overrides entries: ``{"my-model": [input_per_million, output_per_million]}``. A model is priced
by its longest matching prefix (``gpt-4o-mini-2024-07-18`` is priced as ``gpt-4o-mini``); a
model with no entry costs 0 and budgets on cost do not limit it (set its price).
"""

from __future__ import annotations

from collections.abc import Mapping

Price = tuple[float, float]  # input, output: US dollars per 1M tokens

DEFAULT_PRICES: Mapping[str, Price] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
}


# The tokens an `llm` step is assumed to spend when a cost is estimated before it runs.
LLM_STEP_TOKENS = (1_500, 500)  # input, output


def price_of(model: str, prices: Mapping[str, Price] | None = None) -> Price | None:
    """The price of ``model``: its longest matching entry, overrides first; None if unpriced."""
    table = {**DEFAULT_PRICES, **(prices or {})}
    matches = [name for name in table if model == name or model.startswith(name + "-")]
    if not matches:
        return None
    return table[max(matches, key=len)]


def cost_of(model: str, input_tokens: int, output_tokens: int,
            prices: Mapping[str, Price] | None = None) -> float:
    """US dollars for one call's tokens (0.0 for an unpriced model)."""
    price = price_of(model, prices)
    if price is None:
        return 0.0
    return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000
