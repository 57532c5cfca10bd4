"""Seed templates: plans shipped in ``activities/memory/seeds/*.json`` so that common goals plan
with no LLM on a fresh machine ("remember that ...", "what do my notes say about ...",
"calculate ... and save it to ...", "remind me to ... in N seconds/minutes").

Each file is ``{"goal": example goal, "plan": plan JSON}``. Seeding is idempotent: a template
already stored is only refreshed (today's tool fingerprints, valid again).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from activities.memory.store import TemplateInput, TemplateStore, tools_by_name
from planner.fingerprints import ToolLookup, plan_fingerprints
from planner.plan import Plan
from planner.validation import validate_plan

if TYPE_CHECKING:
    from planner.settings import Settings

log = logging.getLogger(__name__)

SEEDS_PACKAGE = "activities.memory"
SEEDS_FOLDER = "seeds"


@dataclass(frozen=True)
class SeedTemplate:
    name: str
    goal: str
    plan: Plan


@dataclass
class SeedReport:
    seeded: dict[str, str] = field(default_factory=dict)  # file name -> template id
    skipped: dict[str, str] = field(default_factory=dict)  # file name -> why


def open_store(settings: Settings, registry: ToolLookup | Mapping[str, Any], *,
               seed: bool = True) -> TemplateStore:
    """The template store the settings describe (embedded PersistentClient in the data dir, or
    the chroma server), with the shipped templates seeded (idempotent)."""
    store = TemplateStore.from_settings(settings)
    if seed:
        seed_templates(store, registry)
    return store


def load_seed_templates() -> list[SeedTemplate]:
    """Every ``*.json`` template shipped in ``activities/memory/seeds``, by file name."""
    out = []
    folder = resources.files(SEEDS_PACKAGE) / SEEDS_FOLDER
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".json"):
            continue
        data = json.loads(item.read_text(encoding="utf-8"))
        out.append(SeedTemplate(name=item.name.removesuffix(".json"), goal=data["goal"],
                                plan=Plan.model_validate(data["plan"])))
    return out


def seed_templates(store: TemplateStore, registry: ToolLookup | Mapping[str, Any]) -> SeedReport:
    """Store the shipped templates that are valid against ``registry`` (idempotent)."""
    tools = tools_by_name(registry)
    report = SeedReport()
    entries: list[tuple[str, TemplateInput]] = []
    for seed in load_seed_templates():
        problems = validate_plan(seed.plan, tools)
        if problems:
            report.skipped[seed.name] = "; ".join(map(str, problems))
            log.warning("seed template %s skipped: %s", seed.name, report.skipped[seed.name])
            continue
        entries.append((seed.name, TemplateInput(
            goal=seed.goal, plan=seed.plan, fingerprints=plan_fingerprints(seed.plan, tools),
            success=None, source="seed")))
    ids = store.remember_many([entry for _, entry in entries])
    report.seeded = {name: tid for (name, _), tid in zip(entries, ids, strict=True)}
    return report


__all__ = ["SeedReport", "SeedTemplate", "load_seed_templates", "open_store", "seed_templates"]
