"""The terminal review prompt follows the goal live: a decision made elsewhere ends it with that
decision and the result; Ctrl-C says how to come back; `jarvis run` shows the plan once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from tests.e2e.ptys import Terminal
from tests.paths import ROOT

GOAL = "remind me to stretch in 1 seconds"  # a shipped template: wait + notify, side effect


@pytest.fixture
def env(tmp_path: Path, temporal_address: str, task_queue: str) -> dict[str, str]:
    return {"JARVIS_DATA_DIR": str(tmp_path / "data"), "JARVIS_TEMPORAL_ADDRESS": temporal_address,
            "JARVIS_TASK_QUEUE": task_queue, "JARVIS_EMBEDDING_BACKEND": "hashing",
            "COLUMNS": "200"}


def jarvis(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jarvis_planner.cli", *args],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


def waiting_goal(env: dict[str, str]) -> str:
    """A goal that waits for review (submitted without a terminal: `run` stops at the gate)."""
    proc = jarvis("run", GOAL, env=env)
    assert proc.returncode == 3, proc.stderr
    found = re.search(r"goal id: (\S+)", proc.stderr)
    assert found, proc.stderr
    return found.group(1)


def test_run_shows_the_plan_once_and_a_decision_elsewhere_ends_the_prompt(
        env: dict[str, str]) -> None:
    term = Terminal("run", GOAL, env=env)
    term.expect(r"\[a\]pprove / \[e\]dit / \[r\]eject")
    before_prompt = term.text
    goal_id = re.search(r"goal id: (\S+)", before_prompt).group(1)  # type: ignore[union-attr]
    assert before_prompt.count("plan version") == 1
    assert "estimated cost $0" in before_prompt  # a template: no planning cost, no llm step
    # the live view drew the plan (its last frame ends with the goal's note); the prompt
    # does not draw it a second time between that frame and its own line
    between = before_prompt[before_prompt.rfind("no LLM call"):before_prompt.rfind("plan version")]
    assert "├──" not in between and "├──" in before_prompt, before_prompt
    approved = jarvis("approve", goal_id, env=env)
    assert approved.returncode == 0, approved.stderr
    term.expect(rf"{re.escape(goal_id)} was approved elsewhere by cli:")
    term.expect(r"succeeded")
    assert term.wait() == 0, term.text
    assert "cannot reject" not in term.text


def test_review_reports_a_rejection_made_elsewhere(env: dict[str, str]) -> None:
    goal_id = waiting_goal(env)
    term = Terminal("review", goal_id, env=env)
    term.expect(r"\[a\]pprove")
    assert jarvis("reject", goal_id, "--reason", "not today", env=env).returncode == 0
    term.expect(r"was rejected elsewhere by cli:\S+: not today")
    assert term.wait() == 1  # a rejected goal: nothing ran
    assert "rejected" in term.text


def test_review_approved_here_follows_to_the_result(env: dict[str, str]) -> None:
    goal_id = waiting_goal(env)
    term = Terminal("review", goal_id, env=env)
    term.expect(r"\[a\]pprove")
    term.send("a\n")
    term.expect(r"succeeded")
    assert term.wait() == 0, term.text
    assert "outbox" in term.text  # the result is shown, not just a stage


async def test_ctrl_c_at_the_prompt_says_how_to_come_back(env: dict[str, str],
                                                         client: Client) -> None:
    goal_id = waiting_goal(env)
    term = Terminal("review", goal_id, env=env)
    term.expect(r"\[a\]pprove")
    term.interrupt()
    assert term.wait() == 130
    said = " ".join(term.text.split())  # lines wrap at the terminal's width
    assert f"still waits for a decision: `jarvis review {goal_id}`" in said
    # the goal is untouched: still open on the server (its worker left with the command)
    desc = await client.get_workflow_handle(goal_id).describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING
