"""Traces over the wire: a worker process with JARVIS_OTEL_ENDPOINT exports a goal's spans over
OTLP/HTTP to a receiver process (tests/otlp_receiver.py), in the trace this process opened by
starting the goal."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents import tracing
from agents.client import JarvisClient
from agents.connection import connect
from agents.devserver import free_port, stop_process
from planner.settings import Settings
from tests.processes import wait_for_pollers, wait_until, worker_env


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[str]:
    """A running OTLP/HTTP receiver process; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.otlp_receiver", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"listening", (
            f"the OTLP receiver did not start (exit {proc.poll()})")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


def received(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/spans", timeout=5) as answer:
        spans: list[dict[str, Any]] = json.load(answer)
        return spans


async def test_a_worker_process_exports_a_goals_spans_over_otlp_http(
        settings: Settings, receiver: str, tmp_path: Path) -> None:
    settings = settings.model_copy(update={"embedding_backend": "hashing",
                                           "otel_endpoint": receiver,
                                           "otel_service_name": "jarvis-test-client"})
    env = {**worker_env(settings), "JARVIS_EMBEDDING_BACKEND": "hashing",
           "JARVIS_OTEL_ENDPOINT": receiver, "JARVIS_OTEL_SERVICE_NAME": "jarvis-test-worker",
           # batches leave only when the worker flushes at shutdown, which is what this checks
           "OTEL_BSP_SCHEDULE_DELAY": "600000"}
    with open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "jarvis_planner.cli", "worker"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
    provider = tracing.provider_for(settings)
    try:
        client = await connect(settings.temporal_address, interceptors=[tracing.install(provider)])
        jarvis = JarvisClient(client, settings)
        await wait_for_pollers(jarvis, worker)
        goal_id = await jarvis.submit("remember that the car needs new tyres in March",
                                      policy="approve-all")
        state = await jarvis.result(goal_id)
        assert state.stage == "succeeded", state.message
        provider.force_flush()
        stop_process(worker)  # SIGTERM: the worker stops polling and flushes its spans
        assert worker.returncode == 0, (tmp_path / "worker.log").read_text()[-2000:]
    finally:
        stop_process(worker)
        tracing.uninstall()
        provider.shutdown()

    def goal_spans() -> list[dict[str, Any]]:
        spans = received(receiver)
        roots = [s for s in spans if s["name"] == "StartWorkflow:jarvis.Goal"
                 and s["attributes"].get("temporalWorkflowID") == goal_id]
        return [s for s in spans if roots and s["trace_id"] == roots[0]["trace_id"]]

    await wait_until(lambda: any(s["name"] == "CompleteWorkflow:jarvis.Goal"
                                 for s in goal_spans()), timeout_s=15,
                     what="the worker's spans at the receiver")
    spans = goal_spans()
    services = {s["name"]: s["service"] for s in spans}
    assert services["StartWorkflow:jarvis.Goal"] == "jarvis-test-client"
    for name in ("RunWorkflow:jarvis.Goal", "Stage:succeeded", "RunActivity:planner.retrieve",
                 "RunActivity:tool.notes_append", "execute_tool notes_append",
                 "RunActivity:planner.remember"):
        assert services.get(name) == "jarvis-test-worker", (name, sorted(services))
    tool = next(s for s in spans if s["name"] == "execute_tool notes_append")
    assert tool["attributes"]["jarvis.outcome"] == "succeeded"
    assert tool["attributes"]["jarvis.attempt"] == 1
