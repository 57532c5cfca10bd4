"""Stub tools built from the specs, amended where the gold data shows spec defects (each
amendment recorded as a SpecGap)."""

from __future__ import annotations

import copy
import difflib
import functools
import json
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    create_model,
)

from activities import builtins
from evals.nestful.data import RESULT_CALL, Call, ParamSpec, Sample, ToolSpec, load_nestful
from evals.nestful.gaps import GapKind, SpecGap
from evals.nestful.references import (
    Template,
    _labels,
    _nestful_text,
    iter_templates,
    parse_nestful_value,
)
from evals.nestful.schemas import (
    _PY_TYPES,
    PathWalk,
    _add_field,
    _all_fields,
    _similar_fields,
    json_type,
    output_schema_from_spec,
    walk_schema,
)
from evals.nestful.stubs import StubCall, _fake, stub_output
from planner.refs import Ref, format_path
from planner.retry import RetrySpec
from planner.schema_paths import json_types
from planner.tools import Tool, ToolRegistry


def _union(types: Sequence[Any]) -> Any:
    unique: list[Any] = []
    for t in types:
        if t is Any:
            return Any
        if t not in unique:
            unique.append(t)
    return functools.reduce(operator.or_, unique)


def _value_type(value: Any) -> Any:
    if isinstance(value, bool):
        return bool
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind
    if isinstance(value, list):
        return list[Any]
    if isinstance(value, dict):
        return dict[str, Any]
    return Any


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(json.dumps(v) for v in get_args(annotation))
    name = getattr(annotation, "__name__", None)
    return name if isinstance(name, str) else str(annotation).replace("typing.", "")


@functools.lru_cache(maxsize=512)
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def _fits(annotation: Any, value: Any) -> bool:
    try:
        _adapter(annotation).validate_python(value)
    except ValidationError:
        return False
    return True


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class _Param:
    name: str
    base: Any
    required: bool
    description: str
    added: bool = False
    relaxed: bool = False
    extra: list[Any] = field(default_factory=list)

    def annotation(self) -> Any:
        return _union([self.base, *self.extra])


def _param_annotation(param: ParamSpec) -> Any:
    choices = param.choices()
    if choices:
        return Literal[tuple(choices)]
    return _PY_TYPES[json_type(param.type)]


class _ToolBuilder:
    def __init__(self, spec: ToolSpec) -> None:
        self.spec = spec
        self.pristine = output_schema_from_spec(spec)
        self.schema = copy.deepcopy(self.pristine)
        self.params: dict[str, _Param] = {}
        for name, param in spec.parameters().items():
            desc = param.description
            if param.default is not None:
                desc += f" (API default: {param.default})"
            self.params[name] = _Param(name, _param_annotation(param), spec.is_required(name),
                                       desc.strip())

    def build(self, calls: list[StubCall] | None) -> Tool:
        fields: dict[str, Any] = {}
        for p in self.params.values():
            annotation = p.annotation()
            if p.required and not p.relaxed:
                fields[p.name] = (annotation, Field(..., description=p.description))
            else:
                optional = annotation if annotation is Any else annotation | None
                fields[p.name] = (optional, Field(None, description=p.description))
        name = self.spec.name
        model: type[BaseModel] = create_model(
            re.sub(r"\W", "_", name) + "Args",
            __config__=ConfigDict(extra="forbid"),
            __doc__=self.spec.description or None,
            **fields,
        )
        schema = self.schema

        async def stub(**kwargs: Any) -> Any:
            args = {k: v for k, v in kwargs.items() if v is not None}
            output = stub_output(name, schema, args)
            if calls is not None:
                calls.append(StubCall(name, args, output))
            return output

        stub.__name__ = stub.__qualname__ = "stub_" + re.sub(r"\W", "_", name)
        return Tool(name=name, description=self.spec.description or name, fn=stub,
                    args_model=model, output_schema=schema, timeout_s=10.0,
                    retry=RetrySpec(max_attempts=1))


class _GapLog:
    """One gap per defect and sample (a second use of the same defect in a sample adds none)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, int, str], SpecGap] = {}

    def add(self, tool: str, kind: GapKind, detail: str, index: int, field: str = "") -> None:
        self.items.setdefault((tool, kind, index, field),
                              SpecGap(tool=tool, kind=kind, detail=detail, sample_index=index,
                                      field=field))

    def list(self) -> list[SpecGap]:
        return list(self.items.values())


def _parsed_args(call: Call, labels: set[str]) -> dict[str, Any]:
    return {k: parse_nestful_value(v, labels) for k, v in call.arguments.items()}


def build_stub_registry(
    specs: Sequence[ToolSpec], samples: Sequence[Sample], *, calls: list[StubCall] | None = None
) -> tuple[ToolRegistry, list[SpecGap]]:
    """One stub tool per spec (plus the built-ins, for ``calc``), amended so every sample's gold
    calls fit; each amendment is returned as a SpecGap. ``calls``, when given, records every
    call the stubs serve."""
    builders = {s.name: _ToolBuilder(s) for s in specs}
    log = _GapLog()
    for index, sample in enumerate(samples):
        _amend_outputs(sample, index, builders, log)
    for index, sample in enumerate(samples):
        _amend_args(sample, index, builders, log)
    registry = ToolRegistry()
    builtins.register(registry)
    for builder in builders.values():
        registry.register(builder.build(calls))
    return registry, log.list()


def _amend_outputs(sample: Sample, index: int, builders: Mapping[str, _ToolBuilder],
                   log: _GapLog) -> None:
    labels = _labels(sample)
    for call in sample.output:
        consumer = builders.get(call.name)
        result = call.name == RESULT_CALL
        where = "the result" if result else f"step '{call.label}'"
        for key, parsed in _parsed_args(call, set(labels)).items():
            for template in iter_templates(parsed):
                for ref in template.refs():
                    producer = builders.get(labels[ref.step].name)
                    if producer is None:
                        continue
                    found = walk_schema(producer.pristine, ref.path)
                    if found.missing is None:
                        continue
                    target = None
                    if consumer and template.whole is not None and parsed is template:
                        param = consumer.spec.parameters().get(key)
                        target = json_type(param.type) if param else None
                    leaf, hint = _missing_field_schema(producer.pristine, found, target, index)
                    amended = walk_schema(producer.schema, ref.path)
                    if amended.missing is not None:
                        _add_field(producer.schema, amended, leaf)
                    missing = format_path(found.path[:found.missing + 1]).lstrip(".")
                    log.add(producer.spec.name, "unknown_output_field",
                            f"output has no '{missing}'{hint}; {where} references "
                            f"{_nestful_text(ref)} ({'output' if result else 'argument'} "
                            f"'{key}'); the stub outputs "
                            f"'{format_path(found.path).lstrip('.')}' as {leaf['type']}",
                            index, format_path(found.path))


def _missing_field_schema(schema: Mapping[str, Any], found: PathWalk, target: str | None,
                          index: int) -> tuple[dict[str, Any], str]:
    assert found.missing is not None
    missing_key = str(found.path[found.missing])
    near = _similar_fields(schema, missing_key)
    hint = ""
    if near:
        shown = ", ".join(f"'{format_path(p).lstrip('.')}'" for p, _ in near[:3])
        same = all(p[-1] == missing_key for p, _ in near)
        hint = f" (the spec has it at {shown})" if same else f" (did you mean {shown}?)"
    leaf_key = found.path[-1]
    kind = target
    if kind is None and isinstance(leaf_key, str):
        same_leaf = [n for p, n in _all_fields(schema) if p[-1] == leaf_key]
        if not same_leaf and found.missing == len(found.path) - 1:
            same_leaf = [n for _, n in near]
        kind = str(same_leaf[0].get("type", "string")) if same_leaf else None
    if kind not in ("string", "number", "integer", "boolean"):
        kind = "string"
    leaf = {"type": kind,
            "description": f"Not in the NESTFUL spec; added because sample {index} uses it."}
    return leaf, hint


def _ref_node(builders: Mapping[str, _ToolBuilder], labels: Mapping[str, Call],
              ref: Ref) -> dict[str, Any] | None:
    producer = builders.get(labels[ref.step].name)
    if producer is None:
        return None
    return walk_schema(producer.schema, ref.path).node


def _amend_args(sample: Sample, index: int, builders: Mapping[str, _ToolBuilder],
                log: _GapLog) -> None:
    labels = _labels(sample)
    for call in sample.calls():
        builder = builders.get(call.name)
        if builder is None:
            continue
        for key, parsed in _parsed_args(call, set(labels)).items():
            param = builder.params.get(key)
            if param is None or param.added:
                _add_arg(builder, key, parsed, call, index, builders, labels, log)
                continue
            if isinstance(parsed, Template):
                whole = parsed.whole
                if whole is None:
                    continue  # text: a string; a numeric parameter gets a calc step instead
                node = _ref_node(builders, labels, whole)
                probe = _fake(node or {}, "probe", "probe")
                if not _fits(param.base, probe):
                    src = next(iter(json_types(node)), "any") if node else "any"
                    param.extra.append(_PY_TYPES.get(src, Any))
                    log.add(call.name, "arg_type_mismatch",
                            f"'{key}' is {_type_name(param.base)} in the spec, but step "
                            f"'{call.label}' passes {_nestful_text(whole)}, a {src} in "
                            f"{labels[whole.step].name}'s output; the stub accepts both",
                            index, key)
            elif any(True for _ in iter_templates(parsed)):
                continue  # references inside a list or object: checked at run time
            elif parsed is not None and not _fits(param.base, parsed):
                param.extra.append(_value_type(parsed))
                log.add(call.name, "arg_type_mismatch",
                        f"'{key}' is {_type_name(param.base)} in the spec, but step "
                        f"'{call.label}' passes {_short(parsed)}; the stub accepts both",
                        index, key)
        for name, param in builder.params.items():
            if param.required and name not in call.arguments:
                param.relaxed = True
                log.add(call.name, "missing_required_arg",
                        f"the spec requires '{name}', but step '{call.label}' omits it; "
                        "the stub makes it optional", index, name)


def _add_arg(builder: _ToolBuilder, key: str, parsed: Any, call: Call, index: int,
             builders: Mapping[str, _ToolBuilder], labels: Mapping[str, Call],
             log: _GapLog) -> None:
    if isinstance(parsed, Template):
        whole = parsed.whole
        node = _ref_node(builders, labels, whole) if whole else None
        kind: Any = (_PY_TYPES.get(next(iter(json_types(node)), ""), Any) if node
                     else str if whole is None else Any)
        shown = parsed.original
    else:
        kind = _value_type(parsed)
        shown = _short(parsed)
    param = builder.params.get(key)
    if param is None:
        param = builder.params[key] = _Param(
            key, kind, False, "Not in the NESTFUL spec; added because the gold calls pass it.",
            added=True)
    elif kind not in (param.base, *param.extra):
        param.extra.append(kind)
    accepted = ", ".join(sorted(p for p in builder.spec.parameters()))
    squash = {re.sub(r"[_-]", "", n).lower(): n for n in builder.spec.parameters()}
    near = ([squash[re.sub(r"[_-]", "", key).lower()]] if re.sub(r"[_-]", "", key).lower()
            in squash else difflib.get_close_matches(key, list(builder.spec.parameters()), n=1,
                                                     cutoff=0.75))
    log.add(call.name, "unknown_arg",
            f"the spec has no argument '{key}'"
            + (f" (did you mean '{near[0]}'?)" if near else f" (it has: {accepted})")
            + f"; step '{call.label}' passes {shown}; the stub accepts it as optional "
            f"{_type_name(param.annotation())}", index, key)


@functools.cache
def default_stub_registry(kind: str = "executable") -> ToolRegistry:
    """The stub registry of a whole NESTFUL set (built once per process)."""
    data = load_nestful(kind)
    return build_stub_registry(data.specs, data.samples)[0]
