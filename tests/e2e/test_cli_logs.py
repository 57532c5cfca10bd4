"""Logs a person can use (issue 10): `jarvis worker` logs one line per goal stage and per step
attempt (goal or run id, step, tool, attempt, duration, outcome), readable by default and JSON
lines with JARVIS_LOG_FORMAT=json, without httpx chatter or tracebacks of explained failures;
`jarvis serve` logs one line per request without query strings or headers. Also: a cancelled
run's status shows what it last reported, and a goal whose LLM kept failing says it gave up."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from agents.devserver import free_port, port_open
from jarvis_planner.testing import ScriptedLLM, reply_error
from tests.e2e.clitools import (
    HELLO,
    assert_clean_error,
    cli_env,
    command,
    found_id,
    jarvis,
    worker_process,
    write,
)
from tests.paths import ROOT

REMEMBER = "remember that the boiler is serviced in May"
HELLO_STEPS = {("net", "calc"), ("vat", "calc"), ("total", "calc"), ("save", "write_file"),
               ("pause", "wait"),  # a durable timer: no activity; the workflow logs its line
               ("check", "read_file")}
MISSING = {"goal": "read a missing file", "steps": [
    {"id": "r", "tool": "read_file", "args": {"path": "nope.txt"}}]}
LONG = {"goal": "long", "steps": [
    {"id": "a", "tool": "calc", "args": {"expression": "1 + 1"}},
    {"id": "w", "tool": "wait", "args": {"seconds": 300}, "deps": ["a"]}]}


def wait_for(predicate: Any, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def test_worker_logs_json_lines_and_a_cancelled_run_keeps_its_state(
        tmp_path: Path, temporal_address: str, task_queue: str) -> None:
    env = {**cli_env(tmp_path / "data", temporal_address, task_queue),
           "JARVIS_LOG_FORMAT": "json"}
    log = tmp_path / "worker.log"
    with worker_process(env, log):
        run_id = found_id(r"run id: (\S+)", jarvis("run-plan", str(HELLO), env=env).stderr)
        failed = jarvis("run-plan", write(tmp_path, MISSING), env=env)
        assert failed.returncode == 1, failed.stderr
        fail_id = found_id(r"run id: (\S+)", failed.stderr)
        done = jarvis("run", REMEMBER, "--yes", env=env)
        goal_id = found_id(r"goal id: (goal-\S+)", done.stderr)

        # a run cancelled while it waits: its status says so and shows what it reported
        detached = jarvis("run-plan", write(tmp_path, LONG, "long.json"), "--detach", env=env)
        long_id = found_id(r"run id: (\S+)", detached.stderr)

        def waiting() -> bool:
            state = json.loads(jarvis("status", long_id, "--json", env=env).stdout)
            return bool(state["steps"][1]["status"] == "running")

        wait_for(waiting, "the long run to wait")
        cancelled = jarvis("cancel", long_id, env=env)
        assert cancelled.returncode == 0 and f"cancellation requested for run {long_id}" in \
            cancelled.stdout
        wait_for(lambda: "was cancelled" in jarvis("status", long_id, env=env).stdout,
                 "the run to close")
        status = jarvis("status", long_id, env=env)
        assert status.returncode == 0, status.stderr
        assert f"run {long_id} was cancelled at " in status.stdout
        assert "; what it last reported:" in status.stdout
        assert "before it reported" not in status.stdout  # it had reported: a ran, w waited
        state = json.loads(jarvis("status", long_id, "--json", env=env).stdout)
        assert state["status"] == "cancelled"
        assert [(s["id"], s["status"]) for s in state["steps"]] == [("a", "succeeded"),
                                                                     ("w", "cancelled")]
        again = jarvis("cancel", long_id, env=env)
        assert_clean_error(again, 1, f"run {long_id} already finished: cancelled")

    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    steps = [r for r in records if r.get("event") == "step"]
    ok = {(r["step_id"], r["tool"]) for r in steps
          if r["workflow_id"] == run_id and r["outcome"] == "succeeded"}
    assert ok == HELLO_STEPS, steps
    for r in steps:
        assert r["attempt"] == 1 and r["duration_s"] >= 0 and r["message"].startswith(
            f"{r['workflow_id']} step {r['step_id']} ({r['tool']}) attempt 1: ")
    [miss] = [r for r in steps if r["workflow_id"] == fail_id]
    assert (miss["outcome"], miss["error_type"], miss["retryable"]) == (
        "failed", "ToolInputError", False)
    assert "no file 'nope.txt'" in miss["error"]
    assert not [r for r in records if "exception" in r], "an explained failure: no traceback"
    stages = [r["stage"] for r in records
              if r.get("event") == "goal_stage" and r["goal_id"] == goal_id]
    assert stages[0] == "retrieving" and "executing" in stages and stages[-1] == "succeeded"
    assert [r["status"] for r in records if r.get("event") == "run_status"
            and r["workflow_id"] == run_id] == ["running", "succeeded"]
    assert not [r for r in records if r["logger"].startswith(("httpx", "httpcore"))]


def test_worker_logs_text_and_a_goal_that_gave_up_says_so(
        tmp_path: Path, temporal_address: str, task_queue: str,
        scripted_llm: ScriptedLLM) -> None:
    for _ in range(5):  # the planner's 5 attempts, all rate limited
        scripted_llm.expect(reply_error(429, headers={"retry-after-ms": "10"}))
    env = {**cli_env(tmp_path / "data", temporal_address, task_queue),
           "JARVIS_LLM_BASE_URL": scripted_llm.base_url, "JARVIS_LLM_API_KEY": "scripted-key",
           "JARVIS_LLM_MODEL": scripted_llm.model}
    log = tmp_path / "worker.log"
    with worker_process(env, log):
        ran = jarvis("run-plan", str(HELLO), env=env)
        run_id = found_id(r"run id: (\S+)", ran.stderr)
        gave_up = jarvis("run", "translate the dinner menu into Klingon", "--yes", env=env)
        goal_id = found_id(r"goal id: (goal-\S+)", gave_up.stderr)
    assert gave_up.returncode == 1, gave_up.stderr
    assert "failed: gave up after 5 attempts: RateLimited (retryable)" in gave_up.stderr
    assert "try again" not in gave_up.stderr, gave_up.stderr  # nothing will: it failed for good
    shown = jarvis("goal", goal_id, env=env)
    assert "gave up after 5 attempts" in shown.stdout and "try again" not in shown.stdout

    text = log.read_text()
    assert not [line for line in text.splitlines() if line.startswith("{")], "text by default"
    assert f"{run_id} step net (calc) attempt 1: succeeded in " in text
    assert f"{goal_id} planner.draft attempt 5: failed (RateLimited, retryable)" in text
    assert f"goal {goal_id} stage failed after" in text and "gave up after 5 attempts" in text
    assert "HTTP Request:" not in text, "httpx logs each request at INFO: quieted"
    assert "Traceback" not in text and "Completing activity as failed" not in text


def test_serve_logs_one_line_per_request(tmp_path: Path, temporal_address: str,
                                         task_queue: str) -> None:
    env = {**cli_env(tmp_path / "data", temporal_address, task_queue),
           "JARVIS_LOG_FORMAT": "json"}
    port = free_port()
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen(command("serve", "--port", str(port)), cwd=ROOT,
                                env={**os.environ, **env}, stdout=stdout, stderr=stderr)
    try:
        wait_for(lambda: port_open("127.0.0.1", port), "jarvis serve to listen")
        secret = urllib.request.Request(f"http://127.0.0.1:{port}/api/info?token=SECRETQUERY",
                                        headers={"Authorization": "Bearer SECRETHEADER123"})
        try:
            urllib.request.urlopen(secret, timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200

        def logged() -> list[dict[str, Any]]:
            return [json.loads(line) for line in err.read_text().splitlines()
                    if line.startswith("{")]

        wait_for(lambda: len([r for r in logged() if r.get("event") == "request"]) >= 2,
                 "two request lines")
    finally:
        proc.terminate()
        proc.wait(60)
    requests = [(r["method"], r["path"], r["status"]) for r in logged()
                if r.get("event") == "request"]
    assert ("GET", "/api/info", 401) in requests and ("GET", "/", 200) in requests
    assert all(isinstance(r["duration_ms"], float) for r in logged()
               if r.get("event") == "request")
    assert any(r["logger"].startswith("uvicorn") for r in logged()), "uvicorn's lines too"
    assert "[redacted]" not in err.read_text(), "no line had a token to hide"
    everything = out.read_text() + err.read_text()
    assert "SECRETQUERY" not in everything and "SECRETHEADER123" not in everything
