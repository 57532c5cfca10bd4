"""What a fresh interpreter loads: workflow code loads no provider or store SDK, and the CLI
starts without the Temporal SDK (start-up times are measured by `python -m evals.startup`, not
asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("openai", "langchain_core", "chromadb", "httpx", "fastapi", "uvicorn", "mcp")


def loaded_after(statement: str) -> set[str]:
    code = (f"import sys, json\n{statement}\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", ["agents.goal_workflow", "agents.plan_workflow"])
def test_workflow_modules_load_no_provider_or_store_sdk(module: str) -> None:
    loaded = loaded_after(f"import {module}")
    assert "temporalio" in loaded  # the import did happen
    assert not loaded & set(HEAVY), f"{module} loads {sorted(loaded & set(HEAVY))}"


def test_the_domain_loads_no_sdk() -> None:
    loaded = loaded_after("import planner.validation, planner.preparation, planner.prompting, "
                          "planner.parsing, planner.rebinding, planner.contracts.events")
    assert not loaded & {*HEAVY, "temporalio"}, sorted(loaded & {*HEAVY, "temporalio"})


def test_the_cli_starts_without_the_temporal_sdk() -> None:
    loaded = loaded_after("import jarvis_planner.cli")
    assert "typer" in loaded
    assert not loaded & {*HEAVY, "temporalio", "activities", "agents"}, sorted(
        loaded & {*HEAVY, "temporalio", "activities", "agents"})
