"""NESTFUL executable samples as JARVIS plans, run against stub tools built from the spec.

NESTFUL (IBM, Basu et al. 2024) holds nested API-call sequences: each sample is a query and a list
of calls whose arguments reference earlier outputs as ``$var1.field$``. Here every sample becomes a
:class:`~planner.plan.Plan` (``$var1.a.b[0]$`` -> ``${var1.a.b[0]}``, the final ``var_result`` call
-> ``plan.outputs``) and every spec becomes a stub :class:`~planner.tools.Tool`: its
arguments typed from the spec's parameters, its output a deterministic value shaped like the spec's
output fields (it depends on the tool name, the field path and the call's arguments, so a test can
check what each consumer received).

The gold calls do not always match their own spec. Each mismatch amends the stub tool (or the plan,
for NESTFUL conventions) and is recorded as a :class:`SpecGap`, never hidden:

- ``unknown_arg``: a call passes an argument the spec lacks -> the stub accepts it (optional);
- ``missing_required_arg``: a call omits an argument the spec requires -> made optional;
- ``arg_type_mismatch``: a value (literal or referenced) has a type the parameter does not
  accept -> the parameter type is widened;
- ``unknown_output_field``: a reference uses an output field the spec does not declare -> the
  stub's output schema gets the field;
- ``array_first_element`` (plan rewrite): a field path applied to a list means its first element
  (``news.webUrl`` -> ``news[0].webUrl``);
- ``malformed_ref`` (plan rewrite): a reference missing one of its ``$`` is repaired;
- ``calc_step`` (plan rewrite): arithmetic text passed to a numeric argument becomes a ``calc``
  step whose value the consumer references.

Run ``python -m evals.nestful [--out report.json]`` for a summary.
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import functools
import hashlib
import json
import operator
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    create_model,
    model_validator,
)

from activities import builtins
from evals.datasets import dataset_file
from planner.plan import Plan, Step
from planner.refs import STEP_ID_PATTERN, PathItem, Ref, format_path, iter_refs
from planner.retry import RetrySpec
from planner.schema_paths import json_types
from planner.tools import Tool, ToolRegistry
from planner.validation import validate_plan

DatasetKind = Literal["executable", "glaive", "sgd"]
RESULT_CALL = "var_result"
CALC_TOOL = "calc"

# --------------------------------------------------------------------------------------- data


class ParamSpec(BaseModel):
    """One query or path parameter of a NESTFUL tool spec."""

    model_config = ConfigDict(extra="allow")

    type: str = "string"
    description: str = ""
    required: bool | None = None
    optional: bool | None = None
    default: Any = None
    allowed_values: Any = None
    enum: Any = None
    possible_values: Any = None

    @model_validator(mode="before")
    @classmethod
    def _sgd_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "default_value" in data and "default" not in data:
            data = {**data, "default": data["default_value"]}
        return data

    def choices(self) -> list[Any] | None:
        """The allowed values when the spec lists them (not for ranges like "1-100")."""
        for values in (self.enum, self.allowed_values, self.possible_values):
            if isinstance(values, list) and values and all(
                isinstance(v, str | int | float) and not isinstance(v, bool) for v in values
            ):
                return values
        return None


class ToolSpec(BaseModel):
    """One NESTFUL tool spec (a RapidAPI endpoint for the executable set)."""

    model_config = ConfigDict(extra="allow")

    name: str
    description: str = ""
    query_parameters: dict[str, ParamSpec] = Field(default_factory=dict)
    path_parameters: dict[str, ParamSpec] = Field(default_factory=dict)
    output_parameters: dict[str, Any] = Field(default_factory=dict)
    output_parser: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if v is not None}
        if "arguments" in data and "query_parameters" not in data:  # the sgd spec format
            data["query_parameters"] = data.pop("arguments")
        return data

    def parameters(self) -> dict[str, ParamSpec]:
        return {**self.path_parameters, **self.query_parameters}

    def is_required(self, name: str) -> bool:
        """``required`` when the spec says so; a spec that marks ``optional`` parameters instead
        implies the unmarked ones are required; otherwise a parameter is optional."""
        param = self.parameters()[name]
        if param.required is not None:
            return param.required
        if any(p.optional is not None for p in self.parameters().values()):
            return not param.optional
        return False


class Call(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None


class Sample(BaseModel):
    model_config = ConfigDict(extra="allow")

    input: str
    output: list[Call]

    def calls(self) -> list[Call]:
        """The tool calls, without the final ``var_result``."""
        return [c for c in self.output if c.name != RESULT_CALL]

    def result(self) -> Call | None:
        return next((c for c in self.output if c.name == RESULT_CALL), None)


@dataclass(frozen=True)
class NestfulData:
    kind: str
    folder: Path
    specs: list[ToolSpec]
    samples: list[Sample]

    def spec(self, name: str) -> ToolSpec:
        return next(s for s in self.specs if s.name == name)


def _files(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if kind == "executable":
        base = ("nestful", "data", "executable")
        return (*base, "executable-data.json"), (*base, "executable-spec.json")
    if kind in ("glaive", "sgd"):
        base = ("nestful", "data", "non-executable")
        return ((*base, f"non-executable-{kind}-data.json"),
                (*base, f"non-executable-{kind}-spec.json"))
    raise ValueError(f"unknown NESTFUL set {kind!r}; choose executable, glaive or sgd")


def load_nestful(kind: DatasetKind | str = "executable") -> NestfulData:
    """Read the specs and samples of one NESTFUL set from the shared datasets folder."""
    data_parts, spec_parts = _files(kind)
    data_path, spec_path = dataset_file(*data_parts), dataset_file(*spec_parts)
    specs = TypeAdapter(list[ToolSpec]).validate_json(spec_path.read_bytes())
    samples = TypeAdapter(list[Sample]).validate_json(data_path.read_bytes())
    return NestfulData(kind=kind, folder=data_path.parent, specs=specs, samples=samples)


# ------------------------------------------------------------------------- NESTFUL references

_LABEL = r"[A-Za-z_][A-Za-z0-9_-]*"
_BODY = _LABEL + r"(?:\.[^.$\[\]]+|\[\d+\])*"
_NREF = re.compile(r"\$(" + _BODY + r")\$")
_NSEG = re.compile(r"\.([^.$\[\]]+)|\[(\d+)\]")
_HALF_REF = re.compile(r"\$?(" + _BODY + r")\$?")


def parse_nestful_ref(body: str) -> Ref:
    """``var1.author[0].id`` (the inside of ``$...$``) -> Ref('var1', ('author', 0, 'id'))."""
    match = re.match(_LABEL, body)
    if not match:
        raise ValueError(f"not a NESTFUL reference: {body!r}")
    path: list[PathItem] = []
    pos = match.end()
    while pos < len(body):
        seg = _NSEG.match(body, pos)
        if not seg:
            raise ValueError(f"cannot read the path of NESTFUL reference {body!r} at {pos}")
        key, index = seg.groups()
        path.append(int(index) if index is not None else key)
        pos = seg.end()
    return Ref(match.group(0), tuple(path))


@dataclass(frozen=True)
class Template:
    """A NESTFUL string argument holding references: literal text and refs, in order."""

    parts: tuple[str | Ref, ...]
    original: str
    repaired: bool = False

    @property
    def whole(self) -> Ref | None:
        only = self.parts[0] if len(self.parts) == 1 else None
        return only if isinstance(only, Ref) else None

    def refs(self) -> list[Ref]:
        return [p for p in self.parts if isinstance(p, Ref)]


def parse_nestful_value(value: Any, labels: set[str]) -> Any:
    """``value`` with each string that references a known label replaced by a Template."""
    if isinstance(value, dict):
        return {k: parse_nestful_value(v, labels) for k, v in value.items()}
    if isinstance(value, list):
        return [parse_nestful_value(v, labels) for v in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    parts: list[str | Ref] = []
    pos = 0
    for match in _NREF.finditer(value):
        ref = parse_nestful_ref(match.group(1))
        if ref.step not in labels:
            continue
        if match.start() > pos:
            parts.append(value[pos:match.start()])
        parts.append(ref)
        pos = match.end()
    if any(isinstance(p, Ref) for p in parts):
        if pos < len(value):
            parts.append(value[pos:])
        return Template(tuple(parts), value)
    half = _HALF_REF.fullmatch(value)
    if half and value.startswith("$") != value.endswith("$"):
        ref = parse_nestful_ref(half.group(1))
        if ref.step in labels:
            return Template((ref,), value, repaired=True)
    return value


def iter_templates(parsed: Any) -> Iterator[Template]:
    if isinstance(parsed, Template):
        yield parsed
    elif isinstance(parsed, dict):
        for v in parsed.values():
            yield from iter_templates(v)
    elif isinstance(parsed, list):
        for v in parsed:
            yield from iter_templates(v)


def _labels(sample: Sample) -> dict[str, Call]:
    return {c.label: c for c in sample.calls() if c.label}


def _nestful_text(ref: Ref) -> str:
    return "$" + ref.step + "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" for p in ref.path) + "$"


# ----------------------------------------------------------------------------------- schemas

_JSON_TYPES = {"string": "string", "str": "string", "number": "number", "float": "number",
               "double": "number", "integer": "integer", "int": "integer", "boolean": "boolean",
               "bool": "boolean", "array": "array", "list": "array", "object": "object",
               "dict": "object", "enum": "string"}
_PY_TYPES: dict[str, Any] = {"string": str, "number": float, "integer": int, "boolean": bool,
                             "array": list[Any], "object": dict[str, Any]}


def json_type(spec_type: str) -> str:
    """A spec's type name (``String``, ``Number``, ``Date (yyyy-mm-dd)``...) as a JSON type."""
    return _JSON_TYPES.get(spec_type.strip().lower(), "string")


def _output_node(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):  # shorthand: {"count": "string"}
        raw = {"type": raw}
    if not isinstance(raw, dict):
        return {}
    default = "object" if "properties" in raw else "array" if "items" in raw else "string"
    kind = json_type(str(raw.get("type") or default))
    node: dict[str, Any] = {"type": kind}
    if raw.get("description"):
        node["description"] = str(raw["description"])
    if kind == "object" and isinstance(raw.get("properties"), dict):
        node["properties"] = {k: _output_node(v) for k, v in raw["properties"].items()}
    if kind == "array" and "items" in raw:
        node["items"] = _output_node(raw["items"])
    return node


def output_schema_from_spec(spec: ToolSpec) -> dict[str, Any]:
    """JSON Schema of a spec's output fields (nested ``properties`` and ``items`` kept)."""
    return {"type": "object",
            "properties": {k: _output_node(v) for k, v in spec.output_parameters.items()}}


@dataclass(frozen=True)
class PathWalk:
    """A reference path checked against an output schema."""

    path: tuple[PathItem, ...]  # with [0] inserted where a field is applied to a list
    first_element: tuple[int, ...] = ()  # positions in ``path`` of the inserted [0]
    missing: int | None = None  # position in ``path`` of the first field the schema lacks
    conflict: str | None = None  # the schema rules the path out in a way no added field fixes
    node: dict[str, Any] | None = None  # the sub-schema at the end (None: unknown)


def walk_schema(schema: Mapping[str, Any], path: Sequence[PathItem]) -> PathWalk:
    out: list[PathItem] = []
    inserted: list[int] = []
    node: Mapping[str, Any] | None = schema
    for i, item in enumerate(path):
        rest = tuple(path[i:])
        while node is not None and isinstance(item, str) and node.get("type") == "array":
            inserted.append(len(out))
            out.append(0)
            items = node.get("items")
            node = items if isinstance(items, dict) and items else None
        if node is None:
            return PathWalk((*out, *rest), tuple(inserted))
        kind = node.get("type")
        if isinstance(item, int):
            if kind == "array":
                out.append(item)
                items = node.get("items")
                node = items if isinstance(items, dict) and items else None
                continue
            return PathWalk((*out, *rest), tuple(inserted),
                            conflict=f"index [{item}] applied to {kind or 'a value'}")
        if kind == "object" or (kind is None and "properties" in node):
            props = node.get("properties")
            if not isinstance(props, dict):
                return PathWalk((*out, *rest), tuple(inserted))
            if item in props:
                out.append(item)
                node = props[item]
                continue
            return PathWalk((*out, *rest), tuple(inserted), missing=len(out))
        if kind is None:
            return PathWalk((*out, *rest), tuple(inserted))
        return PathWalk((*out, *rest), tuple(inserted),
                        conflict=f"field '{item}' applied to a {kind}")
    return PathWalk(tuple(out), tuple(inserted), node=dict(node) if node is not None else None)


def _add_field(schema: dict[str, Any], walk: PathWalk, leaf: dict[str, Any]) -> None:
    assert walk.missing is not None
    node = schema
    for item in walk.path[:walk.missing]:
        node = node["items"] if isinstance(item, int) else node["properties"][item]
    rest = walk.path[walk.missing:]
    for j, item in enumerate(rest):
        after = rest[j + 1] if j + 1 < len(rest) else None
        new: dict[str, Any] = (copy.deepcopy(leaf) if after is None
                               else {"type": "array", "items": {}} if isinstance(after, int)
                               else {"type": "object", "properties": {}})
        if isinstance(item, int):
            if not node.get("items"):
                node["items"] = new
            node = node["items"]
        else:
            node = node.setdefault("properties", {}).setdefault(item, new)


def _all_fields(node: Mapping[str, Any], prefix: tuple[PathItem, ...] = ()
                ) -> Iterator[tuple[tuple[PathItem, ...], dict[str, Any]]]:
    props = node.get("properties")
    if isinstance(props, dict):
        for key, sub in props.items():
            yield (*prefix, key), sub
            yield from _all_fields(sub, (*prefix, key))
    items = node.get("items")
    if isinstance(items, dict):
        yield from _all_fields(items, (*prefix, 0))


def _similar_fields(schema: Mapping[str, Any], key: str
                    ) -> list[tuple[tuple[PathItem, ...], dict[str, Any]]]:
    """Where a missing field may be: the same name elsewhere, else close or suffixed names."""
    fields = list(_all_fields(schema))
    exact = [(p, n) for p, n in fields if p[-1] == key]
    if exact:
        return exact
    names = sorted({str(p[-1]) for p, _ in fields})
    close = set(difflib.get_close_matches(key, names, n=3, cutoff=0.8))
    low = key.lower()
    if len(low) >= 2:
        close |= {n for n in names if n.lower().endswith(("_" + low, low)) and n != key}
    return [(p, n) for p, n in fields if p[-1] in close]


# ------------------------------------------------------------------------------ stub outputs


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _fake(node: Mapping[str, Any], path: str, seed: str) -> Any:
    h = _digest(seed, path)
    kind = node.get("type")
    label = path or "value"
    if kind == "object" or "properties" in node:
        props = node.get("properties")
        if isinstance(props, dict) and props:
            return {k: _fake(v, f"{path}.{k}" if path else k, seed) for k, v in props.items()}
        return {"value": f"{label}#{h[:12]}"}
    if kind == "array":
        items = node.get("items")
        item_schema = items if isinstance(items, dict) and items else {"type": "string"}
        return [_fake(item_schema, f"{path}[{i}]", seed) for i in range(2)]
    if kind == "integer":
        return int(h[:8], 16) % 100_000
    if kind == "number":
        return (int(h[:8], 16) % 10_000_000) / 100 + 0.01
    if kind == "boolean":
        return int(h[0], 16) % 2 == 0
    return f"{label}#{h[:12]}"


def stub_output(tool_name: str, schema: Mapping[str, Any], args: Mapping[str, Any]) -> Any:
    """The stub's output for a call: shaped like ``schema``; every value depends on the tool
    name, its field path and ``args`` (the call's arguments without the unset ones)."""
    seed = _digest(tool_name, json.dumps(args, sort_keys=True, default=str, ensure_ascii=False))
    return _fake(schema, "", seed)


def stub_call_args(tool: Tool, args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments a stub receives for ``args``: validated, unset (None) ones dropped."""
    parsed = tool.args_model.model_validate(dict(args))
    values = {name: getattr(parsed, name) for name in type(parsed).model_fields}
    return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class StubCall:
    """One call a stub served (recorded when ``build_stub_registry`` gets a ``calls`` list)."""

    tool: str
    args: dict[str, Any]
    output: Any


# ------------------------------------------------------------------------------------- gaps

GapKind = Literal["unknown_arg", "missing_required_arg", "arg_type_mismatch",
                  "unknown_output_field", "array_first_element", "malformed_ref", "calc_step"]
SPEC_GAP_KINDS: tuple[GapKind, ...] = ("unknown_arg", "missing_required_arg",
                                       "arg_type_mismatch", "unknown_output_field")
REWRITE_KINDS: tuple[GapKind, ...] = ("array_first_element", "malformed_ref", "calc_step")


class SpecGap(BaseModel):
    """Where a sample's gold calls and its spec disagree, and what was amended."""

    tool: str
    kind: GapKind
    detail: str
    sample_index: int
    field: str = Field("", description="The argument name, or the output path as '.a[0].b'.")

    def __str__(self) -> str:
        return f"[{self.kind}] sample {self.sample_index}, {self.tool}: {self.detail}"


# ---------------------------------------------------------------------------- stub registry


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


# --------------------------------------------------------------------------------- conversion


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


# ------------------------------------------------------------------------------------- report


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


if __name__ == "__main__":
    sys.exit(main())
