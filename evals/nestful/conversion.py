"""One NESTFUL sample -> one of our plans."""

from __future__ import annotations

import ast
import re
from typing import Any

from evals.nestful.data import CALC_TOOL, RESULT_CALL, Sample
from evals.nestful.gaps import GapKind, SpecGap
from evals.nestful.references import Template, _labels, _nestful_text
from evals.nestful.registry import _parsed_args, default_stub_registry
from evals.nestful.schemas import walk_schema
from planner.plan import Plan, Step
from planner.refs import STEP_ID_PATTERN, Ref, format_path
from planner.schema_paths import json_types
from planner.tools import Tool, ToolRegistry


class ConversionError(ValueError):
    """A sample that cannot be expressed as a plan at all."""


def _escape(text: str) -> str:
    return text.replace("${", "$${")


def _step_id(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "_", text)[:56]
    if not re.fullmatch(STEP_ID_PATTERN, base):
        base = "s_" + base[:54]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


class _Converter:
    def __init__(self, sample: Sample, index: int, registry: ToolRegistry,
                 notes: list[SpecGap]) -> None:
        self.sample = sample
        self.index = index
        self.registry = registry
        self.notes = notes
        self.labels = _labels(sample)
        self.taken = set(self.labels)

    def note(self, tool: str, kind: GapKind, detail: str, field: str = "") -> None:
        gap = SpecGap(tool=tool, kind=kind, detail=detail, sample_index=self.index, field=field)
        if gap not in self.notes:
            self.notes.append(gap)

    def ref(self, ref: Ref, where: str) -> Ref:
        """``ref`` with NESTFUL's "field of a list = field of its first element" made explicit."""
        producer = self.registry.get(self.labels[ref.step].name)
        if producer is None or not producer.output_schema:
            return ref
        walk = walk_schema(producer.output_schema, ref.path)
        if not walk.first_element:
            return ref
        fixed = Ref(ref.step, walk.path)
        lists = ", ".join(f"'{format_path(walk.path[:i]).lstrip('.')}'"
                          for i in walk.first_element)
        self.note(producer.name, "array_first_element",
                  f"{where} applies a field to the list {lists} in {_nestful_text(ref)}; "
                  f"NESTFUL means its first element: rewritten to {fixed}", format_path(fixed.path))
        return fixed

    def value(self, parsed: Any, where: str, tool: str, key: str) -> Any:
        if isinstance(parsed, Template):
            if parsed.repaired:
                assert parsed.whole is not None
                self.note(tool, "malformed_ref",
                          f"{where}: {parsed.original!r} lacks a '$'; read as "
                          f"{_nestful_text(parsed.whole)}", key)
            return "".join(str(self.ref(p, where)) if isinstance(p, Ref) else _escape(p)
                           for p in parsed.parts)
        if isinstance(parsed, dict):
            return {k: self.value(v, where, tool, key) for k, v in parsed.items()}
        if isinstance(parsed, list):
            return [self.value(v, where, tool, key) for v in parsed]
        if isinstance(parsed, str):
            return _escape(parsed)
        return parsed

    def needs_calc(self, tool: Tool | None, key: str, parsed: Any) -> bool:
        if tool is None or CALC_TOOL not in self.registry:
            return False
        if not isinstance(parsed, Template) or parsed.whole is not None:
            return False
        schema = tool.args_model.model_json_schema()
        kinds = json_types(schema.get("properties", {}).get(key), schema)
        return bool(kinds) and "string" not in kinds

    def calc_step(self, step_id: str, tool: Tool, key: str, parsed: Template) -> Step | None:
        variables: dict[str, str] = {}
        text: list[str] = []
        for part in parsed.parts:
            if isinstance(part, str):
                text.append(part)
                continue
            name = f"v{len(variables)}"
            ref = self.ref(part, f"step '{step_id}' argument '{key}'")
            variables[name] = str(ref)
            producer = self.registry.get(self.labels[ref.step].name)
            node = (walk_schema(producer.output_schema, ref.path).node
                    if producer and producer.output_schema else None)
            kinds = json_types(node)
            numeric = bool(kinds) and kinds <= {"number", "integer"}
            text.append(name if numeric else f"float({name})")
        expression = "".join(text)
        try:
            ast.parse(expression, mode="eval")
        except SyntaxError:
            return None
        calc_id = _step_id(f"{step_id}_{key}_calc", self.taken)
        self.note(tool.name, "calc_step",
                  f"step '{step_id}' passes text {parsed.original!r} to the numeric argument "
                  f"'{key}'; a calc step '{calc_id}' computes {expression} and the argument "
                  f"references its value", key)
        return Step(id=calc_id, tool=CALC_TOOL,
                    args={"expression": _escape(expression), "variables": variables},
                    description=f"computes '{key}' of step '{step_id}'")

    def plan(self) -> Plan:
        steps: list[Step] = []
        outputs: dict[str, Any] = {}
        for n, call in enumerate(self.sample.output):
            parsed_args = _parsed_args(call, set(self.labels))
            if call.name == RESULT_CALL:
                outputs = {k: self.value(v, f"result '{k}'", RESULT_CALL, k)
                           for k, v in parsed_args.items()}
                continue
            step_id = call.label or _step_id(f"step{n + 1}", self.taken)
            if not re.fullmatch(STEP_ID_PATTERN, step_id):
                raise ConversionError(f"sample {self.index}: label {step_id!r} is not a step id")
            tool = self.registry.get(call.name)
            args: dict[str, Any] = {}
            for key, parsed in parsed_args.items():
                where = f"step '{step_id}' argument '{key}'"
                if tool is not None and self.needs_calc(tool, key, parsed):
                    calc = self.calc_step(step_id, tool, key, parsed)
                    if calc is not None:
                        steps.append(calc)
                        args[key] = str(Ref(calc.id, ("value",)))
                        continue
                args[key] = self.value(parsed, where, call.name, key)
            steps.append(Step(id=step_id, tool=call.name, args=args))
        if not steps:
            raise ConversionError(f"sample {self.index} has no tool calls")
        goal = self.sample.input.strip() or f"NESTFUL sample {self.index}"
        return Plan(goal=goal, steps=steps, outputs=outputs)


def convert_sample(sample: Sample, index: int, registry: ToolRegistry | None = None,
                   notes: list[SpecGap] | None = None) -> Plan:
    """The plan of one NESTFUL sample. ``registry`` (default: the stub registry of the
    executable set) supplies output schemas for path rewrites and argument types for calc
    steps; rewrites are appended to ``notes`` as SpecGaps."""
    registry = registry if registry is not None else default_stub_registry()
    return _Converter(sample, index, registry, notes if notes is not None else []).plan()
