"""JARVIS Planner: goals in plain language become validated plans that run as durable Temporal
workflows. The public API is this one import::

    from jarvis_planner import JarvisClient          # async; JarvisClientSync for sync code

Names load lazily, so ``import jarvis_planner`` (and the ``jarvis`` command's start-up) does not
pay for the Temporal SDK until a client is used. ``jarvis_planner.testing`` has a scripted
OpenAI-compatible server for tests of code that embeds JARVIS.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jarvis_planner.api import (
        DecisionRefused,
        EditRefused,
        GoalEvent,
        GoalState,
        Gone,
        JarvisClient,
        JarvisClientSync,
        Plan,
        ScheduledRun,
        ScheduleExists,
        ScheduleNotApproved,
        ScheduleNotFound,
        ScheduleView,
        Summary,
    )

__all__ = ["DecisionRefused", "EditRefused", "GoalEvent", "GoalState", "Gone", "JarvisClient",
           "JarvisClientSync", "Plan", "ScheduleExists", "ScheduleNotApproved", "ScheduleNotFound",
           "ScheduleView", "ScheduledRun", "Summary"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("jarvis_planner.api"), name)
    raise AttributeError(f"module 'jarvis_planner' has no attribute {name!r}")
