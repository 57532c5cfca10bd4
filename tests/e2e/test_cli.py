"""The `jarvis` command as a user runs it: real processes, real server, clear errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from agents.client import JarvisClient
from agents.devserver import free_port, port_open
from tests.e2e.clitools import assert_whole_lines
from tests.paths import ROOT

HELLO = ROOT / "examples" / "hello.json"


def jarvis(*args: str, env: dict[str, str],
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jarvis_planner.cli", *args],
                          env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture
def env(tmp_path: Path, temporal_address: str, task_queue: str) -> dict[str, str]:
    return {"JARVIS_DATA_DIR": str(tmp_path / "data"), "JARVIS_TEMPORAL_ADDRESS": temporal_address,
            "JARVIS_TASK_QUEUE": task_queue, "COLUMNS": "200"}


def write(tmp_path: Path, data: Any, name: str = "plan.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def assert_clean_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def test_malformed_json(tmp_path: Path, env: dict[str, str]) -> None:
    bad = '{"goal": "x", "steps": [\n  {"id": "a",}]}'
    proc = jarvis("validate", write(tmp_path, bad), env=env)
    assert_clean_error(proc, 2, "not valid JSON at line 2", "hint:")


def test_unknown_tool_and_cycle_and_types(tmp_path: Path, env: dict[str, str]) -> None:
    plan = {"goal": "bad", "steps": [
        {"id": "a", "tool": "calc", "args": {"expression": "${b.value}"}},
        {"id": "b", "tool": "calc", "args": {"expression": "${a.value}"}},
        {"id": "c", "tool": "raed_file", "args": {"path": "x"}},
        {"id": "d", "tool": "list_files", "args": {"recursive": "very"}},
    ]}
    path = write(tmp_path, plan)
    proc = jarvis("validate", path, env=env)
    assert proc.returncode == 2
    for needle in ("cycle", "a -> b -> a", "unknown_tool", "did you mean 'read_file'",
                   "invalid_args", "args.recursive"):
        assert needle in proc.stderr, proc.stderr
    proc = jarvis("validate", path, "--json", env=env)
    assert {p["code"] for p in json.loads(proc.stdout)} == {"cycle", "unknown_tool", "invalid_args"}
    proc = jarvis("run-plan", path, env=env)
    assert_clean_error(proc, 2, "nothing was run")
    assert not (Path(env["JARVIS_DATA_DIR"]) / "payloads").exists()


def test_path_escaping_the_workspace_fails_fast(tmp_path: Path, env: dict[str, str]) -> None:
    plan = {"goal": "escape", "steps": [
        {"id": "w", "tool": "write_file", "args": {"path": "../../evil.txt", "text": "x"}}]}
    proc = jarvis("run-plan", write(tmp_path, plan), "--json", env=env)
    assert proc.returncode == 1
    state = json.loads(proc.stdout)
    step = state["steps"][0]
    assert step["status"] == "failed" and step["attempts"] == 1
    assert "escapes the workspace" in step["error"]["message"]
    assert not (tmp_path / "evil.txt").exists()


def test_unreachable_server_falls_back_and_says_so(tmp_path: Path, env: dict[str, str]) -> None:
    env = {**env, "JARVIS_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
           "JARVIS_CONNECT_TIMEOUT_S": "1"}
    proc = jarvis("run-plan", str(HELLO), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "unreachable" in proc.stderr and "simple engine" in proc.stderr
    assert '"total": 82.76' in proc.stdout
    proc = jarvis("run-plan", str(HELLO), "--engine", "temporal", env=env)
    assert_clean_error(proc, 1, "unreachable", "jarvis up")


async def test_detach_queues_a_run_durably_when_no_worker_polls(
        env: dict[str, str], temporal_engine: JarvisClient) -> None:
    proc = jarvis("run-plan", str(HELLO), "--detach", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "queued on the Temporal server" in proc.stderr
    run_id = re.search(r"run id: (\S+)", proc.stderr).group(1)  # type: ignore[union-attr]
    # a worker that comes later picks it up: `jarvis result` waits for the outcome
    worker = subprocess.Popen([sys.executable, "-m", "jarvis_planner.cli", "worker"],
                              env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        state = await temporal_engine.plan_result(run_id)
    finally:
        worker.terminate()
        worker.wait(30)
    assert state.status == "succeeded" and state.outputs["total"] == 82.76


def test_detach_refuses_when_the_server_is_down(tmp_path: Path, env: dict[str, str]) -> None:
    env = {**env, "JARVIS_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
           "JARVIS_CONNECT_TIMEOUT_S": "1"}
    proc = jarvis("run-plan", str(HELLO), "--detach", env=env)
    assert_clean_error(proc, 1, "unreachable", "nothing was started", "jarvis up")
    assert "simple engine" not in proc.stderr
    assert not (Path(env["JARVIS_DATA_DIR"]) / "payloads").exists()
    proc = jarvis("run-plan", str(HELLO), "--detach", "--engine", "simple", env=env)
    assert_clean_error(proc, 2, "--detach needs the Temporal engine")


def test_run_status_result_list(tmp_path: Path, env: dict[str, str]) -> None:
    proc = jarvis("run-plan", str(HELLO), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "no worker polls" in proc.stderr  # ran its own worker, and said so
    run_id = re.search(r"run id: (\S+)", proc.stderr).group(1)  # type: ignore[union-attr]
    assert "82.76" in proc.stdout
    status = jarvis("status", run_id, "--json", env=env)
    state = json.loads(status.stdout)
    assert state["status"] == "succeeded" and len(state["steps"]) == 6
    assert all(s["attempts"] == 1 and s["started_at"] for s in state["steps"])
    result = jarvis("result", run_id, env=env)
    assert '"total": 82.76' in result.stdout
    listing = jarvis("list", env=env)
    assert run_id in listing.stdout
    missing = jarvis("status", "no-such-run", env=env)
    assert_clean_error(missing, 1, "no-such-run", "jarvis list")


def test_tools_and_schema(env: dict[str, str]) -> None:
    tools = json.loads(jarvis("tools", "--json", env=env).stdout)
    names = {t["name"]: t for t in tools}
    assert names["shell"]["risk"] == "dangerous"
    assert names["read_file"]["args_schema"]["required"] == ["path"]
    assert names["wait"]["kind"] == "timer"
    schema = json.loads(jarvis("schema", env=env).stdout)
    assert "steps" in schema["properties"]


def test_up_runs_the_example_and_down_stops_everything(tmp_path: Path) -> None:
    port, ui = free_port(), free_port()
    env = {"JARVIS_DATA_DIR": str(tmp_path / "embedded"), "JARVIS_TEMPORAL_ADDRESS":
           f"127.0.0.1:{port}", "JARVIS_TEMPORAL_UI_PORT": str(ui), "COLUMNS": "200",
           "JARVIS_METRICS_PORT": "0"}
    try:
        up = jarvis("up", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert (tmp_path / "embedded" / "temporal.sqlite").exists()
        metrics = re.search(r"Metrics: (http://localhost:\d+/metrics)", up.stdout)
        assert metrics, up.stdout  # port 0: a free port, chosen and printed by `jarvis up`
        run = jarvis("run-plan", str(HELLO), env=env)
        assert run.returncode == 0, run.stderr
        assert "no worker polls" not in run.stderr, "jarvis up's worker should have run it"
        with urllib.request.urlopen(metrics.group(1), timeout=5) as resp:
            exposition = resp.read().decode()
        assert "\njarvis_step_duration_seconds_count{" in exposition  # the worker ran its steps
        assert "\ntemporal_worker_task_slots_available{" in exposition  # the SDK's own series
        assert port_open("127.0.0.1", ui), "the Temporal UI should answer"
        # settings changed for the embedded stack reach a restarted worker
        first = re.search(r"worker\S* pid (\d+)", up.stdout)
        assert first, up.stdout
        restarted = jarvis("up", "--restart", env=env)
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert f"stopped worker (pid {first.group(1)})" in restarted.stdout
        second = re.search(r"worker\S* pid (\d+)", restarted.stdout)
        assert second and second.group(1) != first.group(1), restarted.stdout
        assert "already running (pid" in restarted.stdout  # the server stayed
    finally:
        down = jarvis("down", env=env)
    assert "stopped worker" in down.stdout and "stopped temporal" in down.stdout
    assert not port_open("127.0.0.1", port)


def test_config_set_get_list_unset(tmp_path: Path, env: dict[str, str]) -> None:
    config = tmp_path / "config.toml"  # the suite points JARVIS_CONFIG away from ~/.jarvis
    env = {**env, "JARVIS_CONFIG": str(config)}
    done = jarvis("config", "set", "llm_model", "qwen2.5:7b", env=env)
    assert done.returncode == 0 and "jarvis up --restart" in done.stdout, done.stderr
    assert 'llm_model = "qwen2.5:7b"' in config.read_text()
    got = jarvis("config", "get", "llm_model", env=env)
    assert "qwen2.5:7b" in got.stdout and "config.toml" in got.stdout
    jarvis("config", "set", "auto_approve", '["read-only","side-effecting"]', env=env)
    jarvis("config", "set", "llm_api_key", "sk-very-secret-value", env=env)
    listed = json.loads(jarvis("config", "list", "--json", env=env).stdout)
    assert listed["auto_approve"]["value"] == '["read-only", "side-effecting"]'
    assert listed["llm_api_key"]["value"] == "***" and listed["task_queue"]["source"] == \
        "environment JARVIS_TASK_QUEUE"
    assert_clean_error(jarvis("config", "set", "auto_approve", '["dangerous"]', env=env), 2,
                       "not a valid value")
    assert_clean_error(jarvis("config", "set", "llm_modle", "x", env=env), 2,
                       "did you mean 'llm_model'")
    assert jarvis("config", "unset", "llm_model", env=env).returncode == 0
    assert "llm_model" not in config.read_text()


def test_goals_offline_from_the_cli(tmp_path: Path, env: dict[str, str]) -> None:
    env = {**env, "JARVIS_EMBEDDING_BACKEND": "hashing"}
    listed = json.loads(jarvis("templates", "list", "--json", env=env).stdout)
    assert len(listed) >= 4 and all(not t["invalidated"] for t in listed)
    done = jarvis("run", "remember that the boiler is serviced in May", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert '"notes_count": 1' in done.stdout and "no LLM call" in done.stderr
    unplannable = jarvis("plan", "book a table for two", env=env)
    assert_clean_error(unplannable, 2)
    assert "no LLM endpoint is configured" in unplannable.stdout
    waiting = jarvis("run", "remind me to stretch in 1 seconds", env=env)
    assert waiting.returncode == 3, waiting.stderr
    goal_id = re.search(r"jarvis approve (\S+)`", waiting.stderr).group(1)  # type: ignore[union-attr]
    approved = jarvis("approve", goal_id, env=env)
    assert approved.returncode == 0, approved.stderr
    assert "approved" in approved.stdout and "succeeded" in approved.stdout
    shown = json.loads(jarvis("goal", goal_id, "--json", env=env).stdout)
    assert shown["stage"] == "succeeded"
    assert [d["action"] for d in shown["decisions"]] == ["approve"]
    again = jarvis("reject", goal_id, env=env)
    assert_clean_error(again, 1, "not awaiting approval")


def test_chat_in_the_terminal(env: dict[str, str]) -> None:
    env = {**env, "JARVIS_EMBEDDING_BACKEND": "hashing"}
    script = ("remember that the dentist is on Friday\n"
              "a\n"  # side-effecting: the chat asks before running it
              "remind me to stretch in 1 seconds\n"
              "a\n"
              "/goals\n"
              "/quit\n")
    proc = subprocess.run([sys.executable, "-m", "jarvis_planner.cli", "chat"], input=script,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("jarvis> done") == 2, proc.stdout
    assert "awaiting_approval" in proc.stdout and "step ping: succeeded" in proc.stdout
    listed = proc.stdout.rsplit("you> /goals", 1)[1]  # input is echoed when it is not a tty
    assert "remember that the dentist is on Friday" in listed  # listed by /goals
    assert_whole_lines(proc.stdout)
    for line in proc.stdout.splitlines():  # each prompt's line ends before the next output
        assert line.count(">") <= 1 or "you>" not in line or "jarvis>" not in line, line
        assert "[r]:" not in line or line.rstrip().endswith("[r]: a"), line
