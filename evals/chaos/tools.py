"""Tools that make faults happen where they hurt, registered only on the chaos workers.

- ``chaos_effect``: a real side effect (a note through the built-in ``notes_append``, with the
  step's idempotency key), then a hold with a marker file naming this worker's pid, so the
  harness can SIGKILL the worker right after the effect and before the activity completes.
- ``chaos_flaky``: fails transiently the first ``failures`` attempts of a step, then succeeds.
- ``chaos_broken``: fails permanently (a non-retryable error).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from activities.builtins.notes import notes_append
from activities.errors import ToolError, ToolInputError
from planner.retry import RetrySpec
from planner.tools import Risk, ToolContext, ToolRegistry, tool_from_function

MARKERS_ENV = "JARVIS_CHAOS_MARKERS"


EFFECT_PREFIX = "chaos effect "


def effect_text(key: str) -> str:
    """The note a ``chaos_effect`` step writes, named by the step's idempotency key (the same
    on every attempt): counted afterwards to find repeated or missing effects."""
    return EFFECT_PREFIX + key


def chaos_effect(tag: str, ctx: ToolContext, hold_s: float = 0.5) -> dict[str, object]:
    """Write one note (idempotent by the step's key), then hold for ``hold_s`` seconds."""
    added = notes_append(effect_text(ctx.idempotency_key or f"no-key/{tag}"), ctx, tags=[tag])
    markers = os.environ.get(MARKERS_ENV)
    marker = None
    if markers and ctx.idempotency_key:
        digest = hashlib.sha256(ctx.idempotency_key.encode()).hexdigest()[:12]
        marker = Path(markers) / f"{os.getpid()}-{digest}"
        marker.write_text(ctx.idempotency_key)
    try:
        time.sleep(hold_s)  # the harness kills this worker here, after the effect
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)
    return {"tag": tag, "count": added.count}


def chaos_flaky(tag: str, ctx: ToolContext, failures: int = 2) -> dict[str, object]:
    """Fail with a retryable error on the first ``failures`` attempts of this step."""
    counter = Path(ctx.data_dir) / "chaos-attempts" / hashlib.sha256(
        (ctx.idempotency_key or tag).encode()).hexdigest()
    counter.parent.mkdir(parents=True, exist_ok=True)
    with counter.open("a") as fh:
        fh.write("x")
    attempts = counter.stat().st_size
    if attempts <= failures:
        raise ToolError(f"transient failure {attempts} of {failures} (chaos)")
    return {"tag": tag, "attempts": attempts}


def chaos_broken(tag: str) -> dict[str, object]:
    """Always fail, for good."""
    raise ToolInputError(f"chaos: {tag} is broken for good")


def register(registry: ToolRegistry) -> None:
    fast = RetrySpec(max_attempts=6, initial_interval_s=0.2, max_interval_s=1.0)
    registry.register(tool_from_function(chaos_effect, risk=Risk.SIDE_EFFECTING,
                                         idempotent=True, timeout_s=5, retry=fast))
    registry.register(tool_from_function(chaos_flaky, risk=Risk.SIDE_EFFECTING,
                                         idempotent=True, timeout_s=10, retry=fast))
    registry.register(tool_from_function(chaos_broken, timeout_s=5, retry=fast))
