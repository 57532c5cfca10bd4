"""Real model plans from GNN4TaskPlan, put through the path an LLM answer takes in JARVIS.

GNN4TaskPlan (Wu et al., NeurIPS 2024) published the plans CodeLlama-13B and Mistral-7B produced
for the TaskBench ``huggingface`` and ``multimedia`` test requests (``prediction/<domain>/<model>/
direct.json``, JSONL in TaskBench format). Each one is converted to our plan schema
(:func:`evals.taskbench.record_to_plan`), serialised to JSON text, parsed with
:func:`planner.parsing.parse_plan_output` and validated against stub tools built from TaskBench's
``tool_desc.json``, then classified:

- **accepted**: a valid plan as is;
- **repair_needed**: a plan, but the validator found problems (unknown tool, reference to an
  unknown step or field, bad arguments, cycle...) or the conversion found a defect the plan cannot
  show (a link naming a tool absent from the plan, a placeholder argument): a repair round would
  have to fix them;
- **rejected**: no plan at all (the parser's ``unparseable`` / ``bad_plan_shape``).

``python -m evals.gnn4taskplan [--out DIR] [--named-args keep]`` prints a table per file and writes
``gnn4taskplan.json`` (every record's verdict, problems and conversion issues) and
``gnn4taskplan.md`` to DIR (default ``eval-reports/`` under the current directory).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from evals.datasets import dataset_file
from evals.taskbench import DEFECTS, NamedArgs, RecordResult, TaskBenchTools, evaluate_record
from planner.validation import Problem

MODELS = ("CodeLlama-13b", "mistral-7b")
DOMAINS = ("huggingface", "multimedia")
DEFAULT_OUT = Path("eval-reports")
TOP_CODES = 4


class FileReport(BaseModel):
    domain: str
    model: str
    source: str
    records: int
    accepted: int
    repair_needed: int
    rejected: int
    steps: int = Field(description="Steps in the plans that parsed.")
    codes: dict[str, int] = Field(description="Records with each problem code or defect.")
    problems: dict[str, int] = Field(description="Validator/parser problems per code.")
    issues: dict[str, int] = Field(description="Conversion issues per kind (notes, defects).")
    results: list[RecordResult] = Field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.model}"

    def top_codes(self, n: int = TOP_CODES) -> list[tuple[str, int]]:
        return list(self.codes.items())[:n]


def prediction_file(domain: str, model: str) -> Path:
    return dataset_file("gnn4taskplan", "prediction", domain, model, "direct.json")


def _read_line(line: str, index: int, tools: TaskBenchTools, named_args: NamedArgs,
               keep_plans: bool) -> RecordResult:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        problem = Problem(code="unparseable", location=f"line {index + 1}",
                          message=f"the record is not JSON: {exc.msg}")
        return RecordResult(index=index, verdict="rejected", codes=["unparseable"],
                            problems=[problem])
    return evaluate_record(record, tools, index=index, named_args=named_args,
                           keep_plan=keep_plans)


def _ranked(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def evaluate_file(domain: str, model: str, *, tools: TaskBenchTools | None = None,
                  named_args: NamedArgs = "by_type", keep_plans: bool = False) -> FileReport:
    """Every prediction of one (domain, model) file, classified (``keep_plans``: with the
    converted plan JSON of each)."""
    tools = tools or TaskBenchTools.load(domain)
    path = prediction_file(domain, model)
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    results = [_read_line(line, i, tools, named_args, keep_plans)
               for i, line in enumerate(lines)]
    verdicts = Counter(r.verdict for r in results)
    return FileReport(
        domain=domain, model=model, source=str(path), records=len(results),
        accepted=verdicts["accepted"], repair_needed=verdicts["repair_needed"],
        rejected=verdicts["rejected"], steps=sum(r.steps for r in results),
        codes=_ranked(Counter(c for r in results for c in r.codes)),
        problems=_ranked(Counter(p.code for r in results for p in r.problems)),
        issues=_ranked(Counter(i.kind for r in results for i in r.issues)),
        results=results)


def evaluate_all(named_args: NamedArgs = "by_type", *,
                 keep_plans: bool = False) -> list[FileReport]:
    reports: list[FileReport] = []
    for domain in DOMAINS:
        tools = TaskBenchTools.load(domain)
        reports.extend(evaluate_file(domain, model, tools=tools, named_args=named_args,
                                     keep_plans=keep_plans) for model in MODELS)
    return reports


def _pct(part: int, whole: int) -> str:
    return f"{part} ({100 * part / whole:.0f}%)" if whole else str(part)


def _codes_text(report: FileReport) -> str:
    return ", ".join(f"{code} {n}" for code, n in report.top_codes()) or "-"


def render_table(reports: Sequence[FileReport]) -> str:
    header = ("file", "records", "accepted", "repair-needed", "rejected",
              f"top problem codes (records, top {TOP_CODES})")
    rows = [(r.name, str(r.records), _pct(r.accepted, r.records),
             _pct(r.repair_needed, r.records), _pct(r.rejected, r.records), _codes_text(r))
            for r in reports]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(reports: Sequence[FileReport], *, named_args: NamedArgs,
                    seconds: float) -> str:
    out = [
        "# GNN4TaskPlan predictions through the JARVIS plan parser and validator",
        "",
        "Each TaskBench-format prediction is converted to our plan schema (`evals/taskbench.py`),"
        " serialised to JSON, parsed with `parse_plan_output` and validated against stub tools "
        "built from TaskBench's `tool_desc.json`.",
        f"Named arguments: `{named_args}`. Run time: {seconds:.1f} s.",
        "",
        "| file | records | accepted | repair-needed | rejected | top problem codes (records) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    out += [f"| {r.name} | {r.records} | {_pct(r.accepted, r.records)} | "
            f"{_pct(r.repair_needed, r.records)} | {_pct(r.rejected, r.records)} | "
            f"{_codes_text(r)} |" for r in reports]
    out += ["", "## Problem codes and conversion defects (records affected)", "",
            "Conversion defects (" + ", ".join(f"`{d}`" for d in sorted(DEFECTS)) + ") are model "
            "errors the plan cannot show; the other codes come from the validator or parser.", ""]
    codes = sorted({c for r in reports for c in r.codes},
                   key=lambda c: -sum(r.codes.get(c, 0) for r in reports))
    out += _matrix(reports, codes, lambda r, c: r.codes.get(c, 0))
    out += ["", "## Conversion issues (occurrences)", "",
            "Notes say how a TaskBench value was read (see `evals/taskbench.py`).", ""]
    kinds = sorted({k for r in reports for k in r.issues},
                   key=lambda k: -sum(r.issues.get(k, 0) for r in reports))
    out += _matrix(reports, kinds, lambda r, k: r.issues.get(k, 0))
    return "\n".join(out) + "\n"


def _matrix(reports: Sequence[FileReport], keys: Sequence[str],
            value: Callable[[FileReport, str], int]) -> list[str]:
    if not keys:
        return ["(none)"]
    lines = ["| | " + " | ".join(r.name for r in reports) + " |",
             "|---|" + "---:|" * len(reports)]
    lines += [f"| `{k}` | " + " | ".join(str(value(r, k)) for r in reports) + " |"
              for k in keys]
    return lines


def write_reports(reports: Sequence[FileReport], out: Path, *, named_args: NamedArgs,
                  seconds: float) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    stem = "gnn4taskplan" if named_args == "by_type" else f"gnn4taskplan-{named_args}-names"
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    dump = {"named_args": named_args, "seconds": round(seconds, 2),
            "files": [r.model_dump(mode="json") for r in reports]}
    json_path.write_text(json.dumps(dump, indent=1, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    md_path.write_text(render_markdown(reports, named_args=named_args, seconds=seconds),
                       encoding="utf-8")
    return json_path, md_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.gnn4taskplan",
        description="Classify GNN4TaskPlan's model plans (TaskBench format) with the JARVIS "
                    "plan parser and validator.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder for the JSON and Markdown reports (default: {DEFAULT_OUT}/)")
    parser.add_argument("--named-args", choices=["by_type", "keep"], default="by_type",
                        help="by_type (default): like TaskBench's evaluator, an argument name "
                             "that is no input of the tool is ignored and the value placed by "
                             "type; keep: names are kept and the validator judges them")
    args = parser.parse_args(argv)
    named_args: NamedArgs = "keep" if args.named_args == "keep" else "by_type"
    started = time.perf_counter()
    reports = evaluate_all(named_args)
    seconds = time.perf_counter() - started
    print(render_table(reports))
    json_path, md_path = write_reports(reports, args.out, named_args=named_args,
                                       seconds=seconds)
    print(f"\n{sum(r.records for r in reports)} predictions in {seconds:.1f} s; "
          f"reports: {json_path}, {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
