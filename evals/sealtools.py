"""Seal-Tools test sets as JARVIS plans, against stub tools built from ``tool.jsonl``.

Seal-Tools (Wu et al. 2024) records are ``{"id", "query", "calling": [{"api", "parameters",
"responses": ["API_call_0", ...]}]}``. A call's ``responses`` name its output fields in the order
the tool spec lists them (``analyzeWord`` responds ``root, prefix, suffix`` as ``API_call_0..2``),
and a parameter whose value is one of those names receives that field: a field-level data-flow
edge. So each call becomes a step ``call<i>`` and ``"API_call_2"`` becomes ``${call0.suffix}``.

The conversion reuses :mod:`evals.nestful`: each Seal-Tools tool becomes a NESTFUL
:class:`~evals.nestful.ToolSpec` (parameters typed ``str/int/float/bool``, ``required`` from the
spec, output fields from ``responses``) and each record a NESTFUL
:class:`~evals.nestful.Sample` whose references are ``$call0.suffix$``; the stub registry
(:func:`evals.nestful.build_stub_registry`) and the plan (:func:`evals.nestful.convert_sample`)
then come from there, with every disagreement between a gold call and its spec recorded as a
spec gap. One registry serves both test sets.

A record is not expressible when a parameter names a response id no call produced, when a call
names a tool the spec lacks, when a call lists a different number of responses than its tool
has output fields, or when a referenced field name cannot be written in a NESTFUL reference
(``.``, ``$``, ``[`` or ``]`` in it); none of these occurs in the published test sets.

For a plan eval, a request sees its gold tools plus :data:`DISTRACTORS` other tools (the same
top-level field first, chosen deterministically from the record id): 4,076 tools do not fit a
prompt, and Seal-Tools' own evaluation also retrieves a subset.

``python -m evals.gold --dataset sealtools-in-domain`` reports the conversion.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from evals import nestful
from evals.datasets import dataset_file
from evals.gold import GoldRecord, GoldSet, Note, widen_for_references
from planner.tools import ToolRegistry

SPLITS = ("in_domain", "out_domain")
FOLDER = ("seal-tools", "Seal-Tools_Dataset")
DISTRACTORS = 8
_RESPONSE_ID = re.compile(r"API_call_\d+")
_UNREFERENCEABLE = re.compile(r"[.$\[\]]")


class SealParam(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = "str"
    description: str = ""


class SealTool(BaseModel):
    """One line of ``tool.jsonl``."""

    model_config = ConfigDict(extra="allow")

    api_name: str
    api_description: str = ""
    field: str = ""
    parameters: dict[str, SealParam] = Field(default_factory=dict)
    required: list[str] = Field(default_factory=list)
    responses: dict[str, SealParam] = Field(default_factory=dict)

    def to_spec(self) -> nestful.ToolSpec:
        required = set(self.required)
        return nestful.ToolSpec(
            name=self.api_name, description=self.api_description,
            query_parameters={k: nestful.ParamSpec(type=p.type, description=p.description,
                                                   required=k in required)
                              for k, p in self.parameters.items()},
            output_parameters={k: {"type": p.type, "description": p.description}
                               for k, p in self.responses.items()})

    @property
    def domain(self) -> str:
        return self.field.split("/")[0]


class SealCall(BaseModel):
    model_config = ConfigDict(extra="allow")

    api: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    responses: list[str] = Field(default_factory=list)


class SealRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    query: str
    calling: list[SealCall]


class SealConversionError(ValueError):
    """A record our plan format cannot express (with the reason code)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@functools.cache
def load_tools() -> tuple[SealTool, ...]:
    path = dataset_file(*FOLDER, "tool.jsonl")
    return tuple(SealTool.model_validate_json(line)
                 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def load_records(split: str) -> list[SealRecord]:
    if split not in SPLITS:
        raise ValueError(f"unknown Seal-Tools split {split!r}; choose one of {SPLITS}")
    path = dataset_file(*FOLDER, f"test_{split}.jsonl")
    adapter = TypeAdapter(SealRecord)
    return [adapter.validate_json(line)
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def label(position: int) -> str:
    """The step id of the call at ``position`` (from 0)."""
    return f"call{position}"


def to_sample(record: SealRecord, tools: Mapping[str, SealTool]) -> nestful.Sample:
    """The record as a NESTFUL sample (``API_call_k`` -> ``$call<i>.<field>$``); raises
    SealConversionError when it cannot be expressed."""
    produced: dict[str, tuple[str, str]] = {}
    for i, call in enumerate(record.calling):
        tool = tools.get(call.api)
        if tool is None:
            raise SealConversionError("tool_not_in_spec",
                                      f"call {i} names '{call.api}', which tool.jsonl lacks")
        fields = list(tool.responses)
        if len(fields) != len(call.responses):
            raise SealConversionError(
                "response_count", f"call {i} ({call.api}) lists {len(call.responses)} "
                f"responses; the tool has {len(fields)} output fields")
        for response, name in zip(call.responses, fields, strict=True):
            produced[response] = (label(i), name)

    def value(v: Any, where: str) -> Any:
        if isinstance(v, str) and _RESPONSE_ID.fullmatch(v.strip()):
            if v.strip() not in produced:
                raise SealConversionError("dangling_ref", f"{where} is {v!r}, which no "
                                          "call responds")
            step, name = produced[v.strip()]
            if _UNREFERENCEABLE.search(name):
                raise SealConversionError("unreferenceable_field", f"{where} references "
                                          f"field {name!r} of {step}")
            return f"${step}.{name}$"
        if isinstance(v, list):
            return [value(x, where) for x in v]
        if isinstance(v, dict):
            return {k: value(x, where) for k, x in v.items()}
        return v

    calls = [nestful.Call(name=c.api, label=label(i),
                          arguments={k: value(v, f"call {i} ({c.api}) parameter '{k}'")
                                     for k, v in c.parameters.items()})
             for i, c in enumerate(record.calling)]
    return nestful.Sample(input=record.query, output=calls)


@functools.cache
def _suite() -> tuple[ToolRegistry, ToolRegistry, dict[str, list[tuple[SealRecord, Any]]],
                      list[nestful.SpecGap]]:
    """(full stub registry, registry without built-ins, per split: (record, Sample or
    SealConversionError), spec gaps indexed over both splits in order)."""
    tools = {t.api_name: t for t in load_tools()}
    by_split: dict[str, list[tuple[SealRecord, Any]]] = {}
    samples: list[nestful.Sample] = []
    for split in SPLITS:
        rows: list[tuple[SealRecord, Any]] = []
        for record in load_records(split):
            try:
                sample: Any = to_sample(record, tools)
                samples.append(sample)
            except SealConversionError as exc:
                sample = exc
                samples.append(nestful.Sample(input=record.query, output=[]))
            rows.append((record, sample))
        by_split[split] = rows
    full, gaps = nestful.build_stub_registry([t.to_spec() for t in tools.values()], samples)
    registry = ToolRegistry()
    for name in tools:
        registry.register(full[name])
    return full, registry, by_split, gaps


def sealtools_gold(split: str = "in_domain") -> GoldSet:
    """One Seal-Tools test set (``in_domain`` or ``out_domain``) as gold plans."""
    if split not in SPLITS:
        raise ValueError(f"unknown Seal-Tools split {split!r}; choose one of {SPLITS}")
    full, registry, by_split, gaps = _suite()
    offset = sum(len(by_split[s]) for s in SPLITS[:SPLITS.index(split)])
    name = f"sealtools-{split.replace('_', '-')}"
    records: list[GoldRecord] = []
    for index, (raw, sample) in enumerate(by_split[split]):
        record = GoldRecord(dataset=name, id=raw.id, index=index, goal=raw.query.strip())
        if isinstance(sample, SealConversionError):
            records.append(record.fail(sample.reason, str(sample)))
            continue
        notes = [Note(kind=g.kind, detail=f"{g.tool}: {g.detail}") for g in gaps
                 if g.sample_index == offset + index]
        rewrites: list[nestful.SpecGap] = []
        try:
            plan = nestful.convert_sample(sample, offset + index, full, rewrites)
        except (nestful.ConversionError, ValidationError, ValueError) as exc:
            records.append(record.model_copy(update={"notes": notes}).fail(
                "conversion_error", f"{type(exc).__name__}: {exc}"))
            continue
        notes += [Note(kind=g.kind, detail=f"{g.tool}: {g.detail}") for g in rewrites]
        records.append(record.model_copy(update={"plan": plan, "notes": notes}))
    tools = {t.api_name: t for t in load_tools()}
    return GoldSet(
        name=name, source=str(dataset_file(*FOLDER, f"test_{split}.jsonl")), registry=registry,
        records=widen_for_references(records, registry),
        catalog_for=functools.partial(catalog, registry=registry, tools=tools),
        catalog_note=(f"each request sees its gold tools plus {DISTRACTORS} other Seal-Tools "
                      "tools (same top-level field first, chosen deterministically), not all "
                      f"{len(tools)}"),
        approximations=[
            "One step per call (`call0`, `call1`...). `API_call_k` names the k-th output field "
            "of the call that responded it, so a parameter holding it becomes a field "
            "reference such as `${call0.suffix}` (evals/nestful does the conversion).",
            "Stub tools come from tool.jsonl (parameter types str/int/float/bool, `required`, "
            "`responses` as output fields); where a gold call disagrees with its spec the stub "
            "is amended and the record lists the spec gap.",
            "Seal-Tools has no final-answer mapping: the plans have no `outputs`.",
        ])


def catalog(record: GoldRecord, *, registry: ToolRegistry, tools: Mapping[str, SealTool],
            distractors: int = DISTRACTORS) -> ToolRegistry:
    """The tools a planner sees for ``record``: its gold tools plus ``distractors`` others,
    those sharing a gold tool's top-level field first, ordered by a hash of the record id."""
    gold = sorted({s.tool for s in record.plan.steps} if record.plan else set())
    domains = {tools[g].domain for g in gold if g in tools}

    def rank(name: str) -> str:
        return hashlib.sha256(f"{record.id}/{name}".encode()).hexdigest()

    same = sorted((n for n, t in tools.items() if t.domain in domains and n not in gold),
                  key=rank)
    picked = same[:distractors]
    if len(picked) < distractors:
        others = sorted((n for n in tools if n not in gold and n not in picked), key=rank)
        picked += others[:distractors - len(picked)]
    out = ToolRegistry()
    for name in [*gold, *picked]:
        tool = registry.get(name)
        if tool is not None:
            out.register(tool)
    return out


__all__ = ["DISTRACTORS", "SPLITS", "SealCall", "SealConversionError", "SealRecord", "SealTool",
           "catalog", "label", "load_records", "load_tools", "sealtools_gold", "to_sample"]
