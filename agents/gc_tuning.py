"""The garbage collector of a worker process, tuned (docs/performance.md, "Lever: the garbage
collector"): what is alive once the worker is built (modules, registries, schemas, the SDK) is
frozen out of every later collection, and the youngest generation is collected after 20,000
allocations instead of 700. A worker allocates many short-lived objects per workflow task, and
each collection of the oldest generation walked the whole startup heap."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

THRESHOLDS = (20_000, 20, 20)


@contextlib.contextmanager
def tuned_gc(thresholds: tuple[int, int, int] = THRESHOLDS) -> Iterator[None]:
    """Freeze what is alive now and raise the collection thresholds; put both back after."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
