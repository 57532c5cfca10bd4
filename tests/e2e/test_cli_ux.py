"""The CLI as a person meets it (issue 10): any id where an id is asked, unknown ids named,
cancel of what already finished refused, --verbose tracebacks, output fit for a pipe, --json,
and the small things (past tenses, plurals, help text, risks, suggestions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.clitools import (
    HELLO,
    assert_clean_error,
    assert_whole_lines,
    cli_env,
    found_id,
    jarvis,
    worker_process,
    write,
)
from tests.paths import ROOT
from tests.processes import private_dev_server

REMEMBER = "remember that the boiler is serviced in May"  # a seeded template: no LLM
REMIND = "remind me to stretch in 1 seconds"  # a template with a side effect: waits for review


@pytest.fixture(scope="module")
def own_temporal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`jarvis list` shows every goal on the server: these tests have one of their own (and
    leave no goal waiting)."""
    yield from private_dev_server(tmp_path_factory, "cli-ux-temporal")


@pytest.fixture
def env(tmp_path: Path, own_temporal: str, task_queue: str) -> dict[str, str]:
    return cli_env(tmp_path / "data", own_temporal, task_queue)


def test_goal_and_run_ids_are_taken_everywhere(env: dict[str, str]) -> None:
    done = jarvis("run", REMEMBER, "--yes", env=env)
    assert done.returncode == 0, done.stderr
    goal_id = found_id(r"goal id: (goal-\S+)", done.stderr)
    ran = jarvis("run-plan", str(HELLO), env=env)
    run_id = found_id(r"run id: (\S+)", ran.stderr)

    status = jarvis("status", goal_id, env=env)  # was: pydantic "RunState / steps Field required"
    assert status.returncode == 0, status.stderr
    assert "stage: succeeded" in status.stdout and "notes_append" in status.stdout
    assert json.loads(jarvis("status", goal_id, "--json", env=env).stdout)["stage"] == "succeeded"
    result = jarvis("result", goal_id, env=env)
    assert result.returncode == 0, result.stderr
    assert '"notes_count": 1' in result.stdout
    assert json.loads(jarvis("result", goal_id, "--json", env=env).stdout)["run"]["outputs"] == {
        "notes_count": 1}
    shown = json.loads(jarvis("goal", run_id, "--json", env=env).stdout)  # a run id to `goal`
    assert shown["status"] == "succeeded" and shown["outputs"]["total"] == 82.76

    # cancel what already finished: said so, with its outcome, and exit 1 (was: exit 0)
    for wf_id, kind in ((goal_id, "goal"), (run_id, "run")):
        again = jarvis("cancel", wf_id, env=env)
        assert_clean_error(again, 1, f"{kind} {wf_id} already finished: succeeded")
        assert "cancellation requested" not in again.stdout

    review = jarvis("review", run_id, env=env)
    assert_clean_error(review, 1, "is a plan run, not a goal", f"jarvis status {run_id}")


def test_unknown_ids_are_named(env: dict[str, str]) -> None:
    for args in (("status", "nope-1"), ("result", "nope-1"), ("cancel", "nope-1"),
                 ("goal", "nope-1"), ("approve", "nope-1"), ("reject", "nope-1")):
        proc = jarvis(*args, env=env)
        assert_clean_error(proc, 1, "no goal or run with id 'nope-1'", "jarvis list")
        assert "RPCError" not in proc.stderr and "workflow not found" not in proc.stderr
        assert "no worker polls" not in proc.stderr, "no worker is started for an unknown id"


def test_verbose_shows_the_traceback(env: dict[str, str]) -> None:
    proc = jarvis("status", "nope-2", "--verbose", env=env)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "no goal or run with id 'nope-2'" in proc.stderr
    assert "run again with --verbose" not in proc.stderr
    # an unexpected error: the traceback with --verbose, and no advice to add --verbose
    boom = ("import sys\nimport jarvis_planner.cli as cli\n"
            "cli.app.command('boom')(lambda: 1 / 0)\nsys.argv[1:] = ['boom', *sys.argv[1:]]\n"
            "cli.main()\n")
    for flag, traceback, advice in (("--verbose", True, False), ("", False, True)):
        out = subprocess.run([sys.executable, "-c", boom, *([flag] if flag else [])],
                             env={**os.environ, **env}, capture_output=True, text=True,
                             timeout=60, cwd=ROOT)
        assert out.returncode == 1 and "ZeroDivisionError" in out.stderr, out.stderr
        assert ("Traceback" in out.stderr) is traceback, out.stderr
        assert ("run again with --verbose" in out.stderr) is advice, out.stderr


def test_piped_output_has_whole_lines(env: dict[str, str]) -> None:
    """`jarvis ... 2>&1 | tee log`: no redraws, no cursor codes, no glued messages (was:
    `└───┘succeeded; result:`, `no LLM callsucceeded (template plan)`, `}waiting for
    approval:`)."""
    ran = jarvis("run-plan", str(HELLO), env=env, merged=True)
    assert ran.returncode == 0, ran.stdout
    assert_whole_lines(ran.stdout)
    assert "succeeded; result:" in ran.stdout and "step net: succeeded" in ran.stdout
    done = jarvis("run", REMEMBER, "--yes", env=env, merged=True)
    assert done.returncode == 0, done.stdout
    assert_whole_lines(done.stdout)
    assert "succeeded (template plan); result:" in done.stdout
    waiting = jarvis("run", REMIND, env=env, merged=True)
    assert waiting.returncode == 3, waiting.stdout
    assert_whole_lines(waiting.stdout)
    goal_id = found_id(r"goal id: (goal-\S+)", waiting.stdout)
    assert f"waiting for approval: `jarvis approve {goal_id}`" in waiting.stdout
    started = time.monotonic()  # its state is in a worker's memory, and none polls now
    unanswered = jarvis("status", goal_id, env=env)
    assert_clean_error(unanswered, 1, "is running, but no worker polls its task queue")
    assert time.monotonic() - started < 20, "said at once (was: a 30 s wait, then RPCError)"
    pending = jarvis("list", "--pending", env=env)  # never "no goals wait" when unknown
    assert goal_id in pending.stdout, pending.stdout  # known to wait from the index
    assert "1 goal waiting for approval; no worker polls task queue" in pending.stdout
    for args in (("goal", goal_id), ("status", goal_id), ("plan", REMIND), ("list", "--goals"),
                 ("list", "--pending"), ("tools",), ("templates", "list"),
                 ("validate", str(HELLO)), ("reject", goal_id), ("status", goal_id)):
        shown = jarvis(*args, env=env, merged=True)
        assert_whole_lines(shown.stdout)


def test_json_where_a_state_or_a_list_is_shown(env: dict[str, str], tmp_path: Path) -> None:
    ran = jarvis("run-plan", str(HELLO), "--json", env=env)
    state = json.loads(ran.stdout)
    assert state["status"] == "succeeded"
    run_id = found_id(r"run id: (\S+)", ran.stderr)
    runs = {r["id"]: r for r in json.loads(jarvis("list", "--json", env=env).stdout)}
    assert runs[run_id]["kind"] == "run" and runs[run_id]["status"] == "completed"
    assert runs[run_id]["goal"] == state["goal"]
    done = jarvis("run", REMEMBER, "--yes", "--json", env=env)
    assert json.loads(done.stdout)["stage"] == "succeeded"
    goal_id = found_id(r"goal id: (goal-\S+)", done.stderr)
    goals = {g["id"]: g for g in json.loads(jarvis("list", "--goals", "--json", env=env).stdout)}
    assert (goals[goal_id]["kind"], goals[goal_id]["stage"]) == ("goal", "succeeded")
    assert json.loads(jarvis("list", "--pending", "--json", env=env).stdout) == []
    planned = json.loads(jarvis("plan", REMIND, "--json", env=env).stdout)
    assert planned["stage"] == "planned"
    assert {s["name"] for s in json.loads(jarvis("tools", "--json", env=env).stdout)} >= {"calc"}
    assert json.loads(jarvis("templates", "list", "--json", env=env).stdout)
    assert json.loads(jarvis("validate", str(HELLO), "--json", env=env).stdout) == []


def test_small_things(env: dict[str, str], tmp_path: Path) -> None:
    empty = jarvis("list", "--pending", env=env)
    assert empty.stdout.strip() == "no goals wait for review"  # was: an empty table
    with worker_process(env, tmp_path / "worker.log"):  # `jarvis up`: a worker answers
        waiting = jarvis("run", REMIND, env=env)
        goal_id = found_id(r"jarvis approve (\S+)`", waiting.stderr)
        one = jarvis("list", "--pending", env=env)
        assert "1 goal waiting for approval" in one.stdout, one.stdout  # was: "1 goals"
        assert goal_id in one.stdout
        rejected = jarvis("reject", goal_id, "--reason", "not now", env=env)
        assert f"rejected {goal_id}" in rejected.stdout and "rejectd" not in rejected.stdout

    planned = jarvis("plan", REMIND, env=env)  # each step's risk, as `review` shows
    assert "pause wait [read-only]" in planned.stdout
    assert "ping notify [side-effecting]" in planned.stdout

    plan = {"goal": "sum", "steps": [
        {"id": "a", "tool": "calculator", "args": {"expression": "1 + 1"}},
        {"id": "b", "tool": "sleep", "args": {"seconds": 1}},
        {"id": "c", "tool": "notifyy", "args": {"message": "hi"}}]}
    checked = jarvis("validate", write(tmp_path, plan), env=env)
    assert checked.returncode == 2
    for name, meant in (("calculator", "calc"), ("sleep", "wait"), ("notifyy", "notify")):
        assert f"no tool named '{name}' (did you mean '{meant}'" in checked.stderr, \
            checked.stderr


@pytest.mark.parametrize("args", [(), ("run",), ("list",), ("up",), ("status",), ("cancel",),
                                  ("run-plan",), ("templates", "list")])
def test_help_names_values_as_people_do(args: tuple[str, ...]) -> None:
    shown = jarvis(*args, "--help", env={"COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    for placeholder in ("<bool>", "<str>", "<int>", "<float>", "<path>"):
        assert placeholder not in shown.stdout, shown.stdout
    usage = next(line for line in shown.stdout.splitlines() if "Usage:" in line)
    assert usage.strip().startswith("Usage: jarvis ") and "{" not in usage, usage
    if args == ("run",):
        assert "--json" in shown.stdout and "as JSON" in shown.stdout  # had no help text
    if args == ("list",):
        assert "INTEGER" in shown.stdout and "--json" in shown.stdout


def test_a_budget_given_to_run_stops_the_goal(env: dict[str, str], tmp_path: Path) -> None:
    with worker_process(env, tmp_path / "worker.log"):
        over = jarvis("run", REMIND, "--yes", "--max-steps", "1", env=env)
    assert over.returncode == 1, over.stderr
    out = over.stdout + over.stderr
    assert "over_budget" in out or "over budget" in out, out
    assert "the next step would be step 2; the budget is 1" in out, out
    assert "left undone: ping" in out, out
