"""`jarvis schedule ...` as a person runs it: a real worker process, a real dev server, the
scripted LLM server (strict: a call nobody scripted fails the test). A schedule is reviewed
once, when it is created; its runs execute the approved plan with no LLM call. Waits are on the
schedule's recent actions and the goals' results, never on sleeps."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client

from agents.client import JarvisClient
from agents.schedules import ScheduleView
from jarvis_planner.testing import ScriptedLLM, reply_json
from planner.plan import Plan
from planner.settings import Settings
from tests.e2e.clitools import (
    Terminal,
    assert_clean_error,
    assert_whole_lines,
    cli_env,
    command,
    jarvis,
    worker_process,
    write,
)
from tests.paths import ROOT
from tests.plans import TEA_GOAL as GOAL
from tests.plans import TEA_PLAN as PLAN
from tests.processes import wait_until


@pytest.fixture
def env(tmp_path: Path, temporal_address: str, task_queue: str,
        scripted_llm: ScriptedLLM) -> dict[str, str]:
    return {**cli_env(tmp_path / "data", temporal_address, task_queue),
            "JARVIS_LLM_BASE_URL": scripted_llm.base_url, "JARVIS_LLM_API_KEY": "scripted-key",
            "JARVIS_LLM_MODEL": scripted_llm.model}


@pytest.fixture
def worker(env: dict[str, str], tmp_path: Path) -> Iterator[None]:
    with worker_process(env, tmp_path / "worker.log"):
        yield


@pytest.fixture
async def api(client: Client, settings: Settings) -> AsyncIterator[JarvisClient]:
    """The test's own client (same server and task queue as the CLI) to wait on results."""
    yield JarvisClient(client, settings)


def no_tty(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`jarvis ARGS` with nobody at a terminal (stdin is not one)."""
    return subprocess.run(command(*args), env={**os.environ, **env}, text=True, timeout=120,
                          cwd=ROOT, capture_output=True, stdin=subprocess.DEVNULL)


async def runs(api: JarvisClient, sid: str, count: int) -> ScheduleView:
    seen: dict[str, ScheduleView] = {}

    async def started() -> bool:
        seen["view"] = await api.describe_schedule(sid)
        return seen["view"].actions >= count

    await wait_until(started, what=f"{count} run(s) of {sid}")
    return seen["view"]


async def test_schedule_lifecycle(env: dict[str, str], worker: None, tmp_path: Path,
                                  api: JarvisClient, scripted_llm: ScriptedLLM) -> None:
    """The goal is planned by the LLM once, at creation (one scripted reply); its runs call it
    no more (the strict server would fail the test on any further call)."""
    sid = f"sched-tea-{uuid.uuid4().hex[:6]}"
    refused = no_tty("schedule", "create", "--plan", write(tmp_path, PLAN), "--cron",
                     "0 8 * * *", "--id", sid, env=env)
    assert_clean_error(refused, 1, "approve it here", "--yes")

    scripted_llm.expect(reply_json(PLAN), expects_text_in_messages="Green tea is calming")
    made = jarvis("schedule", "create", GOAL, "--cron", "0 8 * * *", "--id", sid,
                  "--deadline", "30m", "--overlap", "buffer_one", "--jitter", "1s",
                  "--catchup-window", "10m", "--yes", "--json", env=env)
    assert made.returncode == 0, made.stderr
    assert scripted_llm.calls == 1
    assert "write_file" in made.stderr, "the plan approved is shown"
    created = json.loads(made.stdout)
    assert created["id"] == sid and created["next_runs"] and created["source"] == "llm"
    assert Plan.model_validate(created["plan"]) == Plan.model_validate(PLAN)
    assert created["deadline_s"] == 1800 and created["overlap"] == "buffer_one"
    assert created["jitter_s"] == 1 and created["catchup_window_s"] == 600
    assert created["approved_by"].startswith("cli:")

    assert jarvis("schedule", "trigger", sid, env=env).returncode == 0
    goal_id = (await runs(api, sid, 1)).recent[0].goal_id
    assert goal_id.startswith(f"goal-{sid}-")
    final = await api.result(goal_id)
    assert final.stage == "succeeded" and final.source == "schedule" and final.usage.calls == 0

    shown = jarvis("schedule", "describe", sid, env=env)
    assert shown.returncode == 0, shown.stderr
    assert goal_id in shown.stdout and "succeeded" in shown.stdout
    assert "next runs:" in shown.stdout and "deadline per goal 1800s" in shown.stdout
    assert_whole_lines(shown.stdout)
    status = jarvis("status", goal_id, env=env)  # a scheduled goal is a goal like any other
    assert status.returncode == 0 and "succeeded" in status.stdout, status.stderr

    async def in_list() -> bool:
        return sid in {v.id for v in await api.list_schedules()}

    await wait_until(in_list, what="the schedule in the server's listing")
    listed = [s for s in json.loads(jarvis("schedule", "list", "--json", env=env).stdout)
              if s["id"] == sid]
    assert listed and listed[0]["last_outcome"] == "succeeded" and listed[0]["next_runs"]

    assert jarvis("schedule", "pause", sid, "--note", "on holiday", env=env).returncode == 0
    paused = json.loads(jarvis("schedule", "describe", sid, "--json", env=env).stdout)
    assert paused["paused"] and paused["note"] == "on holiday"
    assert jarvis("schedule", "resume", sid, env=env).returncode == 0
    assert not (await api.describe_schedule(sid)).paused

    await api.trigger_schedule(sid)  # a second run: still no LLM call
    second = (await runs(api, sid, 2)).recent[-1].goal_id
    assert (await api.result(second)).stage == "succeeded"
    assert scripted_llm.calls == 1, "a scheduled run called the LLM"

    assert jarvis("schedule", "delete", sid, env=env).returncode == 0
    gone = jarvis("schedule", "describe", sid, env=env)
    assert_clean_error(gone, 1, f"no schedule with id '{sid}'", "jarvis schedule list")


async def test_interactive_approval_and_backfill(env: dict[str, str], worker: None,
                                                 tmp_path: Path, api: JarvisClient) -> None:
    plan_file = write(tmp_path, PLAN)
    sid = f"sched-hourly-{uuid.uuid4().hex[:6]}"
    term = Terminal("schedule", "create", "--plan", plan_file, "--every", "1h", "--paused",
                    "--id", sid, env=env)
    term.expect("Approve this plan for every run of the schedule?")
    assert "write_file" in term.text and "runs every 1h" in term.text
    term.send("y")
    term.expect(f"schedule {sid} created")
    assert term.finish() == 0
    end = datetime.now().replace(minute=30, second=0, microsecond=0)
    start = end - timedelta(hours=2)
    done = jarvis("schedule", "backfill", sid, "--start", start.isoformat(), "--end",
                  end.isoformat(), env=env)
    assert done.returncode == 0, done.stderr
    view = await runs(api, sid, 2)
    assert view.paused and len(view.recent) == 2
    for run in view.recent:
        assert (await api.result(run.goal_id)).stage == "succeeded"
    bad = jarvis("schedule", "backfill", sid, "--start", "yesterday", "--end", "now", env=env)
    assert_clean_error(bad, 1, "--start 'yesterday' is not a time", "ISO 8601")
    await api.delete_schedule(sid)


def test_usage_errors(env: dict[str, str], tmp_path: Path) -> None:
    plan_file = write(tmp_path, PLAN)
    both = jarvis("schedule", "create", GOAL, "--plan", plan_file, "--every", "1h", env=env)
    assert_clean_error(both, 2, "exactly one")
    overlap = jarvis("schedule", "create", "--plan", plan_file, "--every", "1h", "--overlap",
                     "maybe", env=env)
    assert_clean_error(overlap, 2, "unknown overlap policy 'maybe'", "buffer_one")
    invalid = jarvis("schedule", "create", "--plan", write(tmp_path, {**PLAN, "steps": [
        {"id": "write", "tool": "write_fil", "args": {}}]}, "bad.json"), "--every", "1h",
                     "--yes", env=env)
    assert_clean_error(invalid, 2, "does not validate", "no schedule was created")
