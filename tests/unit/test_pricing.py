"""The price table and cost_of (planner/pricing.py), and the JARVIS_LLM_PRICES setting."""

from __future__ import annotations

import pytest

from planner.pricing import DEFAULT_PRICES, ModelPrice, cost_of, price_of, price_table
from planner.settings import Settings


def test_cost_of_a_listed_model() -> None:
    # gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens
    assert cost_of("gpt-4o-mini", 1_000_000, 0) == pytest.approx(0.15)
    assert cost_of("gpt-4o-mini", 2_000, 500) == pytest.approx((2_000 * 0.15 + 500 * 0.60) / 1e6)


def test_a_dated_snapshot_takes_the_longest_listed_name() -> None:
    assert price_of("gpt-4o-mini-2024-07-18") == DEFAULT_PRICES["gpt-4o-mini"]
    assert price_of("gpt-4o-2024-08-06") == DEFAULT_PRICES["gpt-4o"]
    assert price_of("gpt-4omni") is None  # a prefix without a dash is another model


def test_an_unlisted_model_costs_nothing() -> None:
    assert price_of("llama3.1:8b") is None
    assert cost_of("llama3.1:8b", 10_000, 10_000) == 0.0


def test_settings_add_and_override_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARVIS_LLM_PRICES",
                       '{"llama3.1:8b": {"input": 0.1, "output": 0.2}, '
                       '"gpt-4o-mini": {"input": 1, "output": 1}}')
    table = price_table(Settings().llm_prices)
    assert table["llama3.1:8b"] == ModelPrice(input=0.1, output=0.2)
    assert cost_of("gpt-4o-mini", 1_000_000, 1_000_000, table) == pytest.approx(2.0)
    assert table["gpt-4o"] == DEFAULT_PRICES["gpt-4o"]  # the rest of the defaults stay


def test_negative_prices_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARVIS_LLM_PRICES", '{"m": {"input": -1, "output": 0}}')
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Settings()
