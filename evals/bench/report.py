"""Reports: the machine, per-benchmark JSON and Markdown, the combined bench.md."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from agents.devserver import (
    temporal_binary,
)
from evals.bench.levers import TARGETS, Levers, Metrics


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
            written.append(_write(out / f"bench-{name}.json", json.dumps(data, indent=2)))
            written.append(_write(out / f"bench-{name}.md", self.markdown(name)))
        if self.durability:
            data = {"benchmark": "durability", "command": self.command,
                    "machine": self.machine, "results": self.durability}
            written.append(_write(out / "bench-durability.json", json.dumps(data, indent=2)))
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
                         f"worker options {worker}, server flags `{flags}`")
        lines.append("")
        lines += [self.markdown(name) for name in self.results]
        if self.durability:
            lines += ["### durability (SIGKILL after acknowledgement)", ""]
            lines += [f"- {k}: `{json.dumps(v)}`" for k, v in self.durability.items()]
        return "\n".join(lines) + "\n"


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
