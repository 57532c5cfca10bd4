"""Reports: the machine, per-benchmark JSON and Markdown, the combined bench.md."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import subprocess
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from agents.devserver import (
    temporal_binary,
)
from evals.bench.chart import line_chart
from evals.bench.levers import TARGETS, Levers, Metrics
from evals.bench.peers import peer_versions


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version(),
                            "platform": platform.platform(), "temporalio": version("temporalio")}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gb"] = round(int(mem) / 1024 / 1024, 1)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([temporal_binary(), "--version"], capture_output=True, text=True,
                             timeout=30)
        info["temporal_cli"] = out.stdout.strip()
    with contextlib.suppress(OSError):
        info["load_avg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


@dataclass
class Report:
    command: str
    size: str
    machine: dict[str, Any]
    configs: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, dict[str, Metrics]] = field(default_factory=dict)  # bench -> config
    durability: dict[str, Metrics] = field(default_factory=dict)
    peers: dict[str, dict[str, Metrics]] = field(default_factory=dict)  # peer -> bench
    # bench -> config -> each round's metrics, kept beside their medians when there were rounds
    each_round: dict[str, dict[str, list[Metrics]]] = field(default_factory=dict)

    def add(self, levers: Levers, results: dict[str, Metrics]) -> None:
        self.configs.append(levers.describe())
        for name, metrics in results.items():
            self.results.setdefault(name, {})[levers.name] = metrics

    def write(self, out: Path) -> list[Path]:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, by_config in self.results.items():
            data = {"benchmark": name, "command": self.command, "size": self.size,
                    "machine": self.machine, "configs": self.configs, "results": by_config,
                    "targets": TARGETS.get(name, {})}
            if name in self.each_round:
                data["rounds"] = self.each_round[name]
            written.append(_write(out / f"bench-{name}.json", json.dumps(data, indent=2)))
            written.append(_write(out / f"bench-{name}.md", self.markdown(name)))
        if self.peers:
            data = {"benchmark": "peers", "command": self.command, "size": self.size,
                    "machine": self.machine, "versions": peer_versions(),
                    "results": self.peers, "jarvis": {
                        b: self.results.get(b, {}).get("tuned", {}) for b in _SIDE_BY_SIDE}}
            written.append(_write(out / "bench-peers.json", json.dumps(data, indent=2)))
        if self.durability:
            data = {"benchmark": "durability", "command": self.command,
                    "machine": self.machine, "results": self.durability}
            written.append(_write(out / "bench-durability.json", json.dumps(data, indent=2)))
        scaling = self.results.get("scaling", {}).get("tuned")
        if scaling:
            for name, svg in scaling_charts(scaling).items():
                written.append(_write(out / f"bench-{name}.svg", svg))
        written.append(_write(out / "bench.md", self.summary()))
        return written

    def markdown(self, name: str) -> str:
        by_config = self.results[name]
        names = list(by_config)
        keys = [k for k in dict.fromkeys(k for m in by_config.values() for k in m)
                if k not in _NOT_IN_TABLES]
        targets = TARGETS.get(name, {})
        lines = [f"### {name}", "", f"`{self.command}` (size {self.size})", "",
                 "| metric | " + " | ".join(names) + " | target |",
                 "|---" * (len(names) + 2) + "|"]
        for key in keys:
            cells = [_cell(by_config[c].get(key)) for c in names]
            lines.append(f"| {key} | " + " | ".join(cells) + f" | {targets.get(key, '')} |")
        notes = dict.fromkeys(str(m["note"]) for m in by_config.values() if "note" in m)
        lines += ["", *(f"Note: {n}" for n in notes)] if notes else []
        if name in self.each_round:
            lines += ["", f"Medians of the rounds; each round's figures: `bench-{name}.json`, "
                          "`rounds`."]
        return "\n".join(lines) + "\n"

    def summary(self) -> str:
        m = self.machine
        lines = ["# Engine benchmarks", "", f"Command: `{self.command}`", "",
                 f"Machine: {m.get('nproc')} CPUs ({m.get('cpu', '?')}), "
                 f"{m.get('memory_gb', '?')} GB, Python {m.get('python')}, temporalio "
                 f"{m.get('temporalio')}, {m.get('temporal_cli', 'temporal CLI ?')}; load "
                 f"average at start {m.get('load_avg_at_start')}", "", "Configurations:", ""]
        for cfg in self.configs:
            flags = " ".join(cfg["server_flags"]) or "(none)"
            worker = json.dumps(cfg["worker_options"]) if cfg["worker_options"] else "defaults"
            lines.append(f"- **{cfg['name']}**: local activities {cfg['local_activities']}, "
                         f"eager start {cfg['eager_start']}, sandboxed {cfg['sandboxed']}, "
                         f"pure steps inline {cfg.get('inline_pure')}, incremental scheduler "
                         f"{cfg.get('incremental_scheduler')}, memory as local activities "
                         f"{cfg.get('memory_local')}, local chains {cfg.get('local_chain')}"
                         f"{_budget(cfg)}, "
                         f"local groups {cfg.get('local_group')}, "
                         f"worker options {worker}, worker collector tuned "
                         f"{cfg.get('tuned_gc')}, server flags `{flags}`, server environment "
                         f"{_env(cfg.get('server_env'))}")
        lines.append("")
        if self.peers:
            lines += [self.side_by_side(), ""]
        lines += [self.markdown(name) for name in self.results]
        if self.durability:
            lines += ["### durability (SIGKILL after acknowledgement)", ""]
            lines += [f"- {k}: `{json.dumps(v)}`" for k, v in self.durability.items()]
        return "\n".join(lines) + "\n"


    def side_by_side(self) -> str:
        """The tuned JARVIS configuration and each peer on the same workloads (one run)."""
        tuned = {b: self.results.get(b, {}).get("tuned", {}) for b in _SIDE_BY_SIDE}
        peers = list(self.peers)
        head = ["JARVIS Temporal (tuned)", "JARVIS, regular activities", "JARVIS simple",
                *(_PEER_LABEL.get(p, p) for p in peers)]
        lines = ["### side by side with the peers", "",
                 f"`{self.command}`; peers: " + ", ".join(
                     f"{k} {v}" for k, v in peer_versions().items()), "",
                 "| workload | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
        for label, bench, ours, theirs in _rows(tuned["parallelism"]):
            cells = [_cell(tuned[bench].get(k)) if k else "" for k in ours]
            cells += [_cell(self.peers[p].get(bench, {}).get(theirs)) for p in peers]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _rows(parallelism: Metrics) -> list[tuple[str, str, tuple[str, str, str], str]]:
    """(row, benchmark, JARVIS metrics: tuned / regular / simple, the peers' metric); one
    fan-out row per step length measured."""
    fans = sorted(int(m.group(1)) for k in parallelism
                  if (m := re.fullmatch(r"ratio_(\d+)ms", k)))
    return [
        ("sequential no-op step (a tool that may do I/O: local activity), ms", "overhead",
         ("temporal_default_ms_per_step", "temporal_regular_ms_per_step", "simple_ms_per_step"),
         "ms_per_step"),
        ("sequential no-op step (a pure tool: in the workflow), ms", "overhead",
         ("temporal_pure_ms_per_step", "", ""), "ms_per_step"),
        *((f"fan-out + join of {ms / 1000:g} s steps, makespan / critical path", "parallelism",
           (f"ratio_{ms}ms", f"ratio_{ms}ms_regular", ""), f"ratio_{ms}ms") for ms in fans),
        ("runs of short chains at once, steps/s", "throughput",
         ("default_steps_per_s", "regular_steps_per_s", ""), "steps_per_s"),
        ("the same, pure steps, steps/s", "throughput", ("pure_steps_per_s", "", ""),
         "steps_per_s"),
        ("runs lost", "throughput", ("default_lost", "regular_lost", ""), "lost"),
        ("runs lost, pure steps", "throughput", ("pure_lost", "", ""), "lost"),
    ]


def scaling_charts(metrics: Metrics) -> dict[str, str]:
    """The scaling benchmark's curves: ms per step by plan size (chain, fan-out) and by goals
    in flight, and history bytes per step by plan size."""
    def points(prefix: str, sizes: list[int], key: str) -> list[tuple[float, float]]:
        return [(float(n), float(metrics[f"{prefix}_{n}_{key}"])) for n in sizes
                if f"{prefix}_{n}_{key}" in metrics]

    steps = sorted({int(k.split("_")[1]) for k in metrics if k.startswith("chain_")})
    goals = sorted({int(k.split("_")[1]) for k in metrics if k.startswith("goals_")})
    return {
        "scaling-plan-size": line_chart(
            "ms per step by plan size (one plan)", "steps in the plan", "ms per step",
            {"chain": points("chain", steps, "ms_per_step"),
             "fan-out + join": points("fan", steps, "ms_per_step"),
             "pure chain": points("pure", steps, "ms_per_step")}),
        "scaling-history": line_chart(
            "history bytes per step by plan size", "steps in the plan", "bytes per step",
            {"chain": points("chain", steps, "history_bytes_per_step"),
             "fan-out + join": points("fan", steps, "history_bytes_per_step"),
             "pure chain": points("pure", steps, "history_bytes_per_step")}),
        "scaling-goals": line_chart(
            "goals in flight (5 steps each)", "goals started at once", "ms per step (wall)",
            {"ms per step": points("goals", goals, "ms_per_step")}),
    }


_SIDE_BY_SIDE = ("overhead", "parallelism", "throughput")
_PEER_LABEL = {"langgraph": "LangGraph + SQLite (sync)", "dbos": "DBOS + SQLite",
               "temporal-floor": "Temporal floor (one local activity a run)"}
_NOT_IN_TABLES = {"note", "template_id"}  # in the JSON only


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _env(env: dict[str, str] | None) -> str:
    return " ".join(f"`{k}={v}`" for k, v in env.items()) if env else "(inherited)"


def _budget(cfg: dict[str, Any]) -> str:
    """A configuration's chain budget when it sets one (older reports: none)."""
    budget = cfg.get("chain_budget_s")
    return "" if budget is None else f" (budget {budget:g} s)"
