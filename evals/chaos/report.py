"""The chaos run's report: JSON for machines, Markdown for docs/reliability.md."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict
from pathlib import Path
from typing import Any

from evals.chaos.run import ChaosResult


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"p50": round(statistics.median(ordered), 3), "p90": at(0.9), "p99": at(0.99),
            "max": round(ordered[-1], 3)}


def summary(result: ChaosResult, web: dict[str, Any] | None = None) -> dict[str, Any]:
    by_status: dict[str, int] = {}
    for o in result.outcomes:
        by_status[o.status] = by_status.get(o.status, 0) + 1
    return {
        "started": len(result.outcomes),
        "completed": by_status.get("succeeded", 0),
        "failed": by_status.get("failed", 0),
        "lost": len(result.lost),
        "unexpected_outcomes": len(result.unexpected),
        "failed_llm_gave_up": len(result.llm_gave_up),
        "side_effects": sum(result.effects.values()),
        "side_effects_repeated": sum(n - 1 for n in result.repeated.values()),
        "side_effects_missing": len(result.missing_effects()),
        "faults": dict(result.faults),
        "failure_reasons": sorted({o.reason.split(";")[0][:160] for o in result.outcomes
                                   if o.status == "failed"}),
        "latency_s": percentiles([o.latency_s for o in result.outcomes
                                  if o.latency_s is not None]),
        "wall_s": round(result.wall_s, 1),
        "web": web,
        "options": result.options,
    }


def markdown(data: dict[str, Any]) -> str:
    lines = ["| measure | value |", "|---|---|"]
    for key in ("started", "completed", "failed", "failed_llm_gave_up", "lost",
                "unexpected_outcomes",
                "side_effects", "side_effects_repeated", "side_effects_missing", "wall_s"):
        lines.append(f"| {key.replace('_', ' ')} | {data[key]} |")
    for fault, n in sorted(data["faults"].items()):
        lines.append(f"| fault: {fault} | {n} |")
    for q, v in data["latency_s"].items():
        lines.append(f"| goal/run latency {q} (s) | {v} |")
    if data.get("web"):
        for k, v in data["web"].items():
            lines.append(f"| web: {k} | {v} |")
    reasons = "\n".join(f"- {r}" for r in data["failure_reasons"]) or "- none"
    return "\n".join(lines) + "\n\nFailure reasons:\n" + reasons + "\n"


def write(data: dict[str, Any], result: ChaosResult, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    js, md = out / "chaos.json", out / "chaos.md"
    js.write_text(json.dumps({**data, "outcomes": [asdict(o) for o in result.outcomes]},
                             indent=2) + "\n")
    md.write_text(markdown(data))
    return [js, md]
