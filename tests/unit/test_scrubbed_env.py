"""A shell step does not inherit the worker's secrets: its environment is an allow-list.

The tool function is called directly (its approval gate lives in ``execute_call``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from activities.builtins.shell import shell
from activities.child_env import scrubbed_env
from planner.tools import ToolContext

pytestmark = [pytest.mark.unit, pytest.mark.timeout(30)]

SECRETS = {"OPENAI_API_KEY": "sk-leak-1", "JARVIS_LLM_API_KEY": "sk-leak-2",
           "AWS_SECRET_ACCESS_KEY": "leak-3", "GOOGLE_APPLICATION_CREDENTIALS": "/leak/4",
           "ANTHROPIC_API_KEY": "leak-5", "GITHUB_TOKEN": "leak-6"}


def test_only_allowed_names_are_kept() -> None:
    source = {**SECRETS, "PATH": "/bin", "HOME": "/home/j", "LANG": "C.UTF-8",
              "LC_ALL": "C", "TZ": "UTC", "PYTHONPATH": "/x", "LD_PRELOAD": "/evil.so"}
    assert scrubbed_env(source) == {"PATH": "/bin", "HOME": "/home/j", "LANG": "C.UTF-8",
                                    "LC_ALL": "C", "TZ": "UTC"}
    assert scrubbed_env({})["PATH"]  # a PATH always


async def test_shell_step_sees_no_secret_and_still_finds_programs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    ctx = ToolContext(workspace=tmp_path / "ws", data_dir=tmp_path)
    out = await shell("env; ls -d . && echo found-on-path", ctx)
    assert "found-on-path" in out.stdout
    assert "PATH=" in out.stdout
    for name, value in SECRETS.items():
        assert name not in out.stdout and value not in out.stdout
