"""Every example plan under examples/ validates and runs on both engines with the same result."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client

from activities.execution import tool_runtime
from agents.client import JarvisClient
from agents.simple_engine import SimpleWorkflowEngine
from agents.worker import create_worker
from planner.plan import load_plan
from planner.preparation import prepare
from planner.settings import Settings
from planner.tools import ToolRegistry
from planner.validation import validate_plan
from tests.paths import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
async def test_example_runs(path: Path, client: Client, settings: Settings,
                            registry: ToolRegistry,
                            tmp_path: Path) -> None:
    plan = load_plan(path)
    assert validate_plan(plan, {t.name: t for t in registry}) == []
    inp = prepare(plan, registry, settings)
    async with create_worker(client, settings, registry):
        temporal = await JarvisClient(client, settings).execute_plan(inp)
    other = settings.model_copy(update={"data_dir": tmp_path / "simple"})
    simple = await SimpleWorkflowEngine(tool_runtime(other, registry)).execute_plan(inp)
    assert temporal.status == simple.status == "succeeded"
    assert temporal.outputs == simple.outputs
    assert temporal.outputs and all(v is not None for v in temporal.outputs.values())
