"""MCP servers' tools as durable JARVIS tools, against real MCP servers: `mcp-server-time`
(PyPI, stdio) and tests/mcp_test_server.py (the `mcp` SDK over streamable HTTP, its own
process). Plans run on the real dev server; the HTTP server is SIGKILLed in the middle of a
step and the step's retry succeeds on a new session."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp.types import Tool as McpTool
from mcp.types import ToolAnnotations
from temporalio.client import Client

from activities import default_registry
from activities.mcp.sessions import McpSessions
from activities.mcp.tools import TEXT_OUTPUT, tool_from_mcp
from agents.client import JarvisClient
from agents.devserver import free_port, port_open, stop_process
from agents.worker import create_worker
from jarvis_planner.testing import ScriptedLLM, reply_json
from planner.contracts.goal_flow import GoalState
from planner.fingerprints import tool_fingerprint
from planner.mcp_servers import McpServer
from planner.plan import Plan
from planner.preparation import prepare
from planner.settings import Settings
from planner.tools import Risk
from planner.validation import validate_plan
from tests.processes import wait_until

TIME_SERVER = {"command": sys.executable,
               "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}


@dataclass
class HttpServer:
    """tests/mcp_test_server.py in a process of its own, restartable on the same port."""

    port: int
    gate: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.mcp_test_server", str(self.port), str(self.gate)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        for _ in range(300):
            assert self.proc.poll() is None, self.log.read_text()
            if port_open("127.0.0.1", self.port):
                return
            time.sleep(0.05)  # polling a process start
        raise AssertionError(f"the MCP test server did not listen: {self.log.read_text()}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no goodbye to the client
        self.proc.wait()


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[HttpServer]:
    gate = tmp_path / "gate"
    gate.mkdir()
    server = HttpServer(free_port(), gate, tmp_path / "mcp-server.log")
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None:
            stop_process(server.proc)


@pytest.fixture
def mcp_settings(settings: Settings, http_server: HttpServer) -> Settings:
    return settings.model_copy(update={"mcp_servers": {
        "t": McpServer(url=http_server.url, timeout_s=20),
        "time": McpServer.model_validate(TIME_SERVER)}})


def test_tools_are_listed_with_names_schemas_and_the_policy_of_their_annotations(
        mcp_settings: Settings) -> None:
    registry = default_registry(settings=mcp_settings)
    assert registry.unavailable == {}
    mcp = {t.name: t for t in registry if t.source.startswith("mcp:")}
    assert set(mcp) == {"t.lookup", "t.slow_lookup", "t.erase", "t.broken", "t.echo",
                        "time.get_current_time", "time.convert_time"}
    assert {n: t.risk for n, t in mcp.items() if n.startswith("t.")} == {
        "t.lookup": Risk.READ_ONLY, "t.slow_lookup": Risk.READ_ONLY, "t.broken": Risk.READ_ONLY,
        "t.erase": Risk.DANGEROUS, "t.echo": Risk.SIDE_EFFECTING}
    assert mcp["t.lookup"].idempotent and not mcp["t.erase"].idempotent
    assert mcp["time.get_current_time"].risk is Risk.READ_ONLY
    assert mcp["t.lookup"].activity_name == "mcp.t.lookup"
    assert not any(t.runs_local for t in mcp.values())
    lookup_out = mcp["t.lookup"].output_schema or {}
    assert set(lookup_out["properties"]) == {"city", "population", "country"}
    assert mcp["t.echo"].output_schema == TEXT_OUTPUT  # no output schema: the text
    assert mcp["t.lookup"].parse({"city": "Lyon"})
    with pytest.raises(ValueError, match="city"):
        mcp["t.lookup"].parse({"town": "Lyon"})


def test_allow_and_deny_lists_and_a_server_that_is_down(settings: Settings,
                                                       http_server: HttpServer) -> None:
    down_port = free_port()
    registry = default_registry(settings=settings.model_copy(update={"mcp_servers": {
        "t": McpServer(url=http_server.url, allow=["lookup", "erase", "echo"], deny=["erase"]),
        "gone": McpServer(url=f"http://127.0.0.1:{down_port}/mcp", connect_timeout_s=5)}}))
    assert sorted(t.name for t in registry if t.source) == ["t.echo", "t.lookup"]
    why = registry.unavailable["mcp:gone"]
    assert "MCP server 'gone' is unreachable" in why and "its tools are not offered" in why
    assert "calc" in registry  # the rest of the registry is there: the worker can start


def test_a_changed_mcp_schema_changes_the_tool_fingerprint() -> None:
    config = McpServer(url="http://127.0.0.1:1/mcp")
    sessions = McpSessions({"s": config})
    schema: dict[str, Any] = {"type": "object", "properties": {"city": {"type": "string"}},
                              "required": ["city"]}
    out: dict[str, Any] = {"type": "object", "properties": {"n": {"type": "integer"}}}
    base = McpTool(name="lookup", input_schema=schema, output_schema=out,
                   annotations=ToolAnnotations(read_only_hint=True))
    wider = base.model_copy(update={"input_schema": {
        **schema, "properties": {**schema["properties"], "year": {"type": "integer"}}}})
    other_out = base.model_copy(update={"output_schema": {
        "type": "object", "properties": {"n": {"type": "string"}}}})
    same = base.model_copy(update={"description": "reworded"})
    prints = [tool_fingerprint(tool_from_mcp("s", config, t, sessions))
              for t in (base, wider, other_out, same)]
    assert prints[0] != prints[1] and prints[0] != prints[2] and prints[0] == prints[3]


async def test_a_plan_mixing_mcp_and_built_in_tools_runs_on_temporal(
        client: Client, mcp_settings: Settings) -> None:
    registry = default_registry(settings=mcp_settings)
    plan = Plan.model_validate({"goal": "Lyon in thousands, and the day in Paris", "steps": [
        {"id": "city", "tool": "t.lookup", "args": {"city": "Lyon"}},
        {"id": "now", "tool": "time.get_current_time", "args": {"timezone": "Europe/Paris"}},
        {"id": "k", "tool": "calc", "args": {"expression": "p / 1000",
                                             "variables": {"p": "${city.population}"}}},
        {"id": "say", "tool": "t.echo",
         "args": {"text": "${city.city} (${city.country}) on ${now.day_of_week}"}}],
        "outputs": {"thousands": "${k.value}", "said": "${say.text}",
                    "tz": "${now.timezone}"}})
    assert validate_plan(plan, {t.name: t for t in registry}) == []
    wrong = plan.model_copy(update={"outputs": {"x": "${city.mayor}"}})
    problems = validate_plan(wrong, {t.name: t for t in registry})
    assert [p.code for p in problems] == ["unknown_field"], problems  # the output schema
    engine = JarvisClient(client, mcp_settings)
    async with create_worker(client, mcp_settings, registry):
        state = await engine.plan_result(await engine.start_plan(
            prepare(plan, registry, mcp_settings)))
    assert state.status == "succeeded", state.failure_report()
    assert state.outputs["thousands"] == pytest.approx(522.0)
    assert state.outputs["tz"] == "Europe/Paris"
    assert str(state.outputs["said"]).startswith("Lyon (France) on ")


async def test_an_mcp_error_fails_the_step_with_the_servers_message_at_once(
        client: Client, mcp_settings: Settings) -> None:
    registry = default_registry(settings=mcp_settings)
    plan = Plan.model_validate({"goal": "break", "steps": [
        {"id": "b", "tool": "t.broken", "args": {"reason": "test"}}]})
    engine = JarvisClient(client, mcp_settings)
    async with create_worker(client, mcp_settings, registry):
        state = await engine.plan_result(await engine.start_plan(
            prepare(plan, registry, mcp_settings)))
    assert state.status == "failed"
    step = state.steps[0]
    assert step.error is not None and step.attempts == 1  # isError: no retry
    assert step.error.type == "McpToolError"
    assert "MCP tool 't.broken' failed: Error executing tool broken" in step.error.message


async def test_a_killed_server_mid_step_and_the_retry_runs_on_a_new_session(
        client: Client, mcp_settings: Settings, http_server: HttpServer) -> None:
    registry = default_registry(settings=mcp_settings)
    plan = Plan.model_validate({"goal": "slowly", "steps": [
        {"id": "s", "tool": "t.slow_lookup", "args": {"city": "Porto"},
         "retry": {"initial_interval_s": 0.2, "max_interval_s": 0.5}}],
        "outputs": {"population": "${s.population}"}})
    engine = JarvisClient(client, mcp_settings)
    async with create_worker(client, mcp_settings, registry):
        run_id = await engine.start_plan(prepare(plan, registry, mcp_settings))
        await wait_until(lambda: (http_server.gate / "entered").exists(), 30,
                         "the step's call to reach the server")
        http_server.kill()  # in the middle of the call
        (http_server.gate / "entered").unlink()
        (http_server.gate / "open").touch()  # the next server answers at once
        http_server.start()
        state = await engine.plan_result(run_id)
    assert state.status == "succeeded", state.failure_report()
    assert state.outputs == {"population": 232_000}
    assert state.steps[0].attempts >= 2, "the first attempt died with the server"


async def test_a_destructive_mcp_tool_waits_for_review(
        client: Client, mcp_settings: Settings, scripted_llm: ScriptedLLM,
        http_server: HttpServer) -> None:
    settings = mcp_settings.model_copy(update={
        "llm_base_url": scripted_llm.base_url, "llm_api_key": "scripted-key",
        "llm_model": scripted_llm.model, "llm_timeout_s": 10.0, "embedding_backend": "hashing"})
    registry = default_registry(settings=settings)
    scripted_llm.expect(reply_json({"goal": "erase bob", "steps": [
        {"id": "gone", "tool": "t.erase", "args": {"name": "bob"}}]}),
        expects_text_in_messages="t.erase")  # the planner's catalogue lists MCP tools
    jarvis = JarvisClient(client, settings)
    async with create_worker(client, settings, registry):
        goal_id = await jarvis.submit("erase the record of bob", policy="auto-read-only")
        waiting = await jarvis.wait_for_review(goal_id)
        assert waiting.stage == "awaiting_approval", waiting.message
        assert waiting.risks == {"gone": Risk.DANGEROUS}
        await jarvis.reject(goal_id, by="test", reason="keep bob")
        assert (await jarvis.result(goal_id)).stage == "rejected"
    assert not (http_server.gate / "erased-bob").exists()


async def test_jarvis_mcp_dry_runs_show_the_risks_of_mcp_tools(mcp_settings: Settings) -> None:
    """`jarvis mcp`'s plan_goal stops before `prepare`, so it reads risks from the registry
    `jarvis plan` uses: the MCP servers' tools are in it with the policy of their annotations."""
    from jarvis_planner.mcp_server.tools import _Risks, _with_risks

    plan = Plan.model_validate({"goal": "g", "steps": [
        {"id": "now", "tool": "time.get_current_time", "args": {"timezone": "UTC"}},
        {"id": "gone", "tool": "t.erase", "args": {"name": "${now.datetime}"}},
        {"id": "sum", "tool": "calc", "args": {"expression": "1+1"}}]})
    state = await _with_risks(GoalState(goal="g", stage="planned", plan=plan),
                              _Risks(mcp_settings))
    assert state.risks == {"now": Risk.READ_ONLY, "gone": Risk.DANGEROUS,
                           "sum": Risk.READ_ONLY}
