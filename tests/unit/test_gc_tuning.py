"""The worker process's garbage collector (agents/gc_tuning.py): tuned inside, put back after."""

from __future__ import annotations

import gc

from agents.gc_tuning import THRESHOLDS, tuned_gc


def test_what_is_alive_is_frozen_and_the_thresholds_raised_then_put_back() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with tuned_gc():
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > 1000, "the modules loaded so far are frozen"
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_failure_inside_puts_the_collector_back_too() -> None:
    before = gc.get_threshold()
    try:
        with tuned_gc((5_000, 5, 5)):
            assert gc.get_threshold() == (5_000, 5, 5)
            raise RuntimeError("the worker stopped")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
