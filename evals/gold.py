"""Gold records of the public benchmarks as JARVIS plans, with a report of what did not convert.

One layer over the dataset adapters: each benchmark's tool specs become a stub
:class:`~planner.tools.ToolRegistry` and each gold record a :class:`GoldRecord` holding our
:class:`~planner.plan.Plan`, validated against those stubs, plus :class:`Note` s saying what was
approximated or amended. A record that does not convert, or converts to a plan the validator
rejects, says exactly why (``reason`` and ``error`` / ``problems``).

Datasets (``GOLD_DATASETS``):

- ``nestful-executable``, ``nestful-glaive``, ``nestful-sgd``: NESTFUL (:mod:`evals.nestful`),
  with three gold defects mended here and noted per record: a call that repeats an earlier call's
  label gets the label its position implies (``duplicate_label``); a result entry that references
  a label no call defines is dropped (``dangling_result_ref``); a tool the spec lacks gets a stub
  inferred from the gold calls (``tool_not_in_spec``, its arguments and output fields listed as
  spec gaps);
- ``sealtools-in-domain``, ``sealtools-out-domain``: Seal-Tools (:mod:`evals.sealtools`);
- ``ultratool``, ``tmdb``: the TaskBench-format gold sets of GNN4TaskPlan (node names and links,
  no arguments; converted with :func:`evals.taskbench.record_to_plan`);
- ``worfbench-<task>``: WorfBench (:mod:`evals.worfbench`; natural-language nodes).

A gold call's argument whose value the stub's type does not accept, when the value is a reference,
widens the stub's argument type (``arg_type_mismatch``, as :mod:`evals.nestful` does for
literals), so the validator's reference type check agrees with the gold.

``python -m evals.gold [--dataset NAME ...] [--out DIR]`` prints one line per dataset (records,
converted and valid, not valid by reason, notes by kind) and writes ``gold.json`` (every record:
plan, notes, problems) and ``gold.md`` to DIR (default ``eval-reports/``).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from evals import nestful
from evals.datasets import dataset_file
from evals.reports import DEFAULT_OUT, md_table, pct, text_table, write_report
from planner.parsing import parse_plan_output
from planner.plan import Plan
from planner.refs import is_whole_ref
from planner.retry import RetrySpec
from planner.schema_paths import PathProblem, json_types, schema_at
from planner.tools import Tool, ToolRegistry
from planner.validation import Problem, validate_plan

NESTFUL_KINDS = ("executable", "glaive", "sgd")
TASKBENCH_GOLD = ("ultratool", "tmdb")

# ------------------------------------------------------------------------------------ records


class Note(BaseModel):
    """Something a conversion approximated, amended or repaired in one record."""

    kind: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.detail}"


class GoldRecord(BaseModel):
    """One gold record as a plan (or why it is not one)."""

    dataset: str
    id: str
    index: int = Field(description="Position in the source file, from 0.")
    goal: str
    plan: Plan | None = None
    problems: list[Problem] = Field(default_factory=list,
                                    description="Validator problems of the converted plan.")
    reason: str | None = Field(None, description="Why the record is not a valid plan (a code).")
    error: str | None = Field(None, description="The conversion failure, in words.")
    notes: list[Note] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.plan is not None and not self.problems and self.reason is None

    def fail(self, reason: str, error: str) -> GoldRecord:
        return self.model_copy(update={"plan": None, "reason": reason, "error": error})


@dataclass
class GoldSet:
    """A dataset's stub tools and gold records."""

    name: str
    source: str
    registry: ToolRegistry
    records: list[GoldRecord]
    approximations: list[str] = field(default_factory=list)
    """What the conversion approximates for every record of the dataset, in words."""
    eval_ids: list[str] | None = None
    """The benchmark's test split (record ids), when it has one."""
    catalog_for: Callable[[GoldRecord], ToolRegistry] | None = None
    """The tools a planner sees for a record (default: the whole registry)."""
    catalog_note: str = ""

    def catalog(self, record: GoldRecord) -> ToolRegistry:
        return self.catalog_for(record) if self.catalog_for else self.registry

    def by_id(self) -> dict[str, GoldRecord]:
        return {r.id: r for r in self.records}

    def eval_records(self) -> list[GoldRecord]:
        """The records a plan eval runs on: the test split when there is one, else all."""
        if self.eval_ids is None:
            return list(self.records)
        index = self.by_id()
        return [index[i] for i in self.eval_ids if i in index]


def validate_records(records: Iterable[GoldRecord], registry: ToolRegistry) -> list[GoldRecord]:
    """Each record with its plan's validator problems (and a reason when there are some)."""
    tools = {t.name: t for t in registry}
    out = []
    for record in records:
        if record.plan is None:
            out.append(record)
            continue
        problems = validate_plan(record.plan, tools)
        reason = ("invalid_plan: " + ",".join(sorted({p.code for p in problems}))
                  if problems else None)
        out.append(record.model_copy(update={"problems": problems, "reason": reason}))
    return out


# ------------------------------------------------------------------------ stub type widening

_PY_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool,
                             "array": list[Any], "object": dict[str, Any]}


def widen_arg(tool: Tool, key: str, extra: Iterable[Any]) -> Tool:
    """``tool`` with argument ``key`` also accepting the types in ``extra``."""
    fields: dict[str, Any] = {}
    for name, info in tool.args_model.model_fields.items():
        annotation: Any = info.annotation
        if name == key:
            for kind in extra:
                annotation = annotation | kind
        default: Any = ... if info.is_required() else info.default
        fields[name] = (annotation, Field(default, description=info.description))
    model: type[BaseModel] = create_model(
        tool.args_model.__name__, __config__=ConfigDict(**tool.args_model.model_config),
        __doc__=tool.args_model.__doc__, **fields)
    return dataclasses.replace(tool, args_model=model)


def widen_for_references(records: list[GoldRecord], registry: ToolRegistry) -> list[GoldRecord]:
    """Widen stub argument types where a gold reference passes a value of another type (the
    validator's ``type_mismatch`` on a whole reference); note each widening on its record and
    re-validate. Returns the records, validated."""
    records = validate_records(records, registry)
    changed = False
    for i, record in enumerate(records):
        plan = record.plan
        if plan is None:
            continue
        notes = list(record.notes)
        for problem in record.problems:
            if problem.code != "type_mismatch" or not problem.location.startswith("args."):
                continue
            step = plan.step(problem.step_id or "")
            key = problem.location.removeprefix("args.")
            ref = is_whole_ref(step.args.get(key))
            tool = registry.get(step.tool)
            producer = registry.get(plan.step(ref.step).tool) if ref else None
            if ref is None or tool is None or producer is None or not producer.output_schema:
                continue
            try:
                node = schema_at(producer.output_schema, ref.path)
            except PathProblem:
                continue
            kinds = sorted(json_types(node, producer.output_schema))
            extra = [_PY_TYPES[k] for k in kinds if k in _PY_TYPES]
            if not extra:
                continue
            registry.register(widen_arg(tool, key, extra), replace=True)
            changed = True
            notes.append(Note(kind="arg_type_mismatch", detail=(
                f"step '{step.id}': {problem.message}; the stub of '{tool.name}' accepts "
                f"{'/'.join(kinds)} for '{key}' too")))
        records[i] = record.model_copy(update={"notes": notes})
    return validate_records(records, registry) if changed else records


# ------------------------------------------------------------------------------- NESTFUL

_LABEL_REF = re.compile(r"\$(var\d+)\b")


def _nestful_refs(value: Any) -> set[str]:
    """NESTFUL labels (``var<n>``) referenced anywhere in ``value``."""
    return set(_LABEL_REF.findall(json.dumps(value, ensure_ascii=False)))


def fix_nestful_sample(sample: nestful.Sample) -> tuple[nestful.Sample, list[Note], str | None]:
    """Mend the gold defects of one NESTFUL sample: (sample, notes, error or None)."""
    notes: list[Note] = []
    calls = sample.calls()
    taken = {c.label for c in calls if c.label}
    seen: set[str] = set()
    output: list[nestful.Call] = []
    position = 0
    for call in sample.output:
        if call.name == nestful.RESULT_CALL:
            output.append(call)
            continue
        position += 1
        label = call.label
        if label and label in seen:
            wanted = f"var{position}"
            new = wanted if wanted not in taken else _free_label(label, taken)
            taken.add(new)
            notes.append(Note(kind="duplicate_label", detail=(
                f"call {position} ({call.name}) reuses the label '{label}' of an earlier call; "
                f"relabelled '{new}'" + (" (the label its position implies)" if new == wanted
                                         else ""))))
            call = call.model_copy(update={"label": new})
            label = new
        if label:
            seen.add(label)
        output.append(call)
    labels = {c.label for c in output if c.name != nestful.RESULT_CALL and c.label}
    error = None
    for call in output:
        if call.name == nestful.RESULT_CALL:
            continue
        dangling = sorted(_nestful_refs(call.arguments) - labels)
        if dangling:
            error = (f"call '{call.label}' ({call.name}) references "
                     f"{', '.join('$' + d for d in dangling)}, which no call defines")
    fixed: list[nestful.Call] = []
    for call in output:
        if call.name != nestful.RESULT_CALL:
            fixed.append(call)
            continue
        kept = {}
        for key, value in call.arguments.items():
            dangling = sorted(_nestful_refs(value) - labels)
            if dangling:
                notes.append(Note(kind="dangling_result_ref", detail=(
                    f"result '{key}' references {', '.join('$' + d for d in dangling)}, which "
                    "no call defines; dropped from the plan's outputs")))
            else:
                kept[key] = value
        fixed.append(call.model_copy(update={"arguments": kept}))
    return sample.model_copy(update={"output": fixed}), notes, error


def _free_label(label: str, taken: set[str]) -> str:
    n = 2
    while f"{label}_{n}" in taken:
        n += 1
    return f"{label}_{n}"


def nestful_gold(kind: str = "executable") -> GoldSet:
    """A NESTFUL set (``executable``, ``glaive``, ``sgd``) as gold plans."""
    data = nestful.load_nestful(kind)
    name = f"nestful-{kind}"
    fixed = [fix_nestful_sample(s) for s in data.samples]
    samples = [f[0] for f in fixed]
    spec_names = {s.name for s in data.specs}
    missing = sorted({c.name for s in samples for c in s.calls() if c.name not in spec_names})
    specs = [*data.specs, *(nestful.ToolSpec(
        name=n, description=f"{n} (not in the NESTFUL {kind} spec: a stub inferred from the "
                            "gold calls)") for n in missing)]
    full, gaps = nestful.build_stub_registry(specs, samples)
    registry = ToolRegistry()
    for tool_name in [*(s.name for s in specs), nestful.CALC_TOOL]:
        tool = full.get(tool_name)
        if tool is not None and tool_name not in registry:
            registry.register(tool)
    records: list[GoldRecord] = []
    for index, (sample, notes, error) in enumerate(fixed):
        record = GoldRecord(dataset=name, id=str(index), index=index, goal=sample.input)
        notes = list(notes)
        notes += [Note(kind="tool_not_in_spec", detail=(
            f"calls '{c.name}', which the spec lacks; a stub inferred from the gold calls "
            "stands in")) for c in sample.calls() if c.name in missing]
        notes += [Note(kind=g.kind, detail=f"{g.tool}: {g.detail}") for g in gaps
                  if g.sample_index == index]
        if error is not None:
            records.append(record.model_copy(update={"notes": notes}).fail("dangling_ref",
                                                                            error))
            continue
        rewrites: list[nestful.SpecGap] = []
        try:
            plan = nestful.convert_sample(sample, index, full, rewrites)
        except (nestful.ConversionError, ValidationError, ValueError) as exc:
            records.append(record.model_copy(update={"notes": notes}).fail(
                "conversion_error", f"{type(exc).__name__}: {exc}"))
            continue
        notes += [Note(kind=g.kind, detail=f"{g.tool}: {g.detail}") for g in rewrites]
        records.append(record.model_copy(update={"plan": plan, "notes": notes}))
    records = widen_for_references(records, registry)
    return GoldSet(
        name=name, source=str(data.folder), registry=registry, records=records,
        approximations=[
            "One step per gold call, labelled as in NESTFUL (var1, var2...); `$var1.a.b$` "
            "references become `${var1.a.b}` and the final `var_result` call becomes the "
            "plan's `outputs` (evals/nestful).",
            "Stub tools come from the spec; where the gold calls disagree with it the stub is "
            "amended and the record lists each spec gap (unknown_arg, missing_required_arg, "
            "arg_type_mismatch, unknown_output_field).",
            "Gold defects mended here: duplicate_label, dangling_result_ref, tool_not_in_spec "
            "(see each record's notes).",
        ])


# --------------------------------------------------------------- TaskBench-format gold sets


class _OpenArgs(BaseModel):
    """Any arguments: the dataset declares none for this tool."""

    model_config = ConfigDict(extra="allow")


def open_stub_tool(name: str, description: str) -> Tool:
    """A stub for a tool known by name and description only: it accepts any arguments and
    declares no output schema (so references to any field validate)."""

    async def stub(**kwargs: Any) -> dict[str, str]:
        digest = hashlib.sha256(json.dumps([name, kwargs], sort_keys=True, default=str)
                                .encode()).hexdigest()[:12]
        return {"output": f"{name}#{digest}"}

    stub.__name__ = stub.__qualname__ = "stub_" + re.sub(r"\W", "_", name)
    return Tool(name=name, description=description or name, fn=stub, args_model=_OpenArgs,
                output_schema=None, timeout_s=10.0, retry=RetrySpec(max_attempts=1))


def _read_json_lines(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return whole if isinstance(whole, list) else [whole]


def taskbench_gold(name: str) -> GoldSet:
    """GNN4TaskPlan's ``ultratool`` or ``tmdb`` gold (TaskBench format, no arguments)."""
    from evals.taskbench import ToolSpec, record_to_plan

    if name not in TASKBENCH_GOLD:
        raise ValueError(f"unknown TaskBench-format gold set {name!r}; choose {TASKBENCH_GOLD}")
    folder = ("gnn4taskplan", "data", name)
    desc = json.loads(dataset_file(*folder, "tool_desc.json").read_text(encoding="utf-8"))
    specs = [ToolSpec.model_validate(n) for n in desc["nodes"]]
    registry = ToolRegistry()
    for spec in specs:
        registry.register(open_stub_tool(spec.id, spec.desc))
    index = {s.id: s for s in specs}
    data_path = dataset_file(*folder, "data.json")
    records: list[GoldRecord] = []
    for i, raw in enumerate(_read_json_lines(data_path)):
        rid = str(raw.get("id", i)) if isinstance(raw, dict) else str(i)
        goal = str(raw.get("user_request") or "") if isinstance(raw, dict) else ""
        record = GoldRecord(dataset=name, id=rid, index=i, goal=goal.strip())
        if not isinstance(raw, dict):
            records.append(record.fail("not_a_record", f"line {i + 1} is not a JSON object"))
            continue
        converted = record_to_plan(raw, index)
        notes = [Note(kind=x.kind, detail=(f"node {x.node}: " if x.node is not None else "")
                      + x.detail) for x in converted.issues if x.kind != "arguments_null"]
        outcome = parse_plan_output(converted.to_json(), goal=goal or f"{name} {rid}")
        notes += [Note(kind="parser_fix", detail=f) for f in outcome.fixes]
        record = record.model_copy(update={"notes": notes})
        if outcome.plan is None:
            records.append(record.fail("unparseable", "; ".join(map(str, outcome.problems))))
        elif converted.defects:
            records.append(record.model_copy(update={"plan": outcome.plan}).fail(
                "conversion_defect", "; ".join(map(str, converted.defects))))
        else:
            records.append(record.model_copy(update={"plan": outcome.plan}))
    split = json.loads(dataset_file(*folder, "split_ids.json").read_text(encoding="utf-8"))
    eval_ids = [str(x) for ids in split.get("test_ids", {}).values() for x in ids]
    return GoldSet(
        name=name, source=str(data_path), registry=registry,
        records=validate_records(records, registry), eval_ids=eval_ids,
        approximations=[
            "Gold nodes carry no arguments: each step has empty `args`; the stub tools accept "
            "any arguments (the spec declares none) and declare no output schema.",
            "Each link becomes a `deps` entry of its target step (ordering only: the gold "
            "does not say which output flows).",
            "When a tool occurs more than once, a link names two tools, not two nodes: it is "
            "attached to the nearest forward node pair (noted as `ambiguous_link`).",
        ])


# ----------------------------------------------------------------------------- the datasets


def _worfbench_names() -> tuple[str, ...]:
    from evals.worfbench import TASKS

    return tuple(f"worfbench-{t}" for t in TASKS)


def _sealtools_names() -> tuple[str, ...]:
    from evals.sealtools import SPLITS

    return tuple(f"sealtools-{s.replace('_', '-')}" for s in SPLITS)


def gold_datasets() -> tuple[str, ...]:
    """Every dataset name :func:`load_gold` accepts."""
    return (*(f"nestful-{k}" for k in NESTFUL_KINDS), *_sealtools_names(), *TASKBENCH_GOLD,
            *_worfbench_names())


@functools.cache
def load_gold(name: str) -> GoldSet:
    """The gold set ``name`` (one of :func:`gold_datasets`), built once per process."""
    if name.startswith("nestful-") and name.removeprefix("nestful-") in NESTFUL_KINDS:
        return nestful_gold(name.removeprefix("nestful-"))
    if name in TASKBENCH_GOLD:
        return taskbench_gold(name)
    if name in _sealtools_names():
        from evals.sealtools import sealtools_gold

        return sealtools_gold(name.removeprefix("sealtools-").replace("-", "_"))
    if name in _worfbench_names():
        from evals.worfbench import worfbench_gold

        return worfbench_gold(name.removeprefix("worfbench-"))
    raise ValueError(f"unknown gold dataset {name!r}; choose one of {', '.join(gold_datasets())}")


# ---------------------------------------------------------------------------------- report


class Failure(BaseModel):
    id: str
    index: int
    reason: str
    detail: str


class RecordNote(BaseModel):
    id: str
    kind: str
    detail: str


FEW_NOTES = 30


class ConversionSummary(BaseModel):
    """Per dataset: how many gold records are valid plans, why the others are not."""

    dataset: str
    source: str
    records: int
    valid: int
    not_valid: int
    reasons: dict[str, int] = Field(description="Records not valid, per reason.")
    notes: dict[str, int] = Field(description="Notes (approximations, amendments) per kind.")
    records_with_notes: int
    approximations: list[str]
    failures: list[Failure]
    few_notes: list[RecordNote] = Field(default_factory=list, description=(
        f"Every note of the kinds with at most {FEW_NOTES} occurrences."))
    seconds: float = 0.0


def _ranked(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def summarise(gold: GoldSet, seconds: float = 0.0) -> ConversionSummary:
    bad = [r for r in gold.records if not r.ok]
    failures = [Failure(id=r.id, index=r.index, reason=r.reason or "invalid_plan",
                        detail=r.error or "; ".join(map(str, r.problems))) for r in bad]
    notes = Counter(n.kind for r in gold.records for n in r.notes)
    few = [RecordNote(id=r.id, kind=n.kind, detail=n.detail) for r in gold.records
           for n in r.notes if notes[n.kind] <= FEW_NOTES]
    return ConversionSummary(
        dataset=gold.name, source=gold.source, records=len(gold.records), few_notes=few,
        valid=len(gold.records) - len(bad), not_valid=len(bad),
        reasons=_ranked(Counter(f.reason for f in failures)),
        notes=_ranked(notes),
        records_with_notes=sum(bool(r.notes) for r in gold.records),
        approximations=gold.approximations, failures=failures, seconds=round(seconds, 2))


def convert_datasets(names: Sequence[str]) -> tuple[list[ConversionSummary], list[GoldSet]]:
    summaries, sets = [], []
    for name in names:
        started = time.perf_counter()
        gold = load_gold(name)
        sets.append(gold)
        summaries.append(summarise(gold, time.perf_counter() - started))
    return summaries, sets


def _counts(counts: dict[str, int], limit: int = 6) -> str:
    items = list(counts.items())
    shown = ", ".join(f"{k} {n}" for k, n in items[:limit])
    return (shown + (f", +{len(items) - limit} more" if len(items) > limit else "")) or "-"


def render_table(summaries: Sequence[ConversionSummary]) -> str:
    header = ("dataset", "records", "converted+valid", "not valid (by reason)", "notes by kind")
    rows = [(s.dataset, s.records, pct(s.valid, s.records), _counts(s.reasons) if s.not_valid
             else "0", _counts(s.notes, 4)) for s in summaries]
    return text_table(header, rows)


def render_markdown(summaries: Sequence[ConversionSummary]) -> str:
    total = sum(s.records for s in summaries)
    valid = sum(s.valid for s in summaries)
    out = ["# Gold records as JARVIS plans", "",
           "Each benchmark's tool specs become stub tools and each gold record a plan, "
           "validated by `planner.validation.validate_plan` (`python -m evals.gold`).",
           f"{valid} of {total} records convert and validate.", ""]
    out += md_table(("dataset", "records", "converted+valid", "not valid", "reasons",
                     "records with notes"),
                    [(s.dataset, s.records, pct(s.valid, s.records), s.not_valid,
                      _counts(s.reasons, 20) if s.not_valid else "-", s.records_with_notes)
                     for s in summaries], "lrrrlr")
    for s in summaries:
        out += ["", f"## {s.dataset}", "", f"Source: `{s.source}`. {s.records} records, "
                f"{s.valid} converted and valid, {s.not_valid} not.", ""]
        if s.approximations:
            out += ["What the conversion approximates:", ""]
            out += [f"- {a}" for a in s.approximations] + [""]
        if s.notes:
            out += ["Notes per kind (occurrences): " + ", ".join(
                f"`{k}` {n}" for k, n in s.notes.items()), ""]
        few = [k for k, n in s.notes.items() if n <= FEW_NOTES]
        if few:
            out += [f"Notes of the kinds with at most {FEW_NOTES} occurrences, in full (every "
                    "note is in gold.json):", ""]
            out += md_table(("id", "kind", "detail"),
                            [(n.id, n.kind, n.detail[:300]) for n in s.few_notes])
            out += [""]
        if s.failures:
            out += ["Records that are not valid plans:", ""]
            out += md_table(("id", "reason", "detail"),
                            [(f.id, f.reason, f.detail[:400]) for f in s.failures])
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.gold",
        description="Convert every gold record of the public benchmarks to a JARVIS plan, "
                    "validate it against stub tools, and report what does not convert.")
    parser.add_argument("--dataset", action="append", choices=gold_datasets(),
                        help="a dataset (repeatable; default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder for gold.json and gold.md (default: {DEFAULT_OUT}/)")
    args = parser.parse_args(argv)
    summaries, sets = convert_datasets(args.dataset or gold_datasets())
    print(render_table(summaries))
    data = {"summaries": summaries,
            "records": {g.name: [r.model_dump(mode="json", exclude_none=True) for r in g.records]
                        for g in sets}}
    json_path, md_path = write_report(args.out, "gold", data, render_markdown(summaries))
    total, valid = sum(s.records for s in summaries), sum(s.valid for s in summaries)
    print(f"\n{valid} of {total} gold records convert and validate; reports: {json_path}, "
          f"{md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
