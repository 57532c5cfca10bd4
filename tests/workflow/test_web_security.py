"""The web app against the attacks it must stand: DNS rebinding (a page of another name that
resolves to this address), requests without or with a wrong token, forged and expired session
cookies, a `by` in a body, one person reaching another's goals, guessing tokens, and floods of
requests and event streams. A real uvicorn, the real dev server (one per module, as in
test_web.py) and one worker for the module; each test has its own app, data dir and users."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from temporalio.client import Client

from activities import default_registry
from agents.connection import connect
from agents.worker import create_worker
from jarvis_planner.api import JarvisClient
from jarvis_planner.web.app import create_app
from jarvis_planner.web.auth import COOKIE, SESSION_S, Authenticator, Identity
from jarvis_planner.web.security import allowed_hosts, host_name
from jarvis_planner.web.tokens import AdminToken, UserStore
from planner.contracts.goal_flow import GoalInput
from planner.contracts.names import GOAL_WORKFLOW
from planner.settings import Settings
from tests.processes import private_dev_server
from tests.workflow.test_web import (
    ADMIN,
    REMIND,
    TOKEN,
    WAITING,
    offline_settings,
    serve_app,
    submit_waiting,
    wait_stage,
)

EVIL = "evil.example"
PUBLIC_API = {"/api/login", "/api/logout"}
NOTE = "remember that the security tests ran"  # a shipped template: one read-only note


@pytest.fixture(scope="module")
def sec_temporal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from private_dev_server(tmp_path_factory)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sec_client(sec_temporal: str) -> Client:
    return await connect(sec_temporal)


@pytest.fixture(scope="module")
def sec_queue() -> str:
    return f"sec-{uuid.uuid4().hex[:10]}"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def worker(sec_client: Client, sec_temporal: str, sec_queue: str,
                 tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[None]:
    """One worker for the module: goals left waiting by one test never stall another's list."""
    settings = offline_settings(tmp_path_factory.mktemp("sec-worker"), sec_temporal, sec_queue)
    async with create_worker(sec_client, settings, default_registry()):
        yield


@dataclass
class Site:
    url: str
    app: FastAPI
    jarvis: JarvisClient
    settings: Settings
    tokens: dict[str, str]  # user -> token: admin (the admin token), alice, bob, carol (admin)
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def new_http(site: Site, user: str | None = "admin", **headers: str) -> httpx.AsyncClient:
    """A client of the site: with ``user``'s token as a bearer, or none; closed with it."""
    if user is not None:
        headers["Authorization"] = f"Bearer {site.tokens[user]}"
    http = httpx.AsyncClient(base_url=site.url, timeout=30, headers=headers)
    site.stack.push_async_callback(http.aclose)
    return http


@asynccontextmanager
async def site_for(client: Client, settings: Settings, **options: Any) -> AsyncIterator[Site]:
    store = UserStore.of(settings)
    tokens = {"admin": TOKEN, **{name: store.add(name, admin=name == "carol")
                                 for name in ("alice", "bob", "carol")}}
    app = create_app(settings, JarvisClient(client, settings), poll_s=0.1, **options)
    async with serve_app(app) as url:
        site = Site(url, app, app.state.jarvis, settings, tokens)
        async with site.stack:
            yield site


@pytest.fixture
def sec_settings(tmp_path: Path, sec_temporal: str, sec_queue: str) -> Settings:
    return offline_settings(tmp_path / "data", sec_temporal, sec_queue)


@pytest.fixture
async def site(worker: None, sec_client: Client, sec_settings: Settings) -> AsyncIterator[Site]:
    async with site_for(sec_client, sec_settings) as s:
        yield s


def cookie_of(resp: httpx.Response) -> str:
    header = resp.headers["set-cookie"]
    assert header.startswith(f"{COOKIE}="), header
    return header.split(";", 1)[0].split("=", 1)[1]


# -- DNS rebinding -------------------------------------------------------------------------
async def test_a_rebinding_host_is_refused_even_with_a_valid_token(site: Site) -> None:
    """A page on evil.example, whose name now resolves to 127.0.0.1, is same-origin with
    itself: its Origin matches its Host, its requests reach this server with the admin's
    token (say, a cookie the attacker cannot see but a browser would send on a name it
    trusts). Only the Host name betrays it."""
    admin = new_http(site)
    goal_id, state = await submit_waiting(admin)
    rebound = f"{EVIL}:{site.port}"
    evil = new_http(site, "admin", Host=rebound, Origin=f"http://{rebound}")

    resp = await evil.get("/api/goals")
    assert resp.status_code == 421, resp.text
    body = resp.json()
    assert EVIL in body["error"] and "JARVIS_WEB_ALLOWED_HOSTS" in body["hint"]
    assert resp.headers["content-security-policy"]  # the refusal carries the headers too
    resp = await evil.post(f"/api/goals/{goal_id}/approve",
                           json={"plan_digest": state["plan_digest"]})
    assert resp.status_code == 421, resp.text
    for path in ("/", "/static/js/main.js", "/favicon.svg", "/docs", "/openapi.json",
                 f"/api/goals/{goal_id}", f"/api/goals/{goal_id}/events", "/api/info"):
        assert (await evil.get(path)).status_code == 421, path
    login = await evil.post("/api/login", json={"token": TOKEN})
    assert login.status_code == 421 and "set-cookie" not in login.headers
    no_host = await evil.get("/api/goals", headers={"Host": ""})
    assert no_host.status_code == 421

    after = (await admin.get(f"/api/goals/{goal_id}")).json()
    assert after["stage"] == WAITING and after["decisions"] == [], "nothing was approved"
    for host in (f"localhost:{site.port}", f"127.0.0.1:{site.port}", f"[::1]:{site.port}",
                 "LOCALHOST"):
        assert (await admin.get("/api/info", headers={"Host": host})).status_code == 200, host
    await admin.post(f"/api/goals/{goal_id}/cancel", json={})


async def test_allowed_hosts_come_from_the_setting_and_the_bind_address(
        sec_client: Client, sec_settings: Settings) -> None:
    assert host_name("Jarvis.Example.com.:8443") == "jarvis.example.com"
    assert host_name("[::1]:8080") == "[::1]" and host_name("::1") == "[::1]"
    assert allowed_hosts(["localhost"], "0.0.0.0") == {"localhost"}
    assert allowed_hosts(["localhost"], "::") == {"localhost"}
    assert allowed_hosts([], "fd00::7") == {"[fd00::7]"}

    settings = sec_settings.model_copy(update={"web_allowed_hosts": ["jarvis.example.com"]})
    app = create_app(settings, JarvisClient(sec_client, settings), bind_host="10.0.0.7")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=ADMIN,
                                 base_url="http://jarvis.example.com") as http:
        assert (await http.get("/api/info")).json()["user"] == "admin"
        assert (await http.get("/api/info", headers={"Host": "10.0.0.7:8080"})
                ).status_code == 200
        for refused in ("localhost:8080", "127.0.0.1", "0.0.0.0:8080", "jarvis.example.com.evil"):
            resp = await http.get("/api/info", headers={"Host": refused})
            assert resp.status_code == 421, refused


# -- authentication ------------------------------------------------------------------------
async def test_every_api_route_needs_a_token(site: Site) -> None:
    admin = new_http(site)
    goal_id, _ = await submit_waiting(admin)
    anonymous = new_http(site, None)
    paths = (await anonymous.get("/openapi.json")).json()["paths"]
    checked = set()
    for path, methods in paths.items():
        if not path.startswith("/api") or path in PUBLIC_API:
            continue
        for method in methods:
            url = path.replace("{goal_id}", goal_id)
            body = {} if method == "post" else None
            resp = await anonymous.request(method.upper(), url, json=body)
            assert resp.status_code == 401, (method, path, resp.text)
            assert resp.json()["error"] == "not logged in" and "Bearer" in resp.json()["hint"]
            assert resp.headers["www-authenticate"] == "Bearer"
            checked.add((method, path))
    assert {("get", "/api/goals"), ("post", "/api/goals"), ("get", "/api/info"),
            ("post", "/api/goals/{goal_id}/approve"), ("get", "/api/goals/{goal_id}/events"),
            ("post", "/api/goals/{goal_id}/cancel")} <= checked
    assert len(checked) >= 10
    assert set(paths) - {p for _, p in checked} == PUBLIC_API, "only login and logout are open"
    assert (await anonymous.get("/api/not-a-route")).status_code == 401

    for headers in ({"Authorization": "Bearer not-the-token-at-all"},
                    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN},
                    {"Cookie": f"{COOKIE}=garbage"}):
        for method, url in (("GET", "/api/goals"), ("GET", f"/api/goals/{goal_id}"),
                            ("POST", f"/api/goals/{goal_id}/reject")):
            resp = await anonymous.request(method, url, json={} if method == "POST" else None,
                                           headers=headers)
            assert resp.status_code == 401, (headers, url)
    for public in ("/", "/static/js/main.js", "/static/app.css", "/favicon.svg",
                   "/openapi.json"):
        assert (await anonymous.get(public)).status_code == 200, public
    state = (await admin.get(f"/api/goals/{goal_id}")).json()
    assert state["stage"] == WAITING and state["decisions"] == []
    assert (await admin.get("/api/goals")).status_code == 200  # the bearer token works
    await admin.post(f"/api/goals/{goal_id}/cancel", json={})


async def test_login_sets_a_strict_http_only_cookie_that_works_then_logout(site: Site) -> None:
    browser = new_http(site, None)
    wrong = await browser.post("/api/login", json={"token": "x" * 43})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    resp = await browser.post("/api/login", json={"token": TOKEN})
    assert resp.status_code == 200 and resp.json() == {"user": "admin", "admin": True}
    attributes = [a.strip().lower() for a in resp.headers["set-cookie"].split(";")]
    assert {"httponly", "samesite=strict", "path=/", f"max-age={SESSION_S}"} <= set(attributes)
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back
    assert (await browser.get("/api/info")).json()["user"] == "admin"
    created = await browser.post("/api/goals", json={"goal": NOTE, "yes": True})
    assert created.status_code == 201, created.text
    final = await wait_stage(browser, created.json()["id"], {"succeeded", "failed"})
    assert final["decisions"][0]["by"] == "web:admin"

    # behind a TLS proxy (uvicorn trusts X-Forwarded-Proto from 127.0.0.1): Secure
    proxied = await new_http(site, None, **{"X-Forwarded-Proto": "https"}).post(
        "/api/login", json={"token": site.tokens["alice"]})
    assert proxied.json() == {"user": "alice", "admin": False}
    assert "secure" in [a.strip().lower() for a in proxied.headers["set-cookie"].split(";")]

    out = await browser.post("/api/logout", json={})
    assert out.status_code == 200 and "max-age=0" in out.headers["set-cookie"].lower()
    assert (await browser.get("/api/info")).status_code == 401
    assert COOKIE not in browser.cookies


async def test_tampered_expired_and_foreign_cookies_are_refused(site: Site) -> None:
    login = await new_http(site, None).post("/api/login", json={"token": site.tokens["alice"]})
    cookie = cookie_of(login)
    payload, mac = cookie.split(".")

    async def as_cookie(value: str) -> int:
        http = new_http(site, None, Cookie=f"{COOKIE}={value}")
        return (await http.get("/api/info")).status_code

    assert await as_cookie(cookie) == 200
    auth = Authenticator(AdminToken(TOKEN, None, False), UserStore.of(site.settings))
    admin_cookie = auth.session(Identity("admin", True))
    assert await as_cookie(admin_cookie) == 200  # the forge below signs like the server
    admin_payload = admin_cookie.split(".")[0]
    assert await as_cookie(f"{admin_payload}.{mac}") == 401  # alice's MAC on admin's name
    flipped = mac[:-2] + ("A" if mac[-2] != "A" else "B") + mac[-1]
    assert await as_cookie(f"{payload}.{flipped}") == 401
    assert await as_cookie(f"{payload}.") == 401 and await as_cookie(payload) == 401
    expired = auth.session(Identity("admin", True), now=time.time() - SESSION_S - 60)
    assert await as_cookie(expired) == 401
    other_key = Authenticator(AdminToken("another-admin-token-xyz", None, False),
                              UserStore.of(site.settings))
    assert await as_cookie(other_key.session(Identity("admin", True))) == 401

    UserStore.of(site.settings).remove("alice")  # a removed user's sessions end with them
    assert await as_cookie(cookie) == 401


# -- identity and ownership ----------------------------------------------------------------
async def test_a_by_in_a_body_is_ignored_decisions_record_the_identity(site: Site) -> None:
    alice = new_http(site, "alice")
    resp = await alice.post("/api/goals", json={"goal": REMIND, "by": "mallory"})
    goal_id = resp.json()["id"]
    assert await site.jarvis.owner(goal_id) == "web:alice"
    state = await wait_stage(alice, goal_id, {WAITING})
    plan = state["plan"]
    plan["steps"][1]["args"]["message"] = "Reminder: who decides?"
    edited = await alice.post(f"/api/goals/{goal_id}/edit", json={
        "plan": plan, "plan_digest": state["plan_digest"], "by": "mallory"})
    assert edited.status_code == 200, edited.text
    approved = await alice.post(f"/api/goals/{goal_id}/approve", json={
        "plan_digest": edited.json()["plan_digest"], "by": "mallory", "note": "mine"})
    assert approved.status_code == 200, approved.text
    final = await wait_stage(alice, goal_id, {"succeeded", "failed"})
    assert [(d["action"], d["by"]) for d in final["decisions"]] == [
        ("edit", "web:alice"), ("approve", "web:alice")]

    rejected_id, _ = await submit_waiting(alice)
    resp = await alice.post(f"/api/goals/{rejected_id}/reject", json={"by": "admin"})
    assert [d["by"] for d in resp.json()["decisions"]] == ["web:alice"]
    pre = await alice.post("/api/goals", json={"goal": NOTE, "yes": True, "by": "admin"})
    done = await wait_stage(alice, pre.json()["id"], {"succeeded", "failed"})
    assert done["decisions"][0]["by"] == "web:alice"  # the pre-approval: the submitter


async def test_people_see_and_decide_only_their_own_goals(site: Site) -> None:
    alice, bob, carol = (new_http(site, name) for name in ("alice", "bob", "carol"))
    goal_id, state = await submit_waiting(bob)
    digest = state["plan_digest"]
    nowhere = await alice.get("/api/goals/goal-that-does-not-exist-0000")
    assert nowhere.status_code == 404

    hidden = await alice.get(f"/api/goals/{goal_id}")
    assert hidden.status_code == 404 and hidden.json() == nowhere.json(), "ids do not leak"
    for method, tail, body in (
            ("GET", "/events", None), ("GET", "/timeline.svg", None),
            ("POST", "/approve", {"plan_digest": digest}), ("POST", "/reject", {}),
            ("POST", "/edit", {"plan": state["plan"], "plan_digest": digest}),
            ("POST", "/cancel", {})):
        resp = await alice.request(method, f"/api/goals/{goal_id}{tail}", json=body)
        assert resp.status_code == 404 and resp.json() == nowhere.json(), (tail, resp.text)
    for params in ({}, {"pending": "true"}, {"limit": "200"}):
        listed = [g["id"] for g in (await alice.get("/api/goals", params=params)).json()]
        assert goal_id not in listed, params
    assert goal_id in [g["id"] for g in (await bob.get("/api/goals")).json()]
    assert (await bob.get(f"/api/goals/{goal_id}")).json()["decisions"] == []

    # goals no web user submitted (the CLI, the Python API, or before owners were recorded)
    by_cli = await site.jarvis.submit(NOTE, dry_run=True, by="cli:someone")
    unowned = f"goal-unowned-{uuid.uuid4().hex[:8]}"
    await site.jarvis.temporal.start_workflow(
        GOAL_WORKFLOW, GoalInput(goal=NOTE, dry_run=True), id=unowned,
        task_queue=site.settings.task_queue, memo={"goal": NOTE})
    assert await site.jarvis.owner(unowned) is None
    for other in (by_cli, unowned):
        assert (await alice.get(f"/api/goals/{other}")).status_code == 404
        assert (await carol.get(f"/api/goals/{other}")).status_code == 200
    everyone = [g["id"] for g in (await carol.get("/api/goals", params={"limit": 50})).json()]
    assert {goal_id, by_cli, unowned} <= set(everyone)

    approved = await carol.post(f"/api/goals/{goal_id}/approve", json={"plan_digest": digest})
    assert approved.status_code == 200, approved.text
    final = await wait_stage(bob, goal_id, {"succeeded", "failed"})
    assert [(d["action"], d["by"]) for d in final["decisions"]] == [("approve", "web:carol")]


# -- guessing tokens -----------------------------------------------------------------------
async def test_failed_logins_and_bearer_guesses_are_rate_limited(site: Site) -> None:
    browser = new_http(site, None)
    kept = new_http(site, None)
    assert (await kept.post("/api/login", json={"token": TOKEN})).status_code == 200
    for attempt in range(10):
        resp = await browser.post("/api/login", json={"token": f"guess-{attempt:02d}-xxxxxxxx"})
        assert resp.status_code == 401, attempt
    locked = await browser.post("/api/login", json={"token": "guess-10-xxxxxxxx"})
    assert locked.status_code == 429 and "failed logins" in locked.json()["error"]
    assert 1 <= int(locked.headers["retry-after"]) <= 60
    right = await browser.post("/api/login", json={"token": TOKEN})
    assert right.status_code == 429, "no token is checked while locked out"
    assert (await new_http(site).get("/api/goals")).status_code == 429  # bearer: same address
    assert (await kept.get("/api/info")).status_code == 200  # a session already open stays

    failures = site.app.state.failures
    later = time.monotonic() + 61
    failures.clock = lambda: later  # the window has passed
    assert (await browser.post("/api/login", json={"token": TOKEN})).status_code == 200

    # bearer guesses count too, per client address
    app = create_app(site.settings, site.jarvis)

    def client(address: str) -> httpx.AsyncClient:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 4000)),
                                 base_url="http://localhost")
        site.stack.push_async_callback(http.aclose)
        return http

    guesser, neighbour = client("10.9.9.9"), client("10.9.9.8")
    for attempt in range(10):
        resp = await guesser.get("/api/info", headers={"Authorization": f"Bearer g{attempt}"})
        assert resp.status_code == 401
    resp = await guesser.get("/api/info", headers=ADMIN)
    assert resp.status_code == 429 and resp.headers["retry-after"]
    assert (await neighbour.get("/api/info", headers=ADMIN)).status_code == 200


# -- back-pressure -------------------------------------------------------------------------
async def test_requests_beyond_the_cap_get_429_with_retry_after(
        worker: None, sec_client: Client, sec_settings: Settings) -> None:
    async with site_for(sec_client, sec_settings, max_requests=2) as s:
        arrived: list[int] = []
        both_in, release = asyncio.Event(), asyncio.Event()

        @s.app.get("/api/test-hold", include_in_schema=False)
        async def hold() -> dict[str, bool]:  # held open until the test lets go
            arrived.append(1)
            if len(arrived) == 2:
                both_in.set()
            await release.wait()
            return {"held": True}

        admin = new_http(s)
        held = [asyncio.create_task(admin.get("/api/test-hold")) for _ in range(2)]
        await asyncio.wait_for(both_in.wait(), 20)
        busy = await admin.get("/api/goals")
        assert busy.status_code == 429 and busy.headers["retry-after"] == "1"
        assert "requests are in flight" in busy.json()["error"] and busy.json()["hint"]
        assert (await admin.get("/")).status_code == 200  # the page is not an API request
        release.set()
        assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
        deadline = time.monotonic() + 10
        while (again := await admin.get("/api/goals")).status_code == 429:
            assert time.monotonic() < deadline, "the slots were never given back"
            await asyncio.sleep(0.05)
        assert again.status_code == 200 and s.app.state.in_flight.requests == 0


async def test_event_streams_beyond_the_cap_get_429_with_retry_after(
        worker: None, sec_client: Client, sec_settings: Settings) -> None:
    async with site_for(sec_client, sec_settings, max_streams=2) as s:
        admin = new_http(s)
        goal_id, _ = await submit_waiting(admin)
        url = f"/api/goals/{goal_id}/events"
        async with AsyncExitStack() as streams:
            for _ in range(2):
                resp = await streams.enter_async_context(admin.stream("GET", url))
                assert resp.status_code == 200
                lines = resp.aiter_lines()
                assert (await anext(lines)).startswith("retry:")  # open and streaming
            assert s.app.state.in_flight.streams == 2
            busy = await admin.get(url)
            assert busy.status_code == 429 and busy.headers["retry-after"] == "1"
            assert "event streams are open" in busy.json()["error"]
            assert (await admin.get(f"/api/goals/{goal_id}")).status_code == 200
        deadline = time.monotonic() + 10
        while s.app.state.in_flight.streams:  # uvicorn sees the disconnects
            assert time.monotonic() < deadline, "closed streams still count"
            await asyncio.sleep(0.05)
        async with admin.stream("GET", url) as resp:
            assert resp.status_code == 200
        await admin.post(f"/api/goals/{goal_id}/cancel", json={})
