"""Built-in tools, run the way both engines run them: through ``execute_call``.

HTTP goes to a real server on 127.0.0.1 (tests/http_fixtures.py); files, notes and the outbox
live in a per-test data dir.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from activities import default_registry
from activities.execution import StepFailure, ToolRuntime, execute_call, tool_runtime
from activities.payloads import HANDLE_KEY, FilePayloadStore, compact, hydrate, is_handle
from planner.approval import sign_step
from planner.contracts.plan_run import ToolCall, ToolCallResult
from planner.expr import MAX_POWER
from planner.plan import Plan, Step
from planner.preparation import DangerousStepRefused, prepare
from planner.settings import Settings
from planner.tools import Risk
from tests.http_fixtures import LocalHTTPServer, Response, http_server

__all__ = ["http_server"]  # the fixture, imported for pytest

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def tool_settings(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    # the test servers listen on loopback, which the egress policy refuses unless allowed
    return Settings(data_dir=data, workspace=data / "workspace", webhook_url=None,
                    payload_inline_limit=32_000, egress_allow=["127.0.0.1/32"])


@pytest.fixture
def runtime(tool_settings: Settings) -> ToolRuntime:
    return tool_runtime(tool_settings, default_registry())


@pytest.fixture
def workspace(runtime: ToolRuntime) -> Path:
    return Path(runtime.context.workspace)


async def call(runtime: ToolRuntime, tool: str, args: dict[str, Any], *, attempt: int = 1,
               inline_limit: int = 32_000, deferred: dict[str, Any] | None = None
               ) -> ToolCallResult:
    run = f"run-{uuid.uuid4().hex[:8]}"  # every call is another run: its own idempotency key
    grant = None
    spec = runtime.registry.get(tool)
    if spec is not None and spec.risk is Risk.DANGEROUS and runtime.approval_key:  # approved
        grant = sign_step(runtime.approval_key, "test-wf", run, Step(id="s", tool=tool, args=args))
    return await execute_call(
        runtime,
        ToolCall(step_id="s", tool=tool, args=args, inline_limit=inline_limit,
                 deferred=deferred or {}, grant=grant, template=args if grant else None),
        attempt, run_key=f"test-wf/{run}",
    )


async def run(runtime: ToolRuntime, tool: str, args: dict[str, Any]) -> Any:
    return (await call(runtime, tool, args)).output


async def fails(runtime: ToolRuntime, tool: str, args: dict[str, Any]) -> StepFailure:
    with pytest.raises(StepFailure) as info:
        await call(runtime, tool, args)
    return info.value


def assert_permanent(failure: StepFailure, type_: str = "ToolInputError") -> None:
    assert failure.type == type_, failure
    assert failure.retryable is False


def assert_transient(failure: StepFailure, type_: str = "ToolError") -> None:
    assert failure.type == type_, failure
    assert failure.retryable is True


# --- execute_call itself ----------------------------------------------------------------------


async def test_result_carries_attempt_and_timing(runtime: ToolRuntime) -> None:
    result = await call(runtime, "calc", {"expression": "1 + 1"}, attempt=3)
    assert result.output == {"expression": "1 + 1", "value": 2}
    assert result.attempt == 3
    assert result.started_at <= result.finished_at


async def test_unknown_tool_and_invalid_arguments_are_permanent(runtime: ToolRuntime) -> None:
    assert_permanent(await fails(runtime, "no_such_tool", {}), "UnknownTool")
    missing = await fails(runtime, "calc", {})
    assert_permanent(missing, "InvalidArguments")
    assert "expression" in str(missing)
    assert_permanent(await fails(runtime, "calc", {"expression": "1", "bogus": 1}),
                     "InvalidArguments")
    assert_permanent(await fails(runtime, "http_request", {"url": "http://x", "method": "BREW"}),
                     "InvalidArguments")


# --- http_request -----------------------------------------------------------------------------


async def test_http_get_json(runtime: ToolRuntime, http_server: LocalHTTPServer) -> None:
    http_server.json("/data", {"items": [1, 2, 3], "name": "demo"})
    out = await run(runtime, "http_request", {"url": http_server.url("/data")})
    assert out["status"] == 200
    assert out["body"] == {"items": [1, 2, 3], "name": "demo"}
    assert out["url"] == http_server.url("/data")
    assert out["headers"]["content-type"] == "application/json"


async def test_http_get_params_and_headers(runtime: ToolRuntime,
                                           http_server: LocalHTTPServer) -> None:
    http_server.echo("/echo")
    out = await run(runtime, "http_request", {
        "url": http_server.url("/echo"), "params": {"q": "jarvis", "n": "2"},
        "headers": {"X-Test": "yes"}})
    assert out["body"]["method"] == "GET"
    assert out["body"]["query"] == {"q": ["jarvis"], "n": ["2"]}
    assert out["body"]["headers"]["x-test"] == "yes"


async def test_http_post_echo(runtime: ToolRuntime, http_server: LocalHTTPServer) -> None:
    http_server.echo("/echo")
    payload = {"text": "héllo", "n": [1, 2], "nested": {"ok": True}}
    out = await run(runtime, "http_request", {
        "url": http_server.url("/echo"), "method": "POST", "json_body": payload})
    assert out["status"] == 200
    assert out["body"]["method"] == "POST"
    assert out["body"]["json"] == payload
    assert out["body"]["headers"]["content-type"] == "application/json"
    assert http_server.requests[-1].json() == payload


async def test_http_text_body(runtime: ToolRuntime, http_server: LocalHTTPServer) -> None:
    http_server.text("/plain", "just text")
    out = await run(runtime, "http_request", {"url": http_server.url("/plain")})
    assert out["body"] == "just text"


async def test_http_404_is_permanent(runtime: ToolRuntime, http_server: LocalHTTPServer) -> None:
    failure = await fails(runtime, "http_request", {"url": http_server.url("/missing")})
    assert_permanent(failure)
    assert "404" in str(failure)
    out = await run(runtime, "http_request",
                    {"url": http_server.url("/missing"), "fail_on_4xx": False})
    assert out["status"] == 404
    assert out["body"] == {"error": "not found"}


@pytest.mark.parametrize("status", [503, 500, 429, 408])
async def test_http_5xx_429_408_are_retryable(runtime: ToolRuntime, http_server: LocalHTTPServer,
                                              status: int) -> None:
    http_server.status("/down", status)
    failure = await fails(runtime, "http_request", {"url": http_server.url("/down")})
    assert_transient(failure)
    assert str(status) in str(failure)


async def test_http_flaky_endpoint_succeeds_on_retry(runtime: ToolRuntime,
                                                     http_server: LocalHTTPServer) -> None:
    flaky = http_server.flaky("/flaky", failures=2)
    url = http_server.url("/flaky")
    for attempt in (1, 2):  # what the retry policy does: same call, next attempt
        with pytest.raises(StepFailure) as info:
            await call(runtime, "http_request", {"url": url}, attempt=attempt)
        assert_transient(info.value)
    result = await call(runtime, "http_request", {"url": url}, attempt=3)
    assert result.output["body"] == {"ok": True}
    assert result.attempt == 3
    assert flaky.calls == 3


async def test_http_connection_refused_is_retryable(runtime: ToolRuntime) -> None:
    with LocalHTTPServer() as server:
        url = server.url("/gone")
    failure = await fails(runtime, "http_request", {"url": url, "timeout_s": 5})
    assert_transient(failure)
    assert "failed" in str(failure)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "file:///etc/passwd", "127.0.0.1/x"])
async def test_http_refuses_other_schemes(runtime: ToolRuntime, url: str) -> None:
    failure = await fails(runtime, "http_request", {"url": url})
    assert_permanent(failure, "EgressRefused")
    assert "http://" in str(failure)


# --- fetch_page -------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html><head>
  <title>Jarvis &amp; Friends</title>
  <style>body { color: red } .secret-style {}</style>
  <script>var secretScript = "do not show";</script>
</head>
<body>
  <h1>Welcome</h1>
  <p>First <b>paragraph</b> with   extra   spaces.</p>
  <script type="text/javascript">console.log("inline secret")</script>
  <noscript>enable javascript please</noscript>
  <ul><li>one</li><li>two</li></ul>
  <style>.late-style { display: none }</style>
  <p>Caf&eacute; &lt;ok&gt;</p>
</body></html>"""


async def test_fetch_page_title_and_text(runtime: ToolRuntime,
                                         http_server: LocalHTTPServer) -> None:
    http_server.html("/page", PAGE)
    out = await run(runtime, "fetch_page", {"url": http_server.url("/page")})
    assert out["status"] == 200
    assert out["title"] == "Jarvis & Friends"
    lines = out["text"].splitlines()
    assert lines == ["Welcome", "First paragraph with extra spaces.", "one", "two",
                     "Café <ok>"]
    for hidden in ("secret", "color", "console", "javascript", "display"):
        assert hidden not in out["text"]


async def test_fetch_page_max_chars_and_plain_text(runtime: ToolRuntime,
                                                   http_server: LocalHTTPServer) -> None:
    http_server.html("/page", PAGE)
    http_server.text("/notes.txt", "<b>not html</b>")
    out = await run(runtime, "fetch_page", {"url": http_server.url("/page"), "max_chars": 7})
    assert out["text"] == "Welcome"
    plain = await run(runtime, "fetch_page", {"url": http_server.url("/notes.txt")})
    assert plain["title"] == "" and plain["text"] == "<b>not html</b>"


async def test_fetch_page_errors(runtime: ToolRuntime, http_server: LocalHTTPServer) -> None:
    http_server.status("/down", 503)
    assert_permanent(await fails(runtime, "fetch_page", {"url": http_server.url("/missing")}))
    assert_transient(await fails(runtime, "fetch_page", {"url": http_server.url("/down")}))


# --- files ------------------------------------------------------------------------------------


async def test_files_round_trip(runtime: ToolRuntime, workspace: Path) -> None:
    written = await run(runtime, "write_file", {"path": "notes/today.md", "text": "héllo\n"})
    assert written == {"path": "notes/today.md", "bytes": len("héllo\n".encode())}
    assert (workspace / "notes" / "today.md").read_text(encoding="utf-8") == "héllo\n"
    await run(runtime, "write_file",
              {"path": "notes/today.md", "text": "more\n", "mode": "append"})
    read = await run(runtime, "read_file", {"path": "notes/today.md"})
    assert read["text"] == "héllo\nmore\n"
    assert read["bytes"] == len("héllo\nmore\n".encode())
    await run(runtime, "write_file", {"path": "top.txt", "text": "x"})
    await run(runtime, "write_file", {"path": "notes/today.md", "text": "replaced"})
    assert (await run(runtime, "read_file", {"path": "notes/today.md"}))["text"] == "replaced"

    listing = await run(runtime, "list_files", {})
    assert [(e["path"], e["is_dir"]) for e in listing["entries"]] == [
        ("notes", True), ("top.txt", False)]
    deep = await run(runtime, "list_files", {"recursive": True, "pattern": "*.md"})
    assert deep["count"] == 1
    assert deep["entries"][0] == {"path": "notes/today.md", "is_dir": False, "bytes": 8}
    sub = await run(runtime, "list_files", {"path": "notes"})
    assert [e["path"] for e in sub["entries"]] == ["notes/today.md"]
    assert not list(workspace.rglob("*.tmp"))  # the atomic write left nothing behind


async def test_files_missing_things_are_permanent(runtime: ToolRuntime, workspace: Path) -> None:
    assert_permanent(await fails(runtime, "read_file", {"path": "nope.txt"}))
    assert_permanent(await fails(runtime, "list_files", {"path": "nope"}))
    (workspace / "folder").mkdir()
    assert_permanent(await fails(runtime, "write_file", {"path": "folder", "text": "x"}))
    assert_permanent(await fails(runtime, "read_file", {"path": "folder"}))


@pytest.mark.parametrize("path", ["../x", "../../etc/passwd", "a/../../x", "notes/../../x"])
async def test_files_refuse_parent_escapes(runtime: ToolRuntime, workspace: Path,
                                           path: str) -> None:
    for tool, args in (("read_file", {"path": path}),
                       ("write_file", {"path": path, "text": "x"}),
                       ("list_files", {"path": path})):
        failure = await fails(runtime, tool, args)
        assert_permanent(failure)
        assert "escapes the workspace" in str(failure)
        assert str(workspace.resolve()) in str(failure)
    assert not (workspace.parent / "x").exists()


async def test_files_refuse_absolute_paths(runtime: ToolRuntime, workspace: Path) -> None:
    inside = str(workspace / "inside.txt")  # absolute even when it points inside
    for path in ("/etc/passwd", inside):
        for tool, args in (("read_file", {"path": path}),
                           ("write_file", {"path": path, "text": "x"}),
                           ("list_files", {"path": path})):
            failure = await fails(runtime, tool, args)
            assert_permanent(failure)
            assert "absolute" in str(failure)
            assert str(workspace.resolve()) in str(failure)
    assert not Path(inside).exists()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
async def test_files_refuse_symlink_escapes(runtime: ToolRuntime, workspace: Path,
                                            tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    (workspace / "linked_dir").symlink_to(outside, target_is_directory=True)
    (workspace / "linked_file.txt").symlink_to(outside / "secret.txt")
    (workspace / "dangling.txt").symlink_to(outside / "new.txt")

    attempts: list[tuple[str, dict[str, Any]]] = [
        ("read_file", {"path": "linked_dir/secret.txt"}),
        ("read_file", {"path": "linked_file.txt"}),
        ("write_file", {"path": "linked_dir/secret.txt", "text": "pwned"}),
        ("write_file", {"path": "linked_file.txt", "text": "pwned"}),
        ("write_file", {"path": "dangling.txt", "text": "pwned"}),
        ("write_file", {"path": "linked_dir/new/file.txt", "text": "pwned"}),
        ("list_files", {"path": "linked_dir"}),
    ]
    for tool, args in attempts:
        failure = await fails(runtime, tool, args)
        assert_permanent(failure)
        assert "escapes the workspace" in str(failure), (tool, args)
        assert str(workspace.resolve()) in str(failure)
    assert (outside / "secret.txt").read_text() == "top secret"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


async def test_files_symlink_inside_workspace_is_fine(runtime: ToolRuntime,
                                                      workspace: Path) -> None:
    (workspace / "real.txt").write_text("data")
    (workspace / "alias.txt").symlink_to(workspace / "real.txt")
    assert (await run(runtime, "read_file", {"path": "alias.txt"}))["text"] == "data"


# --- calc -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "variables", "value"), [
    ("1 + 2 * 3", None, 7),
    ("(1 + 2) * 3", None, 9),
    ("10 / 4", None, 2.5),
    ("10 // 3", None, 3),
    ("10 % 3", None, 1),
    ("2 ** 10", None, 1024),
    ("-3 + +1", None, -2),
    ("(a + b) * 2", {"a": 1, "b": 2.5}, 7.0),
    ("price * qty if qty > 0 else 0", {"price": 3, "qty": 4}, 12),
    ("max(a, 5, 3) + min([4, 2])", {"a": 1}, 7),
    ("round(sqrt(2), 3)", None, 1.414),
    ("1 < 2 < 3 and not false", None, True),
    ("'x' in names", {"names": ["x", "y"]}, True),
    ("len(s) + 1", {"s": "four"}, 5),
    ("sum(xs) / len(xs)", {"xs": [1, 2, 3, 4]}, 2.5),
])
async def test_calc(runtime: ToolRuntime, expression: str, variables: dict[str, Any] | None,
                    value: Any) -> None:
    args: dict[str, Any] = {"expression": expression}
    if variables is not None:
        args["variables"] = variables
    out = await run(runtime, "calc", args)
    assert out == {"expression": expression, "value": value}


@pytest.mark.parametrize(("expression", "message"), [
    ("__import__('os')", "not allowed"),
    ("__import__('os').system('echo pwned')", "not allowed"),
    ("(1).real", "not allowed"),
    ("x.__class__", "not allowed"),
    ("''.__class__.__mro__", "not allowed"),
    ("open('/etc/passwd')", "not allowed"),
    ("eval('1')", "not allowed"),
    ("(lambda: 1)()", "not allowed"),
    ("[y for y in [1, 2]]", "not allowed"),
    ("xs[0]", "not allowed"),
    ("2 ** 100000", "too large"),
    (f"10 ** ({MAX_POWER} + 1)", "too large"),
    ("2 ** -100000", "too large"),
    ("nope + 1", "unknown name"),
    ("1 / 0", "ZeroDivisionError"),
    ("1 +", "cannot parse"),
    ("1" * 3000, "longer than"),
])
async def test_calc_refusals_are_permanent(runtime: ToolRuntime, expression: str,
                                           message: str) -> None:
    failure = await fails(runtime, "calc", {"expression": expression,
                                            "variables": {"x": 1, "xs": [1]}})
    assert_permanent(failure)
    assert message in str(failure)


# --- notes ------------------------------------------------------------------------------------


async def test_notes_append_and_search(runtime: ToolRuntime, tool_settings: Settings) -> None:
    assert await run(runtime, "notes_append", {"text": "Buy milk"}) == {"count": 1}
    assert await run(runtime, "notes_append",
                     {"text": "Call Alice about the Budget", "tags": ["work"]}) == {"count": 2}
    assert await run(runtime, "notes_append",
                     {"text": "budget review friday", "tags": ["work", "urgent"]}) == {"count": 3}

    hits = await run(runtime, "notes_search", {"query": "BUDGET"})
    assert hits["count"] == 2
    assert [n["text"] for n in hits["notes"]] == ["budget review friday",  # newest first
                                                  "Call Alice about the Budget"]
    assert hits["notes"][0]["tags"] == ["work", "urgent"]
    assert (await run(runtime, "notes_search", {"query": "work urgent"}))["count"] == 1
    assert (await run(runtime, "notes_search", {"query": "milk"}))["notes"][0]["tags"] == []
    assert (await run(runtime, "notes_search", {"query": "budget", "limit": 1}))["count"] == 1
    assert (await run(runtime, "notes_search", {"query": "nothing-like-this"}))["count"] == 0
    stored = (tool_settings.data_dir / "notes.jsonl").read_text().splitlines()
    assert len(stored) == 3 and json.loads(stored[0])["text"] == "Buy milk"


async def test_notes_search_without_notes(runtime: ToolRuntime) -> None:
    assert await run(runtime, "notes_search", {"query": "x"}) == {
        "query": "x", "notes": [], "count": 0}


# --- notify -----------------------------------------------------------------------------------


async def test_notify_outbox_only(runtime: ToolRuntime, tool_settings: Settings) -> None:
    out = await run(runtime, "notify", {"message": "done"})
    assert out["webhook_status"] is None
    outbox = tool_settings.data_dir / "outbox.jsonl"
    assert out["outbox"] == str(outbox)
    record = json.loads(outbox.read_text())
    assert record["title"] == "JARVIS" and record["message"] == "done"


async def test_notify_posts_to_webhook_argument(runtime: ToolRuntime,
                                                http_server: LocalHTTPServer,
                                                tool_settings: Settings) -> None:
    sink = http_server.sink("/hook")
    out = await run(runtime, "notify", {"message": "plan finished", "title": "Report",
                                        "webhook_url": http_server.url("/hook")})
    assert out["webhook_status"] == 204
    assert len(sink.received) == 1
    request = sink.received[0]
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert body["title"] == "Report" and body["message"] == "plan finished"
    assert isinstance(body["at"], float)
    outbox = json.loads((tool_settings.data_dir / "outbox.jsonl").read_text())
    assert outbox == {**body, "webhook_status": 204}  # the same record, plus the delivery


async def test_notify_uses_configured_webhook(tmp_path: Path,
                                              http_server: LocalHTTPServer) -> None:
    sink = http_server.sink("/configured", status=200)
    settings = Settings(data_dir=tmp_path / "d", webhook_url=http_server.url("/configured"),
                        egress_allow=["127.0.0.1"])
    runtime = tool_runtime(settings, default_registry())
    out = await run(runtime, "notify", {"message": "via settings"})
    assert out["webhook_status"] == 200
    assert sink.bodies()[0]["message"] == "via settings"


async def test_notify_webhook_failures_are_retryable(runtime: ToolRuntime,
                                                     http_server: LocalHTTPServer) -> None:
    http_server.route("/broken", lambda _req: Response.json({"no": 1}, 500), ("POST",))
    failure = await fails(runtime, "notify", {"message": "m",
                                              "webhook_url": http_server.url("/broken")})
    assert_transient(failure)
    assert "500" in str(failure)
    with LocalHTTPServer() as closed:
        url = closed.url("/hook")
    assert_transient(await fails(runtime, "notify", {"message": "m", "webhook_url": url}))


# --- wait and shell ---------------------------------------------------------------------------


async def test_wait_is_a_timer_with_bounds(runtime: ToolRuntime) -> None:
    wait = runtime.registry["wait"]
    assert wait.kind == "timer"
    assert await run(runtime, "wait", {"seconds": 0}) == {"seconds": 0.0}
    assert_permanent(await fails(runtime, "wait", {"seconds": -1}), "InvalidArguments")


async def test_shell_is_dangerous(runtime: ToolRuntime, tool_settings: Settings) -> None:
    shell = runtime.registry["shell"]
    assert shell.risk is Risk.DANGEROUS
    assert shell.idempotent is False
    assert shell.retry.max_attempts == 1
    assert shell.describe()["risk"] == "dangerous"
    plan = Plan.model_validate({"goal": "g", "steps": [
        {"id": "sh", "tool": "shell", "args": {"command": "echo hi"}}]})
    with pytest.raises(DangerousStepRefused, match="sh"):
        prepare(plan, runtime.registry, tool_settings)
    assert prepare(plan, runtime.registry, tool_settings,
                   allow_dangerous=True).policies["sh"].risk == "dangerous"


async def test_shell_without_a_grant_is_refused_by_the_worker(runtime: ToolRuntime,
                                                               workspace: Path) -> None:
    args = {"command": "echo hi > made.txt"}
    for grant, run_key in ((None, "wf/run"), ("f" * 64, "wf/run"),
                           (sign_step(runtime.approval_key or b"", "wf", "run",
                                      Step(id="s", tool="shell", args=args)), "wf/other-run")):
        with pytest.raises(StepFailure) as refused:
            await execute_call(runtime, ToolCall(step_id="s", tool="shell", args=args,
                                                 grant=grant, template=args), 1, run_key=run_key)
        assert refused.value.type == "ToolRefused" and not refused.value.retryable
        assert "jarvis approve" in str(refused.value)
    assert not (workspace / "made.txt").exists()


async def test_shell_runs_in_the_workspace(runtime: ToolRuntime, workspace: Path) -> None:
    out = await run(runtime, "shell", {"command": "pwd && echo hi > made.txt"})
    assert out["exit_code"] == 0
    assert Path(out["stdout"].strip()).resolve() == workspace.resolve()
    assert (workspace / "made.txt").read_text() == "hi\n"
    failure = await fails(runtime, "shell", {"command": "echo oops >&2; exit 3"})
    assert_transient(failure)
    assert "exited 3" in str(failure) and "oops" in str(failure)
    out = await run(runtime, "shell", {"command": "exit 4", "check": False})
    assert out["exit_code"] == 4


# --- large outputs go to the payload store ----------------------------------------------------


async def test_large_output_becomes_a_payload_handle(runtime: ToolRuntime,
                                                     http_server: LocalHTTPServer,
                                                     tool_settings: Settings) -> None:
    items = [{"n": i, "text": "x" * 40} for i in range(2000)]  # ~100 KB of JSON
    http_server.json("/big", {"items": items})
    args = {"url": http_server.url("/big")}
    limit = tool_settings.payload_inline_limit

    result = await call(runtime, "http_request", args, inline_limit=limit)
    handle = result.output
    assert is_handle(handle)
    assert handle["bytes"] > limit
    assert len(json.dumps(handle)) < 1000  # what the workflow history keeps
    stored = list(tool_settings.payload_dir.rglob(f"{handle[HANDLE_KEY]}.json"))
    assert len(stored) == 1

    full = hydrate(handle, runtime.store)
    assert full["status"] == 200
    assert full["body"] == {"items": items}
    assert handle["preview"] == json.dumps(full, separators=(",", ":"),
                                           ensure_ascii=False)[:200]

    inline = await call(runtime, "http_request", args, inline_limit=10_000_000)
    assert not is_handle(inline.output)
    assert inline.output["body"] == full["body"]
    again = await call(runtime, "http_request", args, inline_limit=limit)
    assert again.output[HANDLE_KEY] == handle[HANDLE_KEY]  # content-addressed

    # a later step that references the big output gets the real values (deferred args)
    later = await call(runtime, "calc",
                       {"expression": "n * 2", "variables": {"n": "${big.body.items[1234].n}"}},
                       deferred={"big": handle})
    assert later.output == {"expression": "n * 2", "value": 2468}


async def test_small_output_stays_inline(runtime: ToolRuntime) -> None:
    result = await call(runtime, "calc", {"expression": "6 * 7"}, inline_limit=1000)
    assert result.output == {"expression": "6 * 7", "value": 42}


# --- bugs found in review, fixed; these guard against their return ----------------------------


async def test_list_files_pattern_cannot_escape(runtime: ToolRuntime, workspace: Path) -> None:
    (workspace.parent / "outside.txt").write_text("secret")
    failure = await fails(runtime, "list_files", {"pattern": "../*"})
    assert_permanent(failure)


async def test_list_files_absolute_pattern_is_permanent(runtime: ToolRuntime) -> None:
    assert_permanent(await fails(runtime, "list_files", {"pattern": "/etc/*"}))


async def test_calc_identity_comparison_is_permanent(runtime: ToolRuntime) -> None:
    assert_permanent(await fails(runtime, "calc", {"expression": "1 is 1"}))


async def test_fetch_page_with_implicit_head_end(runtime: ToolRuntime,
                                                 http_server: LocalHTTPServer) -> None:
    http_server.html("/p", "<html><head><title>T</title><body><p>hello</p></body></html>")
    out = await run(runtime, "fetch_page", {"url": http_server.url("/p")})
    assert (out["title"], out["text"]) == ("T", "hello")


async def test_http_url_without_host_is_permanent(runtime: ToolRuntime) -> None:
    assert_permanent(await fails(runtime, "http_request", {"url": "http://"}))


async def test_calc_refuses_memory_bombs(runtime: ToolRuntime) -> None:
    for expression in ("(2 ** 10000) ** 10000", "'x' * 10 ** 9", "[0] * 10 ** 9"):
        assert_permanent(await fails(runtime, "calc", {"expression": expression}))


async def test_tool_bug_validation_error_is_not_bad_arguments(
    runtime: ToolRuntime, tmp_path: Path
) -> None:
    notes = Path(runtime.context.data_dir) / "notes.jsonl"
    notes.parent.mkdir(parents=True, exist_ok=True)
    notes.write_text('{"text": "ok", "tags": [], "created_at": 1}\n{"text": \n{"tags": []}\n')
    out = await run(runtime, "notes_search", {"query": "ok"})
    assert out["count"] == 1, "unreadable lines are skipped, readable notes still found"


@pytest.mark.parametrize("value", [
    None, True, 0, -(10**18) + 1, 10**18 - 1, 10**18, -(10**40), 1.5e-308, -1.2345678901234567e300,
    float("nan"), "", "x" * 5, "\u0000" * 5, "é" * 5, "\U0001F600" * 5, "\\\"" * 3,
    "x" * 6, [1], {"a": None}])
@pytest.mark.parametrize("limit", [0, 5, 10, 31, 32, 33, 40, 1000])
def test_a_small_output_is_kept_inline_exactly_when_its_json_fits(
        value: Any, limit: int, tmp_path: Path) -> None:
    """``compact`` skips writing the JSON of a scalar or a short string (the common output)
    only where it surely fits: the same answer as measuring it."""
    store = FilePayloadStore(tmp_path)
    measured = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    out = compact(value, store, limit)
    assert is_handle(out) == (measured > limit), (value, limit, measured, out)
    if not is_handle(out):
        assert out is value
