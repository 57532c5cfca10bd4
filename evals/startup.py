"""Start-up benchmark: how long a person waits for the `jarvis` command.

    python -m evals.startup [--rounds 5] [--out eval-reports] [--compare LABEL=PATH/TO/jarvis]

Measured in one run, for this checkout's `jarvis` (and for each ``--compare`` binary, e.g. the
`jarvis` of another checkout's virtualenv, so before/after ratios come from the same minutes on
the same machine):

- ``help``: wall time of `jarvis --help`;
- ``run``: wall time of `jarvis run "remember that ..." --yes` end to end, a goal that a shipped
  template serves (no LLM), against an embedded stack (`jarvis up`) that the script starts in a
  temporary data dir on free ports and stops afterwards; one unmeasured warm-up goal first (the
  worker loads template memory on its first goal);
- ``imports``: for this checkout, the seconds to import the workflow modules and the CLI in a
  fresh interpreter, and which heavy libraries each one loads.

Reports medians with min and max over ``--rounds`` (the machines are shared and noisy: compare
ratios from one run, not absolute figures across runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.reports import DEFAULT_OUT, md_table, write_report

HEAVY = ("temporalio", "openai", "chromadb", "langchain_core", "httpx", "fastapi")
IMPORTS = ("agents.plan_workflow", "agents.goal_workflow", "jarvis_planner.cli")
GOAL = "remember that startup round {n} went fine"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


NEUTRAL_CWD = tempfile.gettempdir()  # not a checkout: `python -m` must import the binary's own code


def timed(cmd: Sequence[str], env: dict[str, str] | None = None,
          timeout_s: float = 120) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env,
                          timeout=timeout_s, stdin=subprocess.DEVNULL, cwd=NEUTRAL_CWD)
    return time.perf_counter() - started, proc


def summary(samples: list[float]) -> dict[str, float]:
    return {"median_s": statistics.median(samples), "min_s": min(samples),
            "max_s": max(samples), "n": len(samples)}


def measure_help(jarvis: str, rounds: int) -> dict[str, Any]:
    samples = []
    for _ in range(rounds):
        seconds, proc = timed([jarvis, "--help"])
        if proc.returncode != 0:
            raise RuntimeError(f"{jarvis} --help failed: {proc.stderr[-500:]}")
        samples.append(seconds)
    return summary(samples)


def measure_run(jarvis: str, rounds: int) -> dict[str, Any]:
    """`jarvis run GOAL --yes` against an embedded stack of this binary's own."""
    folder = Path(tempfile.mkdtemp(prefix="jarvis-startup-"))
    env = {**os.environ, "JARVIS_DATA_DIR": str(folder),
           "JARVIS_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
           "JARVIS_TEMPORAL_UI_PORT": str(free_port()),
           "JARVIS_CONFIG": str(folder / "no-config.toml"),
           "JARVIS_EMBEDDING_BACKEND": "hashing"}
    for name in [k for k in env if k.startswith("JARVIS_LLM_")]:
        env.pop(name)
    try:
        _, up = timed([jarvis, "up"], env, timeout_s=180)
        if up.returncode != 0:
            raise RuntimeError(f"`jarvis up` failed: {up.stdout[-500:]}{up.stderr[-500:]}")
        samples = []
        for n in range(rounds + 1):
            seconds, proc = timed([jarvis, "run", GOAL.format(n=n), "--yes"], env)
            if proc.returncode != 0 or "succeeded" not in proc.stdout:
                raise RuntimeError(f"`jarvis run` failed (exit {proc.returncode}): "
                                   f"{proc.stdout[-500:]}{proc.stderr[-500:]}")
            if n:  # the first goal warms the worker up (template memory): not counted
                samples.append(seconds)
        return summary(samples)
    finally:
        timed([jarvis, "down"], env, timeout_s=60)
        shutil.rmtree(folder, ignore_errors=True)


def measure_imports(python: str) -> dict[str, Any]:
    out = {}
    for module in IMPORTS:
        code = ("import sys, time, json\nt = time.perf_counter()\n"
                f"import {module}\n"
                "s = time.perf_counter() - t\n"
                f"print(json.dumps([s, sorted(m for m in {list(HEAVY)!r} if m in sys.modules)]))")
        _, proc = timed([python, "-c", code])
        if proc.returncode != 0:
            raise RuntimeError(f"import {module} failed: {proc.stderr[-500:]}")
        seconds, heavy = json.loads(proc.stdout.strip().splitlines()[-1])
        out[module] = {"seconds": seconds, "loads": heavy}
    return out


def render(report: dict[str, Any]) -> str:
    lines = [f"# Start-up ({report['rounds']} rounds, medians; min-max)", ""]
    rows = []
    for label, found in report["binaries"].items():
        for what in ("help", "run"):
            m = found[what]
            rows.append([label, f"jarvis {'--help' if what == 'help' else 'run GOAL --yes'}",
                         f"{m['median_s']:.2f}", f"{m['min_s']:.2f}-{m['max_s']:.2f}"])
    lines += md_table(["binary", "command", "median s", "min-max s"], rows, "llrr")
    labels = list(report["binaries"])
    if len(labels) > 1:
        lines += ["", "Ratios (this checkout / other, same run):", ""]
        here = report["binaries"][labels[0]]
        for other in labels[1:]:
            there = report["binaries"][other]
            for what in ("help", "run"):
                ratio = here[what]["median_s"] / there[what]["median_s"]
                lines.append(f"- {what}: {labels[0]} / {other} = {ratio:.2f}")
    lines += ["", "Imports in a fresh interpreter (this checkout):", ""]
    lines += md_table(["module", "seconds", "heavy libraries loaded"],
                      [[m, f"{v['seconds']:.3f}", ", ".join(v["loads"]) or "none"]
                       for m, v in report["imports"].items()], "lrl")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evals.startup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--compare", action="append", default=[], metavar="LABEL=JARVIS",
                        help="Another `jarvis` binary to measure in the same run.")
    return parser.parse_args(argv)


def run(options: argparse.Namespace) -> dict[str, Any]:
    here = str(Path(sys.executable).parent / "jarvis")
    binaries = {"this checkout": here}
    for item in options.compare:
        label, _, path = item.partition("=")
        if not path or not Path(path).exists():
            raise SystemExit(f"--compare needs LABEL=PATH to a jarvis binary (got {item!r})")
        binaries[label] = path
    report: dict[str, Any] = {"rounds": options.rounds, "binaries": {}}
    for label, jarvis in binaries.items():
        report["binaries"][label] = {"path": jarvis,
                                     "help": measure_help(jarvis, options.rounds),
                                     "run": measure_run(jarvis, options.rounds)}
    report["imports"] = measure_imports(sys.executable)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    report = run(options)
    text = render(report)
    print(text)
    for path in write_report(options.out, "startup", report, text):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
