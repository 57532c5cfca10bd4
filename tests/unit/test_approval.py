"""Grants and plan versions (planner.approval) and the approval key (activities.approval_key)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from activities.approval_key import ApprovalKeyError, approval_key
from planner.approval import matches_template, plan_digest, sign_step, verify_step
from planner.plan import Plan
from planner.settings import Settings

pytestmark = pytest.mark.unit

KEY = bytes(range(32))
PLAN = Plan.model_validate({"goal": "g", "steps": [
    {"id": "a", "tool": "shell", "args": {"command": "ls ${b.path} -l", "check": True}},
    {"id": "b", "tool": "calc", "args": {"expression": "1+1"}}]})


def test_plan_digest_changes_with_any_change_of_the_plan() -> None:
    same = Plan.model_validate(PLAN.model_dump(mode="json"))
    assert plan_digest(same) == plan_digest(PLAN) and len(plan_digest(PLAN)) == 64
    changed = PLAN.model_dump(mode="json")
    changed["steps"][1]["args"]["expression"] = "1+2"
    assert plan_digest(Plan.model_validate(changed)) != plan_digest(PLAN)


def test_a_grant_holds_for_exactly_its_step_run_and_template() -> None:
    step = PLAN.steps[0]
    grant = sign_step(KEY, "goal-1", "run-1", step)
    assert verify_step(KEY, "goal-1", "run-1", "a", "shell", step.args, grant)
    assert not verify_step(KEY, "goal-1", "run-2", "a", "shell", step.args, grant)
    assert not verify_step(KEY, "goal-2", "run-1", "a", "shell", step.args, grant)
    assert not verify_step(KEY, "goal-1", "run-1", "b", "shell", step.args, grant)
    assert not verify_step(KEY, "goal-1", "run-1", "a", "write_file", step.args, grant)
    assert not verify_step(KEY, "goal-1", "run-1", "a", "shell",
                           {**step.args, "command": "rm -rf /"}, grant)
    assert not verify_step(b"x" * 32, "goal-1", "run-1", "a", "shell", step.args, grant)
    assert not verify_step(KEY, "goal-1", "run-1", "a", "shell", step.args, None)


@pytest.mark.parametrize(("template", "value", "ok"), [
    ({"command": "ls ${b.path} -l"}, {"command": "ls /tmp/x -l"}, True),
    ({"command": "ls ${b.path} -l"}, {"command": "rm -rf / ; ls x -l"}, False),
    ({"command": "ls ${b.path} -l"}, {"command": "ls x -l; rm -rf /"}, False),
    ({"command": "${b.text}"}, {"command": "anything at all"}, True),
    ({"command": "a ${b.x} b ${b.y} c"}, {"command": "a 1 b 2 c"}, True),
    ({"command": "a ${b.x} b ${b.y} c"}, {"command": "a 1 c"}, False),
    ({"n": 3, "flag": True}, {"n": 3, "flag": True}, True),
    ({"n": 3}, {"n": 4}, False),
    ({"flag": True}, {"flag": 1}, False),
    ({"cmd": "x"}, {"cmd": "x", "extra": 1}, False),
    ({"xs": ["a", "${b.y}"]}, {"xs": ["a", "z"]}, True),
    ({"xs": ["a", "${b.y}"]}, {"xs": ["b", "z"]}, False),
    ({"text": "$${literal}"}, {"text": "${literal}"}, True),
    ({"text": "$${literal}"}, {"text": "other"}, False),
])
def test_resolved_arguments_must_fill_in_the_approved_template(template: dict[str, object],
                                                                value: dict[str, object],
                                                                ok: bool) -> None:
    assert matches_template(template, value) is ok


def test_the_key_file_is_made_once_private_and_shared(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    key = approval_key(settings)
    assert len(key) == 32 and approval_key(Settings(data_dir=tmp_path)) == key
    mode = stat.S_IMODE(os.stat(tmp_path / "approval.key").st_mode)
    assert mode == 0o600
    assert approval_key(Settings(data_dir=tmp_path / "other")) != key


def test_a_key_from_the_environment_must_be_long_hex(tmp_path: Path) -> None:
    assert approval_key(Settings(data_dir=tmp_path, approval_key="ab" * 32)) == b"\xab" * 32
    with pytest.raises(ApprovalKeyError, match="hex"):
        approval_key(Settings(data_dir=tmp_path, approval_key="not hex"))
    with pytest.raises(ApprovalKeyError, match="at least 32 bytes"):
        approval_key(Settings(data_dir=tmp_path, approval_key="abcd"))
