"""The start-up benchmark runs end to end (one round): `jarvis --help`, and `jarvis run` of a
template goal against an embedded stack the script starts and stops. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.paths import ROOT


def test_startup_benchmark_measures_help_run_and_imports(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "evals.startup", "--rounds", "1", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "startup.json").read_text())
    here = report["binaries"]["this checkout"]
    for what in ("help", "run"):
        assert here[what]["n"] == 1 and here[what]["median_s"] > 0, what
    imports = report["imports"]
    assert set(imports) == {"agents.plan_workflow", "agents.goal_workflow", "jarvis_planner.cli"}
    assert imports["jarvis_planner.cli"]["loads"] == []  # the CLI starts without the SDKs
    assert "jarvis run GOAL --yes" in (tmp_path / "startup.md").read_text()
