"""Every README code block that is meant to run, run as shown: the Python API example as a
script against a real server and worker, the plugin example registered, the plan example
validated, and each `jarvis ...` command line that needs no placeholder. Lines with a
placeholder (GOAL_ID, ID, "...") or that open an interactive session, and the long-running
evals and the two top commands (the CI runs them), are the only ones left out."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from activities import ToolRegistry, default_registry
from planner.plan import parse_plan
from planner.settings import Settings
from planner.validation import validate_plan
from tests.paths import ROOT
from tests.processes import start_worker_process

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w*)\n(.*?)```", README, re.S)]
PLACEHOLDER = re.compile(r"\bGOAL_ID\b|\bID\b|\bFILE\b|\.\.\.|<[^>]+>")


def blocks(lang: str, containing: str = "") -> list[str]:
    return [code for kind, code in BLOCKS if kind == lang and containing in code]


def runnable_commands() -> list[str]:
    """`jarvis ...` lines of the bash blocks with no placeholder and no interactive session."""
    lines = []
    for code in blocks("bash"):
        for raw in code.splitlines():
            line = raw.split("  #")[0].strip()
            if not line.startswith("jarvis ") or PLACEHOLDER.search(line):
                continue
            if line.split()[1] in ("chat", "serve", "review", "mcp"):  # interactive or a server
                continue
            lines.append(line)
    return lines


@pytest.fixture
def env(tmp_path: Path, temporal_address: str, task_queue: str) -> dict[str, str]:
    return {**os.environ, "JARVIS_DATA_DIR": str(tmp_path / "data"),
            "JARVIS_TEMPORAL_ADDRESS": temporal_address, "JARVIS_TASK_QUEUE": task_queue,
            "JARVIS_EMBEDDING_BACKEND": "hashing", "COLUMNS": "120"}


def test_the_readme_has_the_blocks_this_test_runs() -> None:
    assert len(blocks("python", "JarvisClient.connect")) == 1
    assert len(blocks("python", "def register")) == 1
    assert len(blocks("json")) >= 1
    assert "jarvis run \"remember that the boiler is serviced in May\" --yes" in \
        runnable_commands()


def test_every_python_block_compiles() -> None:
    for code in blocks("python"):
        compile(code, "README.md", "exec")


def test_the_plugin_example_registers_its_tool() -> None:
    namespace: dict[str, object] = {}
    exec(compile(blocks("python", "def register")[0], "README.md", "exec"), namespace)
    registry = ToolRegistry()
    namespace["register"](registry)  # type: ignore[operator]
    assert registry["word_count"].fn(text="one two three") == 3


def test_the_plan_example_validates() -> None:
    for code in blocks("json"):
        plan = parse_plan(code, "README.md")
        assert validate_plan(plan, {t.name: t for t in default_registry()}) == []


def test_the_python_api_example_runs_as_a_script(tmp_path: Path, env: dict[str, str],
                                                 task_queue: str, temporal_address: str
                                                 ) -> None:
    script = tmp_path / "example.py"
    script.write_text(blocks("python", "JarvisClient.connect")[0], encoding="utf-8")
    settings = Settings(data_dir=Path(env["JARVIS_DATA_DIR"]),
                        temporal_address=temporal_address, task_queue=task_queue,
                        embedding_backend="hashing")
    worker = start_worker_process(settings, tmp_path / "worker.log")
    try:
        proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                              text=True, timeout=180, cwd=tmp_path)
    finally:
        worker.terminate()
        worker.wait(30)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("goal-") and first.endswith(" succeeded"), proc.stdout


@pytest.mark.parametrize("line", runnable_commands())
def test_each_command_line_runs(line: str, env: dict[str, str]) -> None:
    argv = [sys.executable, "-m", "jarvis_planner.cli", *shlex.split(line)[1:]]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
