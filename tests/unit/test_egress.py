"""The egress policy, caps and Idempotency-Key of the tools that open connections
(activities/net), run the way both engines run tools: through ``execute_call``.

Targets are real servers on loopback addresses; each counts the requests it received, so "refused"
means "no request reached it", not only "an error was raised".
"""

from __future__ import annotations

import asyncio
import errno
import gzip
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from activities import default_registry
from activities.execution import StepFailure, ToolRuntime, execute_call, tool_runtime
from activities.net import egress
from activities.payloads import hydrate
from planner.contracts.plan_run import ToolCall
from planner.settings import Settings
from tests.http_fixtures import LocalHTTPServer, Response

pytestmark = [pytest.mark.unit, pytest.mark.timeout(60)]

READ_TOOLS = ("fetch_page", "http_request")


def make_runtime(tmp_path: Path, allow: list[str] | None = None, **settings: Any) -> ToolRuntime:
    data = tmp_path / "data"
    return tool_runtime(Settings(data_dir=data, workspace=data / "workspace", webhook_url=None,
                                 egress_allow=allow or [], **settings), default_registry())


async def run(runtime: ToolRuntime, tool: str, args: dict[str, Any], *,
              run_key: str | None = None, attempt: int = 1) -> Any:
    call = ToolCall(step_id="s", tool=tool, args=args)
    output = (await execute_call(runtime, call, attempt, run_key=run_key)).output
    return hydrate(output, runtime.store)  # a large output comes back as a payload handle


async def fails(runtime: ToolRuntime, tool: str, args: dict[str, Any], *,
                run_key: str | None = None) -> StepFailure:
    with pytest.raises(StepFailure) as info:
        await run(runtime, tool, args, run_key=run_key)
    return info.value


def refused(failure: StepFailure) -> None:
    assert failure.type == "EgressRefused", failure
    assert failure.retryable is False


def twins(first: str, second: str) -> tuple[LocalHTTPServer, LocalHTTPServer]:
    """Started servers on two loopback addresses with the same port (a port free on the first
    address may be held on the second, by a listener or a closing client socket: try again)."""
    for _ in range(50):
        one = LocalHTTPServer(first).start()
        try:
            return one, LocalHTTPServer(second, one.port).start()
        except OSError as exc:
            one.stop()
            if exc.errno != errno.EADDRINUSE:
                raise
    raise RuntimeError(f"no port free on both {first} and {second}")


@pytest.fixture
def loopback() -> Iterator[tuple[LocalHTTPServer, LocalHTTPServer]]:
    """The same port on 127.0.0.1 and on [::1], so every loopback spelling has a listener."""
    try:
        v4, v6 = twins("127.0.0.1", "::1")
    except OSError:  # no IPv6 loopback on this machine: [::1] spellings then reach nothing
        v4, v6 = LocalHTTPServer().start(), LocalHTTPServer().start()
    try:
        for server in (v4, v6):
            server.text("/", "internal")
        yield v4, v6
    finally:
        v4.stop()
        v6.stop()


@pytest.fixture
def no_send(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """Records every request httpx would send, and fails it (nothing may go out)."""
    sent: list[httpx.Request] = []

    async def send(self: httpx.AsyncClient, request: httpx.Request, **_: Any) -> httpx.Response:
        sent.append(request)
        raise httpx.ConnectError("the test forbids connecting", request=request)

    monkeypatch.setattr(httpx.AsyncClient, "send", send)
    return sent


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[list[str]]]:
    """Host name -> successive answers (the last repeats); every lookup is logged in "calls"."""
    answers: dict[str, list[list[str]]] = {"calls": []}

    async def resolve(host: str, port: int) -> list[str]:
        answers["calls"].append([host])
        queue = answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    monkeypatch.setattr(egress, "resolve", resolve)
    return answers


# --- every spelling of loopback, with nothing allowed ----------------------------------------

LOOPBACK_SPELLINGS = [
    "http://localhost:{port}/", "http://LOCALHOST:{port}/", "http://localhost.:{port}/",
    "http://foo.localhost:{port}/", "http://127.0.0.1:{port}/", "http://127.0.0.2:{port}/",
    "http://[::1]:{port}/", "http://[0:0:0:0:0:0:0:1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/", "http://[::ffff:7f00:1]:{port}/",
    "http://[::127.0.0.1]:{port}/", "http://[64:ff9b::7f00:1]:{port}/",
    "http://[2002:7f00:1::]:{port}/",
    "http://2130706433:{port}/", "http://0x7f000001:{port}/", "http://0177.0.0.1:{port}/",
    "http://127.1:{port}/", "http://0.0.0.0:{port}/", "http://0:{port}/",
    "http://allowed.com@127.0.0.1:{port}/", "http://user:pw@localhost:{port}/",
]


@pytest.mark.parametrize("tool", READ_TOOLS)
async def test_every_loopback_spelling_is_refused(
        tmp_path: Path, loopback: tuple[LocalHTTPServer, LocalHTTPServer], tool: str) -> None:
    runtime = make_runtime(tmp_path)
    port = loopback[0].port
    for spelling in LOOPBACK_SPELLINGS:
        url = spelling.format(port=port)
        failure = await fails(runtime, tool, {"url": url, "timeout_s": 5})
        # 0177.0.0.1 is not even a URL for httpx (octal IPv4): refused as invalid input
        assert failure.type in ("EgressRefused", "ToolInputError"), (url, failure)
        assert failure.retryable is False, (url, failure)
    assert loopback[0].requests == [] and loopback[1].requests == []


async def test_refusal_names_url_address_range_and_the_setting(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    failure = await fails(runtime, "fetch_page", {"url": "http://2130706433:8080/x"})
    refused(failure)
    message = str(failure)
    for part in ("http://2130706433:8080/x", "resolves to 127.0.0.1", "loopback 127.0.0.0/8",
                 "JARVIS_EGRESS_ALLOW"):
        assert part in message, message
    mapped = str(await fails(runtime, "fetch_page", {"url": "http://[::ffff:10.1.2.3]/"}))
    assert "IPv4-mapped" in mapped and "10.1.2.3" in mapped and "10.0.0.0/8" in mapped


INTERNAL = ["169.254.169.254", "[fe80::1]", "[fe80::1%25eth0]", "10.0.0.1", "172.16.5.4",
            "192.168.1.1", "100.64.0.1", "224.0.0.1", "255.255.255.255", "192.0.2.1",
            "198.51.100.7", "203.0.113.9", "240.0.0.1", "[fc00::1]", "[fd12:3456::1]",
            "[fec0::1]", "[ff02::1]", "[::]", "[2001:db8::1]", "[64:ff9b::a9fe:a9fe]",
            "[2002:a9fe:a9fe::1]"]


@pytest.mark.parametrize("host", INTERNAL)
async def test_internal_addresses_are_refused_without_connecting(
        tmp_path: Path, no_send: list[httpx.Request], host: str) -> None:
    runtime = make_runtime(tmp_path)
    for tool in READ_TOOLS:
        started = time.monotonic()
        refused(await fails(runtime, tool, {"url": f"http://{host}/latest/meta-data/"}))
        assert time.monotonic() - started < 2
    assert no_send == []


async def test_names_are_judged_by_every_address_they_resolve_to(
        tmp_path: Path, no_send: list[httpx.Request], fake_dns: dict[str, list[list[str]]]
) -> None:
    fake_dns["metadata.test"] = [["169.254.169.254"]]
    fake_dns["mixed.test"] = [["93.184.216.34", "10.0.0.7"]]  # one public, one private
    runtime = make_runtime(tmp_path)
    refused(await fails(runtime, "fetch_page", {"url": "http://metadata.test/"}))
    failure = await fails(runtime, "http_request", {"url": "https://mixed.test/"})
    refused(failure)
    assert "10.0.0.7" in str(failure) and "private" in str(failure)
    assert no_send == []


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd",
                                 "gopher://example.com/", "http://example.com:0/",
                                 "http://example.com:70000/"])
async def test_schemes_and_ports(tmp_path: Path, no_send: list[httpx.Request], url: str) -> None:
    failure = await fails(make_runtime(tmp_path), "http_request", {"url": url})
    assert failure.retryable is False and failure.type in ("EgressRefused", "ToolInputError")
    assert no_send == []


# --- what the operator allows ----------------------------------------------------------------


@pytest.mark.parametrize("allow", [["127.0.0.1/32"], ["127.0.0.0/8"], ["127.0.0.1"]])
async def test_allowed_by_cidr_end_to_end(tmp_path: Path, allow: list[str]) -> None:
    runtime = make_runtime(tmp_path, allow)
    with LocalHTTPServer() as server:
        server.html("/page", "<html><title>Local</title><body><p>hello</p></body></html>")
        server.json("/data", {"ok": True})
        page = await run(runtime, "fetch_page", {"url": server.url("/page")})
        data = await run(runtime, "http_request", {"url": server.url("/data")})
    assert (page["title"], page["text"], page["truncated"]) == ("Local", "hello", False)
    assert data["body"] == {"ok": True}


async def test_allowed_by_host_name_end_to_end(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, ["LocalHost."])  # normalised: case and trailing dot
    with LocalHTTPServer() as server:
        server.json("/data", {"ok": True})
        server.echo("/echo")
        url = f"http://localhost:{server.port}"
        assert (await run(runtime, "http_request", {"url": url + "/data"}))["body"] == {
            "ok": True}
        page = await run(runtime, "fetch_page", {"url": f"http://localhost.:{server.port}/data"})
        assert json.loads(page["text"]) == {"ok": True}
        echoed = await run(runtime, "http_request", {"url": url + "/echo"})
        assert echoed["body"]["headers"]["host"] == f"localhost:{server.port}"
        # the name is allowed, not the address: its other spellings stay refused
        refused(await fails(runtime, "http_request", {"url": server.url("/data")}))
        assert len(server.requests) == 3


async def test_allow_entries_are_host_names_or_cidrs(tmp_path: Path,
                                                     no_send: list[httpx.Request]) -> None:
    for entry in ("localhost:11434", "http://ollama.local", "ollama.local/x"):
        failure = await fails(make_runtime(tmp_path, [entry]), "fetch_page",
                              {"url": "https://example.com/"})
        refused(failure)
        assert entry in str(failure) and "JARVIS_EGRESS_ALLOW" in str(failure)
    assert no_send == []


# --- redirects: every hop is checked ----------------------------------------------------------


def redirect(location: str, status: int = 302) -> Callable[[Any], Response]:
    return lambda _request: Response(status, b"", {"Location": location})


async def test_redirect_from_an_allowed_host_to_loopback_is_refused(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, ["localhost"])
    with LocalHTTPServer() as allowed, LocalHTTPServer("127.0.0.2") as other:
        other.text("/", "internal")
        allowed.text("/ok", "fine")
        hops = {"/to-other": other.url("/"), "/to-v6": f"http://[::1]:{allowed.port}/ok",
                "/to-ip": allowed.url("/ok"), "/to-metadata": "http://169.254.169.254/",
                "/to-self": f"http://localhost:{allowed.port}/ok", "/relative": "/ok"}
        for path, location in hops.items():
            allowed.route(path, redirect(location))
        base = f"http://localhost:{allowed.port}"
        for tool in READ_TOOLS:
            for path in ("/to-other", "/to-v6", "/to-ip", "/to-metadata"):
                failure = await fails(runtime, tool, {"url": base + path, "timeout_s": 5})
                refused(failure)
                assert f"redirect from {base}{path} to" in str(failure)
        assert other.requests == []
        assert [r.path for r in allowed.requests] == ["/to-other", "/to-v6", "/to-ip",
                                                      "/to-metadata"] * 2
        # allowed hops are followed, and the result names the final URL
        out = await run(runtime, "http_request", {"url": base + "/to-self"})
        assert (out["body"], out["url"]) == ("fine", f"{base}/ok")
        page = await run(runtime, "fetch_page", {"url": base + "/relative"})
        assert (page["text"], page["url"]) == ("fine", f"{base}/ok")


async def test_redirect_loops_end(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, ["127.0.0.1"])
    with LocalHTTPServer() as server:
        server.route("/loop", redirect("/loop"))
        failure = await fails(runtime, "fetch_page", {"url": server.url("/loop")})
        assert failure.retryable is False and "more than 5 redirects" in str(failure)
        assert len(server.requests) == 6


async def test_303_turns_a_post_into_a_get(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, ["127.0.0.1"])
    with LocalHTTPServer() as server:
        server.route("/submit", redirect("/echo", 303), ("POST",))
        server.echo("/echo")
        out = await run(runtime, "http_request", {"url": server.url("/submit"),
                                                  "method": "POST", "json_body": {"a": 1}},
                        run_key="wf/run")
        assert server.requests[0].headers["idempotency-key"] == "wf/run/s"
    assert out["body"]["method"] == "GET" and out["body"]["text"] == ""
    assert "idempotency-key" not in out["body"]["headers"]


# --- DNS pinning: the connection goes to the address that was checked ------------------------


async def test_the_checked_address_is_the_one_connected_to(
        tmp_path: Path, fake_dns: dict[str, list[list[str]]]) -> None:
    # a rebinding answer: allowed 127.0.0.2 at the check, 127.0.0.1 on any later lookup
    runtime = make_runtime(tmp_path, ["127.0.0.2/32"])
    checked, rebound = twins("127.0.0.2", "127.0.0.1")
    try:
        for server in (checked, rebound):
            server.echo("/who")
        fake_dns["rebind.test"] = [["127.0.0.2"], ["127.0.0.1"]]
        out = await run(runtime, "http_request", {"url": f"http://rebind.test:{checked.port}/who"})
        assert out["body"]["headers"]["host"] == f"rebind.test:{checked.port}"
        assert out["url"] == f"http://rebind.test:{checked.port}/who"
        assert len(checked.requests) == 1 and rebound.requests == []
    finally:
        checked.stop()
        rebound.stop()
    assert fake_dns["calls"] == [["rebind.test"]]  # one lookup, no second chance to rebind


async def test_https_goes_to_the_checked_address_with_the_name_as_sni(
        tmp_path: Path, no_send: list[httpx.Request], fake_dns: dict[str, list[list[str]]]
) -> None:
    fake_dns["pinned.test"] = [["93.184.216.34", "2606:2800:220:1::1"], ["127.0.0.1"]]
    failure = await fails(make_runtime(tmp_path), "fetch_page",
                          {"url": "https://pinned.test/a?b=1"})
    assert failure.type == "ToolError" and failure.retryable  # our send refuses to connect
    assert [str(r.url) for r in no_send] == ["https://93.184.216.34/a?b=1",
                                             "https://[2606:2800:220:1::1]/a?b=1"]
    for request in no_send:
        assert request.headers["host"] == "pinned.test"
        assert request.extensions["sni_hostname"] == "pinned.test"
    assert fake_dns["calls"] == [["pinned.test"]]


# --- caps: bytes and time ---------------------------------------------------------------------


@dataclass
class RawServer:
    """An asyncio server on 127.0.0.1 that answers every request with ``head`` and then
    ``chunks`` (each after ``delay_s``); counts the body bytes it got out before the peer left."""

    head: bytes
    chunks: Callable[[], Iterator[bytes]]
    delay_s: float = 0.0
    sent: int = 0
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.head)
            for chunk in self.chunks():
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                writer.write(chunk)
                await writer.drain()
                self.sent += len(chunk)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self.finished.set()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
async def raw() -> AsyncIterator[Callable[..., Awaitable[RawServer]]]:
    """Starts RawServers on this test's loop; closes them after the test."""
    servers: list[asyncio.Server] = []

    async def start(head: bytes, chunks: Callable[[], Iterator[bytes]],
                    delay_s: float = 0.0) -> RawServer:
        raw = RawServer(head, chunks, delay_s)
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        servers.append(server)
        raw.port = server.sockets[0].getsockname()[1]
        return raw

    yield start
    for server in servers:
        server.close()


MB = 1_000_000
CHUNK = b"a" * 65_536


def fifty_mb() -> Iterator[bytes]:
    for _ in range(50 * MB // len(CHUNK)):
        yield CHUNK


async def test_http_request_stops_reading_at_the_byte_cap(
        tmp_path: Path, raw: Callable[..., Awaitable[RawServer]]) -> None:
    server = await raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
                       fifty_mb)  # no Content-Length: only reading tells the size
    runtime = make_runtime(tmp_path, ["127.0.0.1"], http_max_bytes=MB)
    failure = await fails(runtime, "http_request", {"url": server.url()})
    assert failure.type == "ToolInputError" and failure.retryable is False
    assert f"response larger than {MB} bytes" in str(failure)
    await asyncio.wait_for(server.finished.wait(), 10)
    assert server.sent < 20 * MB, server.sent  # the cap plus socket buffers, not 50 MB


async def test_http_request_refuses_a_declared_length_over_the_cap(
        tmp_path: Path, raw: Callable[..., Awaitable[RawServer]]) -> None:
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 50000000\r\n\r\n")
    server = await raw(head, fifty_mb)
    runtime = make_runtime(tmp_path, ["127.0.0.1"], http_max_bytes=MB)
    failure = await fails(runtime, "http_request", {"url": server.url()})
    assert "response larger than 1000000 bytes" in str(failure)
    await asyncio.wait_for(server.finished.wait(), 10)
    assert server.sent < 20 * MB


async def test_fetch_page_reads_up_to_the_cap_and_says_so(
        tmp_path: Path, raw: Callable[..., Awaitable[RawServer]]) -> None:
    server = await raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
                       fifty_mb)
    runtime = make_runtime(tmp_path, ["127.0.0.1"], http_max_bytes=MB)
    page = await run(runtime, "fetch_page", {"url": server.url(), "max_chars": 3 * MB})
    assert page["truncated"] is True and len(page["text"]) == MB
    await asyncio.wait_for(server.finished.wait(), 10)
    assert server.sent < 20 * MB


async def test_a_compression_bomb_is_decoded_only_up_to_the_cap(
        tmp_path: Path, raw: Callable[..., Awaitable[RawServer]]) -> None:
    bomb = gzip.compress(b"\0" * 200 * MB, compresslevel=9)  # ~200 KB on the wire
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: " + str(len(bomb)).encode() + b"\r\n\r\n")
    runtime = make_runtime(tmp_path, ["127.0.0.1"], http_max_bytes=MB)
    server = await raw(head, lambda: iter([bomb]))
    failure = await fails(runtime, "http_request", {"url": server.url()})
    assert "response larger than 1000000 bytes" in str(failure)
    page = await run(runtime, "fetch_page", {"url": server.url(), "max_chars": 10})
    assert page["truncated"] is True and page["text"] == "\0" * 10


async def test_gzip_bodies_are_decoded(tmp_path: Path,
                                       raw: Callable[..., Awaitable[RawServer]]) -> None:
    body = gzip.compress(json.dumps({"zipped": True}).encode())
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    server = await raw(head, lambda: iter([body]))
    out = await run(make_runtime(tmp_path, ["127.0.0.1"]), "http_request", {"url": server.url()})
    assert out["body"] == {"zipped": True}


@pytest.mark.parametrize("tool", READ_TOOLS)
async def test_a_trickling_server_ends_at_the_total_timeout(
        tmp_path: Path, raw: Callable[..., Awaitable[RawServer]], tool: str) -> None:
    # one byte a second: no single read ever waits longer than the timeout
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"
    server = await raw(head, lambda: iter([b"x"] * 100), delay_s=0.5)
    runtime = make_runtime(tmp_path, ["127.0.0.1"])
    started = time.monotonic()
    failure = await fails(runtime, tool, {"url": server.url(), "timeout_s": 1.5})
    elapsed = time.monotonic() - started
    assert failure.type == "ToolError" and failure.retryable is True
    assert "timed out after 1.5s" in str(failure)
    assert 1.4 < elapsed < 3.5, elapsed


# --- Idempotency-Key --------------------------------------------------------------------------


async def test_idempotency_key_on_effects_the_same_across_attempts(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, ["127.0.0.1"])
    with LocalHTTPServer() as server:
        server.echo("/echo")
        post = {"url": server.url("/echo"), "method": "POST", "json_body": {"n": 1}}
        first = await run(runtime, "http_request", post, run_key="wf-1/run-a", attempt=1)
        second = await run(runtime, "http_request", post, run_key="wf-1/run-a", attempt=2)
        other_run = await run(runtime, "http_request", post, run_key="wf-1/run-b")
        get = await run(runtime, "http_request", {"url": server.url("/echo")},
                        run_key="wf-1/run-a")
        mine = await run(runtime, "http_request",
                         {**post, "method": "PUT", "headers": {"idempotency-key": "caller"}},
                         run_key="wf-1/run-a")
        outside = await run(runtime, "http_request", post)
    key = "idempotency-key"
    assert first["body"]["headers"][key] == second["body"]["headers"][key] == "wf-1/run-a/s"
    assert other_run["body"]["headers"][key] == "wf-1/run-b/s"
    assert key not in get["body"]["headers"]
    assert mine["body"]["headers"][key] == "caller"
    assert key not in outside["body"]["headers"]


async def test_notify_twice_with_a_key_writes_and_posts_once(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path, ["127.0.0.1"])
    with LocalHTTPServer() as server:
        sink = server.sink("/hook")
        args = {"message": "done", "webhook_url": server.url("/hook")}
        first = await run(runtime, "notify", args, run_key="wf/run", attempt=1)
        again = await run(runtime, "notify", args, run_key="wf/run", attempt=2)
        other = await run(runtime, "notify", args, run_key="wf/other")
    assert first == again and first["webhook_status"] == 204
    records = [json.loads(line) for line in
               (tmp_path / "data" / "outbox.jsonl").read_text().splitlines()]
    assert [r["idempotency_key"] for r in records] == ["wf/run/s", "wf/other/s"]
    assert [r.headers["idempotency-key"] for r in sink.received] == ["wf/run/s", "wf/other/s"]
    assert other["webhook_status"] == 204


async def test_notify_webhook_goes_through_the_egress_policy(
        tmp_path: Path, loopback: tuple[LocalHTTPServer, LocalHTTPServer]) -> None:
    port = loopback[0].port
    runtime = make_runtime(tmp_path)
    for url in (f"http://127.0.0.1:{port}/", f"http://localhost:{port}/",
                "http://169.254.169.254/hook"):
        refused(await fails(runtime, "notify", {"message": "m", "webhook_url": url}))
    configured = tool_runtime(Settings(data_dir=tmp_path / "d", webhook_url=loopback[0].url("/")),
                              default_registry())
    refused(await fails(configured, "notify", {"message": "m"}))
    assert loopback[0].requests == [] and loopback[1].requests == []
    assert not (tmp_path / "data" / "outbox.jsonl").exists()
