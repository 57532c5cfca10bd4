"""Plan schema versions: a stored example of every version loads as the current version, through
every way plans are loaded, and keeps its digest and template identity."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from activities import default_registry
from activities.memory import TemplateStore
from activities.memory.embeddings import HashingEmbedder
from planner.approval import canonical, plan_digest
from planner.fingerprints import plan_fingerprints
from planner.migrations import CURRENT_VERSION, FIRST_VERSION, MIGRATIONS, migrate
from planner.plan import Plan, PlanBudget, PlanLoadError, load_plan, parse_plan
from planner.rebinding import extract_pattern, template_key
from planner.validation import validate_plan
from tests.paths import DATA

PLANS = DATA / "plans"
EXAMPLES = sorted(PLANS.glob("v*/*.json"))


def version_of(path: Path) -> int:
    return int(path.parent.name[1:])


def test_there_are_examples_of_every_version_and_a_migration_from_each_old_one() -> None:
    assert {version_of(p) for p in EXAMPLES} == set(range(FIRST_VERSION, CURRENT_VERSION + 1))
    assert set(MIGRATIONS) == set(range(FIRST_VERSION, CURRENT_VERSION))


@pytest.mark.parametrize("path", EXAMPLES, ids=[f"{p.parent.name}/{p.stem}" for p in EXAMPLES])
def test_every_stored_version_loads_as_the_current_one(path: Path) -> None:
    raw: dict[str, Any] = json.loads(path.read_text())
    plan = load_plan(path)
    assert plan.schema_version == CURRENT_VERSION
    assert validate_plan(plan, {t.name: t for t in default_registry()}) == []
    dumped = plan.model_dump(mode="json", exclude_defaults=True)
    # nothing the file said is lost: every field comes through as written
    for key, value in raw.items():
        if key != "schema_version":
            assert dumped[key] == value, key
    # the current form loads to the same plan and is not migrated again
    assert Plan.model_validate(plan.model_dump(mode="json")) == plan
    assert Plan.model_validate(dumped) == plan
    if version_of(path) == 1:
        assert plan.budget is None


def test_v1_digests_and_template_ids_survive_the_migration(tmp_path: Path) -> None:
    path = PLANS / "v1" / "invoice.json"
    plan = load_plan(path)
    # the digest an approval of this plan carried before version 2 existed: the canonical JSON
    # of the plan as version 1 dumped it (every field, defaults included)
    v1 = {"schema_version": 1, "goal": plan.goal,
          "steps": [s.model_dump(mode="json") for s in plan.steps],
          "outputs": plan.outputs, "on_failure": plan.on_failure}
    assert plan_digest(plan) == hashlib.sha256(canonical(v1)).hexdigest()
    budgeted = plan.model_copy(update={"budget": PlanBudget(max_steps=3)})
    assert plan_digest(budgeted) != plan_digest(plan)  # a budget is part of what is approved
    # a v1 plan stored as a template before the upgrade is found again under the same id
    pattern = extract_pattern(plan.goal, plan)
    store = TemplateStore(HashingEmbedder(), path=tmp_path / "chroma")
    tid = store.remember(plan.goal, plan, plan_fingerprints(plan, default_registry()))
    assert tid == "t-" + template_key(pattern, plan)[:20]
    hit = store.get(tid)
    assert hit is not None and hit.plan == plan


@pytest.mark.parametrize(("version", "says"), [
    (CURRENT_VERSION + 1, "newer than this JARVIS reads"), (0, "never existed"),
    ("2", "whole number"), (True, "whole number")])
def test_unreadable_versions_are_refused_with_what_to_do(version: object, says: str) -> None:
    text = json.dumps({"schema_version": version, "goal": "g",
                       "steps": [{"id": "a", "tool": "calc", "args": {"expression": "1"}}]})
    with pytest.raises(PlanLoadError, match=says):
        parse_plan(text, "future.json")


def test_migration_does_not_touch_its_input() -> None:
    data: dict[str, Any] = {"schema_version": 1, "goal": "g", "steps": []}
    migrated = migrate(data)
    assert data == {"schema_version": 1, "goal": "g", "steps": []}
    assert migrated["schema_version"] == CURRENT_VERSION and migrated["budget"] is None
