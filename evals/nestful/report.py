"""The conversion report over a whole NESTFUL file, and `python -m evals.nestful`."""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
)

from evals.nestful.conversion import ConversionError, convert_sample
from evals.nestful.data import CALC_TOOL, DatasetKind, NestfulData, load_nestful
from evals.nestful.gaps import REWRITE_KINDS, SPEC_GAP_KINDS, SpecGap
from evals.nestful.registry import build_stub_registry
from evals.nestful.stubs import StubCall
from planner.plan import Plan
from planner.refs import iter_refs
from planner.tools import ToolRegistry
from planner.validation import validate_plan


class SampleReport(BaseModel):
    index: int
    goal: str
    ok: bool
    steps: int = 0
    calc_steps: int = 0
    field_refs: int = Field(0, description="References with a field path (data flow by field).")
    step_refs: int = Field(0, description="References to a whole step output.")
    problems: list[str] = Field(default_factory=list)
    gaps: list[SpecGap] = Field(default_factory=list)
    error: str | None = None
    plan: Plan | None = None


class NestfulReport(BaseModel):
    kind: str
    source: str
    samples: list[SampleReport]

    @property
    def gaps(self) -> list[SpecGap]:
        return [g for s in self.samples for g in s.gaps]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.samples)

    def gaps_by_kind(self) -> dict[str, int]:
        counts = Counter(g.kind for g in self.gaps)
        return {k: counts[k] for k in (*SPEC_GAP_KINDS, *REWRITE_KINDS) if counts[k]}

    def totals(self) -> dict[str, Any]:
        return {
            "samples": len(self.samples),
            "ok": sum(s.ok for s in self.samples),
            "steps": sum(s.steps for s in self.samples),
            "calc_steps": sum(s.calc_steps for s in self.samples),
            "field_refs": sum(s.field_refs for s in self.samples),
            "step_refs": sum(s.step_refs for s in self.samples),
            "gaps_by_kind": self.gaps_by_kind(),
        }

    def summary(self) -> str:
        good = sum(s.ok for s in self.samples)
        lines = [
            f"NESTFUL {self.kind} ({self.source}): {len(self.samples)} samples, {good} converted "
            f"with zero validation problems, {len(self.samples) - good} not",
            f"  steps: {sum(s.steps for s in self.samples)} "
            f"(calc steps: {sum(s.calc_steps for s in self.samples)}); references: "
            f"{sum(s.field_refs for s in self.samples)} field-level, "
            f"{sum(s.step_refs for s in self.samples)} whole-output",
        ]
        for title, kinds in (("spec gaps (amended in the stub tools)", SPEC_GAP_KINDS),
                             ("plan rewrites", REWRITE_KINDS)):
            gaps = [g for g in self.gaps if g.kind in kinds]
            lines.append(f"  {title}: {len(gaps)}")
            grouped: dict[tuple[str, str, str], list[int]] = defaultdict(list)
            for g in gaps:
                grouped[(g.kind, g.tool, g.field)].append(g.sample_index)
            for (kind, tool, fld), indexes in sorted(grouped.items()):
                shown = ", ".join(map(str, sorted(set(indexes))))
                lines.append(f"    {kind:<21} {tool} {fld.lstrip('.') or '-'}: samples {shown}")
        for s in self.samples:
            if not s.ok:
                lines.append(f"  sample {s.index} FAILED: {s.error or '; '.join(s.problems)}")
        return "\n".join(lines)


@dataclass
class NestfulSuite:
    """A NESTFUL set with its stub registry and converted plans."""

    data: NestfulData
    registry: ToolRegistry
    spec_gaps: list[SpecGap]
    plans: list[Plan | None]
    notes: list[list[SpecGap]]
    errors: list[str | None]

    def report(self, *, include_plans: bool = True) -> NestfulReport:
        tools = {t.name: t for t in self.registry}
        samples = []
        for index, sample in enumerate(self.data.samples):
            plan = self.plans[index]
            gaps = [g for g in self.spec_gaps if g.sample_index == index] + self.notes[index]
            if plan is None:
                samples.append(SampleReport(index=index, goal=sample.input, ok=False, gaps=gaps,
                                            error=self.errors[index]))
                continue
            problems = [str(p) for p in validate_plan(plan, tools)]
            refs = [r for s in plan.steps for r in s.refs()] + list(iter_refs(plan.outputs))
            samples.append(SampleReport(
                index=index, goal=plan.goal, ok=not problems, steps=len(plan.steps),
                calc_steps=sum(s.tool == CALC_TOOL for s in plan.steps),
                field_refs=sum(bool(r.path) for r in refs),
                step_refs=sum(not r.path for r in refs), problems=problems, gaps=gaps,
                plan=plan if include_plans else None))
        return NestfulReport(kind=self.data.kind, source=str(self.data.folder), samples=samples)


def build_suite(kind: DatasetKind | str = "executable", *, data: NestfulData | None = None,
                calls: list[StubCall] | None = None) -> NestfulSuite:
    data = data or load_nestful(kind)
    registry, spec_gaps = build_stub_registry(data.specs, data.samples, calls=calls)
    plans: list[Plan | None] = []
    notes: list[list[SpecGap]] = []
    errors: list[str | None] = []
    for index, sample in enumerate(data.samples):
        sample_notes: list[SpecGap] = []
        try:
            plans.append(convert_sample(sample, index, registry, sample_notes))
            errors.append(None)
        except (ConversionError, ValidationError, ValueError) as exc:
            plans.append(None)
            errors.append(f"{type(exc).__name__}: {exc}")
        notes.append(sample_notes)
    return NestfulSuite(data, registry, spec_gaps, plans, notes, errors)


def convert_all(kind: DatasetKind | str = "executable", *,
                data: NestfulData | None = None) -> NestfulReport:
    """Convert and validate every sample of a NESTFUL set."""
    return build_suite(kind, data=data).report()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.nestful",
        description="Convert NESTFUL samples to JARVIS plans and validate them against stub "
                    "tools built from the spec.")
    parser.add_argument("--kind", default="executable", choices=["executable", "glaive", "sgd"])
    parser.add_argument("--out", type=Path, help="write the full report (with plans) as JSON")
    args = parser.parse_args(argv)
    report = convert_all(args.kind)
    print(report.summary())
    if args.out:
        dump = {"totals": report.totals(), **report.model_dump(mode="json")}
        args.out.write_text(json.dumps(dump, indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
        print(f"report written to {args.out}")
    return 0 if report.ok else 1

