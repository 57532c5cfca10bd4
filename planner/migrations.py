"""Plan schema versions and the migrations between them.

A plan names its ``schema_version``. Every way a plan is loaded (a file, an LLM's answer, a
stored template, a workflow input read back from a recorded history) goes through
:meth:`planner.plan.Plan` validation, which runs :func:`migrate` first: an older plan is
rewritten one version at a time to the current one, so the rest of the code only ever sees
the current version. A plan with no ``schema_version`` is taken as the current version (version
2 only adds optional fields). A version newer than this code knows is refused with a message
saying so, never guessed at.

Versions:

- **1**: goal, steps, outputs, on_failure.
- **2**: adds ``budget`` (limits that end the goal before it spends more: tokens, cost, wall
  time, steps, LLM calls; see :class:`planner.plan.PlanBudget`). Migration 1 -> 2 sets the
  version and ``budget: null`` (no limits beyond the goal's own).

To add version N+1: write ``_vN_to_vN1(data) -> data`` (pure, on a copy), add it to
``MIGRATIONS``, bump ``CURRENT_VERSION`` and the ``Plan.schema_version`` literal, add stored
examples under ``tests/data/plans/vN+1/`` and keep those of every older version
(``tests/unit/test_plan_migrations.py`` loads them all). docs/versioning.md has the procedure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CURRENT_VERSION = 2
FIRST_VERSION = 1

PlanData = dict[str, Any]


class PlanVersionError(ValueError):
    """A plan whose ``schema_version`` this code cannot read."""


def _v1_to_v2(data: PlanData) -> PlanData:
    return {**data, "schema_version": 2, "budget": data.get("budget")}


# version -> the migration from it to the next one
MIGRATIONS: dict[int, Callable[[PlanData], PlanData]] = {1: _v1_to_v2}


def plan_version(data: PlanData) -> int:
    """The version a plan's data declares (the current one when it declares none)."""
    version = data.get("schema_version", CURRENT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int):
        raise PlanVersionError(f"schema_version must be a whole number from {FIRST_VERSION} to "
                               f"{CURRENT_VERSION}, not {version!r}")
    if version > CURRENT_VERSION:
        raise PlanVersionError(
            f"schema_version {version} is newer than this JARVIS reads (up to "
            f"{CURRENT_VERSION}): upgrade JARVIS, or write the plan as version "
            f"{CURRENT_VERSION}")
    if version < FIRST_VERSION:
        raise PlanVersionError(f"schema_version {version} never existed; the first is "
                               f"{FIRST_VERSION}")
    return version


def migrate(data: PlanData) -> PlanData:
    """``data`` rewritten to the current version, one step at a time (``data`` untouched)."""
    version = plan_version(data)
    while version < CURRENT_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return data


def earliest_form(data: PlanData) -> PlanData:
    """The plan in the oldest version that holds all of it (a current-version plan with no
    budget is its version-1 form). Plan digests are taken of this form, so a plan approved
    before version 2 existed keeps its digest after it is migrated."""
    if data.get("schema_version") == 2 and data.get("budget") is None:
        return {**{k: v for k, v in data.items() if k != "budget"}, "schema_version": 1}
    return data
