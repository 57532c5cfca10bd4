"""The web app's JSON API against a real uvicorn, the real dev server and an in-process worker;
the `jarvis serve` command as a process; the API client, the CLI and the web app agreeing.

These tests use a dev server of their own (one per module): `JarvisClient.list` queries every
running goal on the server, and a goal whose worker is gone (another test's task queue) makes
that query wait 30 s, which would slow the goal list the page shows."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from temporalio.client import Client

from activities import default_registry
from agents.connection import connect
from agents.devserver import free_port
from agents.worker import create_worker
from jarvis_planner.api import JarvisClient
from jarvis_planner.web.app import UvicornServer, create_app, server_config
from jarvis_planner.web.security import CSP
from jarvis_planner.web.view import goal_view
from planner.contracts.goal_flow import GoalState
from planner.plan import Plan
from planner.settings import Settings
from tests.paths import ROOT
from tests.processes import private_dev_server

REMIND = "remind me to stretch in 1 seconds"  # a shipped template: wait + notify (side effect)
WAITING = "awaiting_approval"
TOKEN = "test-admin-token-0123456789"  # the admin token of the test apps (JARVIS_WEB_TOKEN)
ADMIN = {"Authorization": f"Bearer {TOKEN}"}



@pytest.fixture(scope="module")
def web_temporal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from private_dev_server(tmp_path_factory, "web-temporal")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def web_client(web_temporal: str) -> Client:
    return await connect(web_temporal)


@asynccontextmanager
async def serve_app(app: FastAPI, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """The app on a real uvicorn on a free port, in this event loop."""
    port = free_port()
    server = UvicornServer(server_config(app, host, port, "warning"), handle_signals=False)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 15
    while not server.started:
        if task.done():
            raise RuntimeError(f"uvicorn did not start: {task.exception()!r}")
        assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
        await asyncio.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


@dataclass
class Web:
    url: str
    http: httpx.AsyncClient
    jarvis: JarvisClient
    settings: Settings


@asynccontextmanager
async def web_stack(client: Client, settings: Settings) -> AsyncIterator[Web]:
    """Worker + JarvisClient + the app on uvicorn + an HTTP client for it."""
    async with create_worker(client, settings, default_registry()):
        jarvis = JarvisClient(client, settings)
        app = create_app(settings, jarvis, poll_s=0.1)
        async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=30,
                                                            headers=ADMIN) as http:
            yield Web(url, http, jarvis, settings)


def offline_settings(data_dir: Path, address: str, task_queue: str) -> Settings:
    return Settings(data_dir=data_dir, temporal_address=address, task_queue=task_queue,
                    embedding_backend="hashing", web_token=TOKEN)


@pytest.fixture
def offline(tmp_path: Path, web_temporal: str, task_queue: str) -> Settings:
    return offline_settings(tmp_path / "data", web_temporal, task_queue)


@pytest.fixture
async def web(web_client: Client, offline: Settings) -> AsyncIterator[Web]:
    async with web_stack(web_client, offline) as stack:
        yield stack


async def wait_stage(http: httpx.AsyncClient, goal_id: str, stages: set[str],
                     timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        resp = await http.get(f"/api/goals/{goal_id}")
        assert resp.status_code == 200, resp.text
        state: dict[str, Any] = resp.json()
        if state["stage"] in stages:
            return state
        assert time.monotonic() < deadline, f"stage {state['stage']}, wanted {stages}"
        await asyncio.sleep(0.1)


async def submit_waiting(http: httpx.AsyncClient, goal: str = REMIND) -> tuple[str, dict[str, Any]]:
    resp = await http.post("/api/goals", json={"goal": goal})
    assert resp.status_code == 201, resp.text
    goal_id: str = resp.json()["id"]
    state = await wait_stage(http, goal_id, {WAITING})
    return goal_id, state


def with_steps(plan: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {**plan, "steps": steps}


async def test_invalid_edits_are_refused_with_problems_then_approval_runs(web: Web) -> None:
    http = web.http
    goal_id, state = await submit_waiting(http)
    plan = state["plan"]
    assert [s["id"] for s in plan["steps"]] == ["pause", "ping"]
    assert state["risks"] == {"pause": "read-only", "ping": "side-effecting"}
    steps = plan["steps"]

    cyclic = [{**steps[0], "deps": ["ping"]}, steps[1]]
    digest = state["plan_digest"]
    resp = await http.post(f"/api/goals/{goal_id}/edit",
                           json={"plan": with_steps(plan, cyclic), "note": "loop",
                                 "plan_digest": digest})
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert [p["code"] for p in body["problems"]] == ["cycle"]
    assert "edit refused" in body["error"] and body["hint"]

    unknown = [steps[0], {**steps[1], "tool": "send_carrier_pigeon"}]
    resp = await http.post(f"/api/goals/{goal_id}/edit", json={"plan": with_steps(plan, unknown),
                                                                "plan_digest": digest})
    assert resp.status_code == 422
    assert resp.json()["problems"][0]["code"] == "unknown_tool"
    assert resp.json()["problems"][0]["step_id"] == "ping"

    malformed = [{**steps[0], "id": "not an id!"}, steps[1]]
    resp = await http.post(f"/api/goals/{goal_id}/edit", json={"plan": with_steps(plan, malformed),
                                                                "plan_digest": digest})
    assert resp.status_code == 422
    body = resp.json()
    assert body["problems"][0]["code"] == "invalid_plan"
    assert body["problems"][0]["location"] == "steps.0.id"

    after = (await http.get(f"/api/goals/{goal_id}")).json()
    assert after["stage"] == WAITING and after["plan"] == plan and after["decisions"] == []
    pending = (await http.get("/api/goals", params={"pending": "true"})).json()
    assert goal_id in [g["id"] for g in pending]
    resp = await http.get(f"/api/goals/{goal_id}/timeline.svg")
    assert resp.status_code == 404 and "none of its steps ran" in resp.json()["error"]

    resp = await http.post(f"/api/goals/{goal_id}/approve",
                           json={"note": "fine", "plan_digest": digest[:12]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["decisions"][-1]["action"] == "approve"
    final = await wait_stage(http, goal_id, {"succeeded", "failed"})
    assert final["stage"] == "succeeded", final["message"]
    assert [s["status"] for s in final["run"]["steps"]] == ["succeeded", "succeeded"]
    assert final["run"]["outputs"]["outbox"].endswith("outbox.jsonl")
    assert [(d["action"], d["by"], d["reason"]) for d in final["decisions"]] == [
        ("approve", "web:admin", "fine")]

    again = await http.post(f"/api/goals/{goal_id}/approve", json={"plan_digest": digest})
    assert again.status_code == 409
    assert "not awaiting approval" in again.json()["error"] and again.json()["hint"]
    svg = await http.get(f"/api/goals/{goal_id}/timeline.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert 'data-step="pause"' in svg.text and 'data-status="succeeded"' in svg.text
    listed = {g["id"]: g for g in (await http.get("/api/goals", params={"limit": 50})).json()}
    assert listed[goal_id]["stage"] == "succeeded" and listed[goal_id]["goal"] == REMIND


async def test_valid_edit_then_reject(web: Web) -> None:
    http = web.http
    goal_id, state = await submit_waiting(http)
    plan = state["plan"]
    steps = [plan["steps"][0], {**plan["steps"][1],
                                "args": {**plan["steps"][1]["args"], "message": "drink water"}}]
    resp = await http.post(f"/api/goals/{goal_id}/edit",  # `by` is not for the body to say
                           json={"plan": with_steps(plan, steps), "note": "water", "by": "alice",
                                 "plan_digest": state["plan_digest"]})
    assert resp.status_code == 200, resp.text
    edited = resp.json()
    assert edited["stage"] == WAITING
    assert edited["plan"]["steps"][1]["args"]["message"] == "drink water"

    resp = await http.post(f"/api/goals/{goal_id}/reject", json={"reason": "not now"})
    assert resp.status_code == 200, resp.text
    final = await wait_stage(http, goal_id, {"rejected"})
    assert final["run"] is None and "not now" in final["message"]
    assert [(d["action"], d["by"]) for d in final["decisions"]] == [("edit", "web:admin"),
                                                                    ("reject", "web:admin")]
    resp = await http.post(f"/api/goals/{goal_id}/edit",
                           json={"plan": plan, "plan_digest": edited["plan_digest"]})
    assert resp.status_code == 409
    resp = await http.post(f"/api/goals/{goal_id}/cancel", json={})
    assert resp.status_code == 409 and "nothing to cancel" in resp.json()["error"]
    assert not (web.settings.data_dir / "outbox.jsonl").exists()
    listed = {g["id"]: g for g in (await http.get("/api/goals", params={"limit": 50})).json()}
    assert listed[goal_id]["stage"] == "rejected"


async def test_cancel_a_waiting_goal(web: Web) -> None:
    http = web.http
    goal_id, _ = await submit_waiting(http)
    resp = await http.post(f"/api/goals/{goal_id}/cancel", json={})
    assert resp.status_code == 200 and resp.json() == {"id": goal_id, "cancelled": True}
    deadline = time.monotonic() + 20
    while (gone := await http.get(f"/api/goals/{goal_id}")).status_code == 200:
        assert time.monotonic() < deadline, gone.text
        await asyncio.sleep(0.1)
    assert gone.status_code == 410 and "cancelled or terminated" in gone.json()["error"]
    events = await http.get(f"/api/goals/{goal_id}/events")
    assert events.status_code == 410
    listed = {g["id"]: g for g in (await http.get("/api/goals")).json()}
    assert listed[goal_id]["stage"] == "canceled"  # the workflow status: no final goal state


async def read_events(resp: httpx.Response) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    kind, data = "message", ""
    async for line in resp.aiter_lines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            yield kind, json.loads(data)
            kind, data = "message", ""


async def test_event_stream_follows_review_and_execution(web: Web) -> None:
    http = web.http
    resp = await http.post("/api/goals", json={"goal": REMIND})
    goal_id = resp.json()["id"]
    seen: list[tuple[str, str, str | None, str | None]] = []
    async with http.stream("GET", f"/api/goals/{goal_id}/events") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for kind, data in read_events(stream):
            seen.append((kind, data["stage"], data["step_id"], data["status"]))
            assert data["kind"] == kind and data["state"]["goal"] == REMIND
            if kind == "stage" and data["stage"] == WAITING:
                assert data["state"]["plan"]["steps"][1]["tool"] == "notify"
                # decide while the stream is open: it carries on with the execution
                approved = await http.post(
                    f"/api/goals/{goal_id}/approve",
                    json={"plan_digest": data["state"]["plan_digest"]})
                assert approved.status_code == 200
    kinds = [k for k, *_ in seen]
    assert "plan" in kinds and kinds[-1] == "done" and seen[-1][1] == "succeeded"
    assert ("decision", "approve") in {(k, s) for k, _, _, s in seen}
    steps = {(step, status) for k, _, step, status in seen if k == "step"}
    assert {("pause", "succeeded"), ("ping", "succeeded")} <= steps
    stages = [stage for k, stage, *_ in seen if k == "stage"]
    assert stages.index(WAITING) < stages.index("executing") < stages.index("succeeded")

    # a finished goal's stream replays its whole event log, the same as seen live, and ends
    async with http.stream("GET", f"/api/goals/{goal_id}/events") as stream:
        replay = [kind async for kind, _ in read_events(stream)]
    assert replay == kinds and replay[0] == "stage" and replay[-1] == "done"


async def test_openapi_errors_and_security_headers(web: Web) -> None:
    http = web.http
    doc = (await http.get("/openapi.json")).json()
    paths = doc["paths"]
    for path, methods in {
        "/api/goals": {"get", "post"}, "/api/goals/{goal_id}": {"get"},
        "/api/goals/{goal_id}/approve": {"post"}, "/api/goals/{goal_id}/reject": {"post"},
        "/api/goals/{goal_id}/edit": {"post"}, "/api/goals/{goal_id}/cancel": {"post"},
        "/api/goals/{goal_id}/events": {"get"}, "/api/goals/{goal_id}/timeline.svg": {"get"},
        "/api/info": {"get"},
    }.items():
        assert methods <= set(paths[path]), path
    assert "text/event-stream" in paths["/api/goals/{goal_id}/events"]["get"]["responses"]["200"][
        "content"]
    assert {"GoalPage", "GoalView", "Plan", "ErrorOut", "EditBody"} <= set(
        doc["components"]["schemas"])
    docs = await http.get("/docs")  # Swagger UI from this server: no CDN, no inline script
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    assert "http" not in docs.text.replace('"/openapi.json"', "")  # every address is local
    assert docs.text.count("<script") == docs.text.count('<script src="/static/') == 2
    assert docs.headers["content-security-policy"] == CSP
    for asset in ("/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css",
                  "/static/docs/init.js", "/static/docs/docs.css"):
        served = await http.get(asset)
        assert served.status_code == 200 and served.content, asset
    assert (await http.get("/static/swagger-ui/index.html")).status_code == 404
    assert (await http.get("/redoc")).status_code == 404  # it would load ReDoc from a CDN

    page = await http.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    html = page.text
    assert html.count("<script") == html.count('<script src="/static/') == 1, "no inline script"
    for asset in ("/static/js/main.js", "/static/app.css", "/favicon.svg"):
        assert (await http.get(asset)).status_code == 200, asset
    modules = sorted((ROOT / "jarvis_planner" / "web" / "static" / "js").glob("*.js"))
    assert len(modules) >= 5, "the page is native ES modules"
    for module in modules:  # every module the page loads: JavaScript, no HTML injection
        served = await http.get(f"/static/js/{module.name}")
        assert served.status_code == 200, module.name
        assert "javascript" in served.headers["content-type"], module.name  # module scripts
        script = served.text
        assert "innerHTML" not in script and "insertAdjacentHTML" not in script, module.name
        assert "eval(" not in script and "document.write" not in script, module.name

    info = (await http.get("/api/info")).json()
    assert info["temporal_ui"] == f"http://localhost:{web.settings.temporal_ui_port}"
    assert info["namespace"] == "default"
    assert (info["user"], info["admin"]) == ("admin", True)
    assert info["planner_attempts"] == 5

    missing = await http.get("/api/goals/goal-nope-00000000")
    assert missing.status_code == 404 and missing.json()["error"] == "no such goal"
    assert missing.json()["hint"]
    assert (await http.get("/api/nothing-here")).json()["error"] == "Not Found"
    bad = await http.post("/api/goals", json={"goal": ""})
    assert bad.status_code == 422 and bad.json()["problems"][0]["location"] == "goal"
    as_form = await http.post("/api/goals", data={"goal": "remember that forms are refused"})
    assert as_form.status_code == 415 and "JSON" in as_form.json()["error"]
    cross = await http.post("/api/goals", json={"goal": "remember that x"},
                            headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403 and "cross-origin" in cross.json()["error"]
    same = await http.post("/api/goals", json={"goal": "remember that the API works",
                                               "yes": True}, headers={"Origin": web.url})
    assert same.status_code == 201
    final = await wait_stage(http, same.json()["id"], {"succeeded", "failed"})
    assert final["stage"] == "succeeded" and final["decisions"][0]["reason"].startswith("pre-app")
    listed = {g["id"]: g for g in (await http.get("/api/goals")).json()}[same.json()["id"]]
    assert listed["group"] == "succeeded" == final["view"]["group"]
    assert listed["short_id"] == same.json()["id"][-8:]


async def test_app_connects_by_itself(offline: Settings) -> None:
    """Without a client, `create_app` connects at startup (it starts no worker)."""
    async with serve_app(create_app(offline)) as url, httpx.AsyncClient(
            base_url=url, headers=ADMIN) as http:
        assert (await http.get("/api/goals/goal-nope-00000000")).status_code == 404
        assert (await http.get("/api/info")).json()["task_queue"] == offline.task_queue


def cli(*args: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JARVIS_DATA_DIR": str(settings.data_dir),
           "JARVIS_TEMPORAL_ADDRESS": settings.temporal_address,
           "JARVIS_TASK_QUEUE": settings.task_queue, "JARVIS_EMBEDDING_BACKEND": "hashing",
           "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "jarvis_planner.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


async def three_views(web: Web, goal_id: str) -> tuple[dict[str, Any], ...]:
    api = (await web.jarvis.state(goal_id)).model_dump(mode="json")
    proc = await asyncio.to_thread(cli, "goal", goal_id, "--json", settings=web.settings)
    assert proc.returncode == 0, proc.stderr
    from_cli = json.loads(proc.stdout)
    from_web = (await web.http.get(f"/api/goals/{goal_id}")).json()
    view = from_web.pop("view")  # the web adds what the page shows, derived from the state
    assert view == goal_view(GoalState.model_validate(api)).model_dump(mode="json")
    return api, from_cli, from_web


async def test_api_client_cli_and_web_agree(web: Web) -> None:
    """Submitted through the web API, edited through the Python API client, approved through
    the CLI: all three report the same stage, plan and decisions at every point."""
    goal_id, state = await submit_waiting(web.http)
    plan = Plan.model_validate(state["plan"])
    data = plan.model_dump(mode="json")
    data["steps"][1]["args"]["message"] = "Reminder: all three agree"
    await web.jarvis.edit(goal_id, Plan.model_validate(data), state["plan_digest"],
                          by="api-client", note="reword")

    api, from_cli, from_web = await three_views(web, goal_id)
    assert api["stage"] == from_cli["stage"] == from_web["stage"] == WAITING
    assert api["plan"] == from_cli["plan"] == from_web["plan"] == data
    assert api["decisions"] == from_cli["decisions"] == from_web["decisions"]
    assert [d["action"] for d in api["decisions"]] == ["edit"]
    assert api == from_cli == from_web

    proc = await asyncio.to_thread(cli, "approve", goal_id, settings=web.settings)
    assert proc.returncode == 0, proc.stderr
    assert "note: no worker polls" not in proc.stderr, "the test's worker serves the CLI too"
    await web.jarvis.result(goal_id)

    api, from_cli, from_web = await three_views(web, goal_id)
    assert api["stage"] == from_cli["stage"] == from_web["stage"] == "succeeded"
    assert [d["action"] for d in from_web["decisions"]] == ["edit", "approve"]
    assert from_web["decisions"][1]["by"].startswith("cli")
    assert api == from_cli == from_web
    outbox = (web.settings.data_dir / "outbox.jsonl").read_text()
    assert "all three agree" in outbox


def test_jarvis_serve_runs_the_app_with_its_own_worker(offline: Settings, tmp_path: Path
                                                       ) -> None:
    """`python -m jarvis_planner.cli.serve` (the `jarvis serve` command before registration): no
    worker polls its task queue, so it runs one; it makes a token (0600) and prints it once
    with a login link; goals submitted over HTTP with it complete; SIGINT stops it cleanly."""
    port = free_port()
    env = {**os.environ, "JARVIS_DATA_DIR": str(offline.data_dir),
           "JARVIS_TEMPORAL_ADDRESS": offline.temporal_address,
           "JARVIS_TASK_QUEUE": offline.task_queue, "JARVIS_EMBEDDING_BACKEND": "hashing"}
    log = tmp_path / "serve.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "jarvis_planner.cli.serve",
                                 "--port", str(port), "--log-level", "warning"],
                                env=env, cwd=ROOT, stdout=fh,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    token_file = offline.data_dir / "web-token"
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    if http.get("/api/info").status_code == 401:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            token = token_file.read_text().strip()
            assert token_file.stat().st_mode & 0o777 == 0o600 and len(token) >= 40
            http.headers["Authorization"] = f"Bearer {token}"
            assert http.get("/api/info").json()["user"] == "admin"
            goal_id = http.post("/api/goals",
                                json={"goal": "remember that the web app serves"}).json()["id"]
            state: dict[str, Any] = {}
            while time.monotonic() < deadline + 30:
                state = http.get(f"/api/goals/{goal_id}").json()
                if state["stage"] == WAITING:
                    assert http.post(f"/api/goals/{goal_id}/approve", json={
                        "plan_digest": state["plan_digest"]}).status_code == 200
                if state["stage"] in ("succeeded", "failed"):
                    break
                time.sleep(0.2)
            assert state["stage"] == "succeeded", state
        text = log.read_text()
        assert "running one in this process" in text and f":{port}" in text
        assert text.count(token) == 2, "the token, then the login link"
        assert f"http://localhost:{port}/#token={token}" in text
        busy = subprocess.run([sys.executable, "-m", "jarvis_planner.cli.serve",
                               "--port", str(port)],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert busy.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in busy.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0, log.read_text()
    notes = (offline.data_dir / "notes.jsonl").read_text()
    assert "the web app serves" in notes
