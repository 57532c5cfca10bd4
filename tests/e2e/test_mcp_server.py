"""`jarvis mcp` driven by the `mcp` client library, as an MCP client (a desktop assistant, an
IDE) would: over stdio (the server a subprocess of the client) and over streamable HTTP with a
token. A real worker process runs the goals on the session's dev server; the goal is a shipped
template with a side effect, so no LLM is needed and the goal waits for review."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from agents.devserver import free_port, port_open
from jarvis_planner.testing import ScriptedLLM, reply_json
from jarvis_planner.web.tokens import USERS_FILE, UserStore
from tests.e2e.clitools import cli_env, command, worker_process
from tests.paths import ROOT

REMIND = "remind me to stretch in 1 seconds"
TOKEN = "mcp-test-token-0123456789abcdef"
READ_ONLY = {"plan_goal", "goal_state", "pending_goals"}


@pytest.fixture
def env(tmp_path: Path, temporal_address: str, task_queue: str) -> Iterator[dict[str, str]]:
    env = {**cli_env(tmp_path / "data", temporal_address, task_queue),
           "JARVIS_WEB_TOKEN": TOKEN}
    with worker_process(env, tmp_path / "worker.log"):
        yield env


def call_json(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict), result
    return result.structured_content


def error_text(result: Any) -> str:
    assert result.is_error, result
    return " ".join(getattr(c, "text", "") for c in result.content)


async def review_and_approve(session: ClientSession, by: str) -> None:
    """Tools and annotations; a goal that waits for review, a stale version refused, approval,
    the result."""
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) == READ_ONLY | {"run_goal", "approve", "reject", "cancel"}
    for name, tool in tools.items():
        assert tool.annotations is not None and tool.output_schema is not None, name
        assert tool.annotations.read_only_hint is (name in READ_ONLY), name
    assert tools["cancel"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert tools["cancel"].annotations.idempotent_hint is True  # type: ignore[union-attr]
    assert tools["approve"].annotations.destructive_hint is False  # type: ignore[union-attr]
    assert tools["run_goal"].input_schema["properties"]["goal"]["maxLength"] == 4000
    assert "plan_digest" in tools["approve"].input_schema["required"]
    too_long = await session.call_tool("run_goal", {"goal": "x" * 4001})
    assert "4000" in error_text(too_long)

    waiting = call_json(await session.call_tool("run_goal", {"goal": REMIND}))
    goal_id = waiting["goal_id"]
    assert waiting["stage"] == "awaiting_approval" and waiting["waiting_for_review"], waiting
    assert {s["risk"] for s in waiting["steps"]} >= {"side-effecting"}, waiting
    assert waiting["decisions"] == [] and not waiting["outputs"]
    pending = call_json(await session.call_tool("pending_goals", {}))
    assert goal_id in [g["goal_id"] for g in pending["goals"]], pending

    stale = await session.call_tool("approve", {"goal_id": goal_id, "plan_digest": "0" * 16})
    assert "changed since it was read" in error_text(stale)
    assert call_json(await session.call_tool("goal_state", {"goal_id": goal_id}))[
        "stage"] == "awaiting_approval"  # the refusal decided nothing

    done = call_json(await session.call_tool("approve", {
        "goal_id": goal_id, "plan_digest": waiting["plan_digest"], "note": "ok"}))
    assert done["stage"] == "succeeded", done
    assert done["decisions"][0].startswith(f"approve by {by} at"), done
    assert all(s["status"] == "succeeded" for s in done["steps"]), done
    state = call_json(await session.call_tool("goal_state", {"goal_id": goal_id}))
    assert state["stage"] == "succeeded" and state["outputs"] == done["outputs"]
    again = await session.call_tool("reject", {"goal_id": goal_id})
    assert "not awaiting approval" in error_text(again)
    unknown = await session.call_tool("goal_state", {"goal_id": "goal-no-such"})
    assert "no workflow with id 'goal-no-such'" in error_text(unknown)


@asynccontextmanager
async def stdio_session(env: dict[str, str]) -> AsyncIterator[ClientSession]:
    """`jarvis mcp` as a subprocess of the MCP client, as a desktop assistant starts it."""
    params = StdioServerParameters(command=sys.executable, args=command("mcp")[1:],
                                   env={**os.environ, **env}, cwd=ROOT)
    with open(os.devnull, "w") as quiet:
        async with stdio_client(params, errlog=quiet) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            yield session


async def test_mcp_over_stdio(env: dict[str, str]) -> None:
    async with stdio_session(env) as session:
        planned = call_json(await session.call_tool("plan_goal", {"goal": REMIND}))
        assert planned["stage"] == "planned" and planned["plan_digest"], planned
        assert [s["tool"] for s in planned["steps"]] and all(
            s["risk"] and not s["status"] for s in planned["steps"]), planned  # none ran
        await review_and_approve(session, f"mcp:{getpass.getuser()}")
        # cancel: a second goal, waiting, is cancelled; cancelling again is harmless
        waiting = call_json(await session.call_tool("run_goal", {"goal": REMIND,
                                                                 "wait_s": 30}))
        first = call_json(await session.call_tool("cancel", {"goal_id": waiting["goal_id"]}))
        assert first == {"goal_id": waiting["goal_id"], "cancel_requested": True,
                         "status": "canceled"}
        second = call_json(await session.call_tool("cancel", {"goal_id": waiting["goal_id"]}))
        assert second["cancel_requested"] is False and second["status"] == "canceled"
        gone = await session.call_tool("goal_state", {"goal_id": waiting["goal_id"]})
        assert "cancelled" in error_text(gone)


@asynccontextmanager
async def mcp_http(env: dict[str, str], log: Path) -> AsyncIterator[str]:
    port = free_port()
    with open(log, "ab") as fh:
        proc = subprocess.Popen(command("mcp", "--port", str(port)), env={**os.environ, **env},
                                cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", port):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(30)


INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}}}
JSON_HEADERS = {"Accept": "application/json, text/event-stream"}


async def test_mcp_over_http(env: dict[str, str], tmp_path: Path) -> None:
    users = UserStore(tmp_path / "data" / USERS_FILE)
    bob, carol = users.add("bob"), users.add("carol", admin=True)
    async with mcp_http(env, tmp_path / "mcp.log") as url:
        async with httpx.AsyncClient(timeout=30) as raw:
            bearer = {**JSON_HEADERS, "Authorization": f"Bearer {TOKEN}"}
            assert (await raw.post(url, json=INIT, headers=JSON_HEADERS)).status_code == 401
            wrong = {**JSON_HEADERS, "Authorization": "Bearer not-the-token-at-all-0000"}
            assert (await raw.post(url, json=INIT, headers=wrong)).status_code == 401
            foreign = await raw.post(url, json=INIT,
                                     headers={**bearer, "Origin": "http://evil.example"})
            assert foreign.status_code == 403, foreign.text
            rebound = await raw.post(url, json=INIT, headers={**bearer, "Host": "evil.example"})
            assert rebound.status_code == 421, rebound.text
            assert (await raw.post(url, json=INIT, headers=bearer)).status_code == 200
            # the tools act on every goal: a web user who may see only their own is refused
            as_bob = {**JSON_HEADERS, "Authorization": f"Bearer {bob}"}
            assert (await raw.post(url, json=INIT, headers=as_bob)).status_code == 401
            as_carol = {**JSON_HEADERS, "Authorization": f"Bearer {carol}"}
            assert (await raw.post(url, json=INIT, headers=as_carol)).status_code == 200

        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"},
                                      timeout=httpx2.Timeout(60, read=120)) as http, \
                streamable_http_client(url, http_client=http) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            await review_and_approve(session, "mcp:admin")  # the admin token's holder


SHELL_GOAL = "Leave a marker file in the workspace"
SHELL_PLAN = {"goal": SHELL_GOAL, "steps": [
    {"id": "touch", "tool": "shell", "args": {"command": "echo ran > marker.txt"}}]}


async def test_dangerous_steps_are_approved_over_mcp_only_when_the_server_allows(
        tmp_path: Path, temporal_address: str, task_queue: str,
        scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(SHELL_PLAN))
    env = {**cli_env(tmp_path / "data", temporal_address, task_queue),
           "JARVIS_LLM_BASE_URL": scripted_llm.base_url, "JARVIS_LLM_API_KEY": "scripted-key",
           "JARVIS_LLM_MODEL": scripted_llm.model}
    with worker_process(env, tmp_path / "worker.log"):
        async with stdio_session(env) as session:
            waiting = call_json(await session.call_tool("run_goal", {"goal": SHELL_GOAL}))
            goal_id = waiting["goal_id"]
            assert waiting["stage"] == "awaiting_approval", waiting
            assert [s["risk"] for s in waiting["steps"]] == ["dangerous"]
            refused = await session.call_tool("approve", {
                "goal_id": goal_id, "plan_digest": waiting["plan_digest"]})
            assert ("has dangerous steps (touch); approving dangerous steps over MCP is off: "
                    f"approve them with `jarvis approve {goal_id}` or in the web app"
                    ) in error_text(refused)
            still = call_json(await session.call_tool("goal_state", {"goal_id": goal_id}))
            assert still["stage"] == "awaiting_approval" and still["decisions"] == []
            rejected = call_json(await session.call_tool("reject", {"goal_id": goal_id,
                                                                    "reason": "no shell"}))
            assert rejected["stage"] == "rejected", rejected
        marker = tmp_path / "data" / "workspace" / "marker.txt"
        assert not marker.exists()
        # the server's operator may allow it: the approval then signs the step's grant
        scripted_llm.expect(reply_json(SHELL_PLAN))
        async with stdio_session({**env, "JARVIS_MCP_APPROVE_DANGEROUS": "true"}) as session:
            waiting = call_json(await session.call_tool("run_goal", {"goal": SHELL_GOAL}))
            done = call_json(await session.call_tool("approve", {
                "goal_id": waiting["goal_id"], "plan_digest": waiting["plan_digest"][:8]}))
            assert done["stage"] == "succeeded", done
        assert marker.read_text().strip() == "ran"
