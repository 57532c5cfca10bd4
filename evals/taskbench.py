"""TaskBench tool graphs as JARVIS plans, checked by the same parser and validator as LLM output.

TaskBench (Shen et al. 2023) plans are ``{"task_nodes": [{"task", "arguments"}], "task_links":
[{"source", "target"}]}``. In the ``huggingface`` and ``multimedia`` domains the tools are typed by
resource (``{"id": "Image Editing", "input-type": ["text", "image"], "output-type": ["image"]}``),
arguments are a list of values (user text, file names, URLs) and ``"<node-k>"`` means the output
of the k-th node; links name tools, not nodes.

**Stub tools** (:func:`build_registry`): one per TaskBench tool. Its arguments are one required
string per input type, named after the type (``text``, ``image``, ``audio``, ``video``, ``url``);
a repeated type gets a suffix from its second occurrence (``image``, ``image_2``). Its output is an
object with one string per output type (``{"image": ...}``; ``{}`` for a tool without outputs), a
deterministic label derived from the tool name and the call's arguments. ``dailylifeapis`` specs
(named string parameters, no outputs declared) get their parameter names and an open output with
an ``output`` string.

**Conversion** (:func:`record_to_plan`), following TaskBench's own evaluator, which types each
argument by its content rather than by its position:

- node k becomes step ``s<k>``; the goal is the ``user_request``;
- ``"<node-k>"`` (whole value or inside text) becomes ``${s<k>.<type>}``, where ``<type>`` is the
  resource type of the argument it is passed to (so a text input fed from an image tool is an
  ``unknown_field`` for the validator), else the producer's output type, else ``output``;
- values go to inputs by type: an argument named like an input goes there; the others, in order,
  go to the first free input of their type (a reference has its producer's output type; a literal
  is an image/audio/video file by extension, a URL, or text); what is left fills the remaining
  inputs in order; values beyond the inputs keep their name, or get ``arg<position>``, and the
  validator reports them;
- ``{"name", "value"}`` dicts are named values; a dict with only ``name`` is a value put in the
  wrong key; ``arguments: null`` means none; with ``named_args="keep"`` every name is kept as is;
- each link becomes a dep of the target step on the source step (unless an argument already
  references it); when a tool occurs more than once the pair is chosen deterministically: not used
  by an earlier link, connected by a reference, forward, nearest, first.

Whatever does not fit is a :class:`ConversionIssue`. Defects (``defect=True``) are model errors the
plan cannot carry, so a repair round would have to fix them although the validator cannot see
them: links naming a tool absent from the plan, malformed links, placeholder arguments such as
``"<output_of_step_1>"``. The rest are notes on how an input was read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from evals.datasets import dataset_file
from planner.parsing import parse_plan_output
from planner.plan import Plan
from planner.refs import RefSyntaxError, iter_refs
from planner.retry import RetrySpec
from planner.tools import Tool, ToolRegistry
from planner.validation import Problem, validate_plan

Domain = Literal["huggingface", "multimedia", "dailylifeapis"]
DOMAINS: tuple[Domain, ...] = ("huggingface", "multimedia", "dailylifeapis")
NamedArgs = Literal["by_type", "keep"]
Verdict = Literal["accepted", "repair_needed", "rejected"]
OPEN_OUTPUT = "output"

# TaskBench's evaluator (get_content_type) types a literal by these extensions.
MEDIA_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image": ("jpg", "png", "jpeg", "gif", "bmp", "tiff", "svg", "ico"),
    "audio": ("mp3", "wav", "wma", "ogg", "aac", "flac", "aiff", "au"),
    "video": ("mp4", "avi", "mov", "flv", "wmv", "mkv", "webm", "m4v", "mpg", "mpeg"),
}
URL_PREFIXES = ("http://", "https://", "www.")

# ------------------------------------------------------------------------------ tool specs


class ParamSpec(BaseModel):
    """A named parameter (``dailylifeapis`` specs)."""

    model_config = ConfigDict(extra="allow")

    name: str
    type: str = "string"
    desc: str = ""


class ToolSpec(BaseModel):
    """One node of a TaskBench ``tool_desc.json``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str
    desc: str = ""
    input_type: list[str] | None = Field(None, alias="input-type")
    output_type: list[str] | None = Field(None, alias="output-type")
    parameters: list[ParamSpec] | None = None

    def inputs(self) -> list[tuple[str, str | None]]:
        """(argument name, resource type or None) in TaskBench order."""
        if self.input_type is None:
            return [(p.name, None) for p in self.parameters or []]
        out: list[tuple[str, str | None]] = []
        seen: dict[str, int] = {}
        for raw in self.input_type:
            kind = raw.strip().lower()
            seen[kind] = seen.get(kind, 0) + 1
            out.append((kind if seen[kind] == 1 else f"{kind}_{seen[kind]}", kind))
        return out

    def outputs(self) -> list[str] | None:
        """Output field names (resource types); None when the spec declares no output types."""
        if self.output_type is None:
            return None
        return list(dict.fromkeys(t.strip().lower() for t in self.output_type))


class _ToolDesc(BaseModel):
    nodes: list[ToolSpec]


def load_tool_specs(domain: Domain | str) -> list[ToolSpec]:
    """The tools of a TaskBench domain (``taskbench/data_<domain>/tool_desc.json``)."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown TaskBench domain {domain!r}; choose one of {DOMAINS}")
    path = dataset_file("taskbench", f"data_{domain}", "tool_desc.json")
    return _ToolDesc.model_validate_json(path.read_bytes()).nodes


def stub_output(spec: ToolSpec, args: Mapping[str, Any]) -> dict[str, str]:
    """What the stub of ``spec`` returns for ``args``: one label per output type."""
    digest = hashlib.sha256(
        json.dumps([spec.id, dict(args)], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()[:12]
    names = spec.outputs()
    return {name: f"{name}:{spec.id}#{digest}" for name in (names if names is not None
                                                             else [OPEN_OUTPUT])}


def output_schema(spec: ToolSpec) -> dict[str, Any] | None:
    names = spec.outputs()
    if names is None:
        return None
    return {"type": "object", "additionalProperties": False, "required": names,
            "properties": {n: {"type": "string", "description": f"the {n} produced"}
                           for n in names}}


def _identifier(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def build_tool(spec: ToolSpec) -> Tool:
    fields: dict[str, Any] = {}
    inputs = spec.inputs()
    for position, (name, kind) in enumerate(inputs, 1):
        what = f"{kind} input" if kind else "parameter"
        fields[name] = (str, Field(..., description=f"{what} {position} of {len(inputs)}"))
    model: type[BaseModel] = create_model(
        _identifier(spec.id) + "Args", __config__=ConfigDict(extra="forbid"),
        __doc__=spec.desc or None, **fields)

    async def stub(**kwargs: Any) -> dict[str, str]:
        return stub_output(spec, kwargs)

    stub.__name__ = stub.__qualname__ = "stub_" + _identifier(spec.id)
    return Tool(name=spec.id, description=spec.desc or spec.id, fn=stub, args_model=model,
                output_schema=output_schema(spec), timeout_s=10.0,
                retry=RetrySpec(max_attempts=1))


def build_registry(specs: Iterable[ToolSpec]) -> ToolRegistry:
    """One deterministic stub tool per TaskBench tool."""
    registry = ToolRegistry()
    for spec in specs:
        registry.register(build_tool(spec))
    return registry


# ---------------------------------------------------------------------------- conversion

IssueKind = Literal[
    # notes: how an input was read
    "arguments_null", "arguments_not_list", "value_in_name", "object_arg", "arg_name_ignored",
    "literal_type_mismatch", "nonstandard_ref", "one_based_refs", "ambiguous_link",
    "link_by_index", "ignored_node_key", "ignored_link_key",
    # defects: model errors the plan cannot carry
    "dangling_link", "bad_link", "placeholder_arg",
]
DEFECTS: frozenset[str] = frozenset({"dangling_link", "bad_link", "placeholder_arg"})


class ConversionIssue(BaseModel):
    kind: IssueKind
    node: int | None = Field(None, description="Index in task_nodes (None: a link).")
    detail: str

    @property
    def defect(self) -> bool:
        return self.kind in DEFECTS

    def __str__(self) -> str:
        where = f"node {self.node}: " if self.node is not None else ""
        return f"[{self.kind}] {where}{self.detail}"


class ConversionOutcome(BaseModel):
    """A TaskBench record in our plan schema (not validated yet) and what did not fit."""

    plan: dict[str, Any] = Field(description="Plan JSON: goal, steps, outputs.")
    issues: list[ConversionIssue] = Field(default_factory=list)

    @property
    def defects(self) -> list[ConversionIssue]:
        return [i for i in self.issues if i.defect]

    def to_json(self) -> str:
        return json.dumps(self.plan, ensure_ascii=False)


@dataclass(frozen=True)
class NodeRef:
    """``<node-k>`` inside an argument value."""

    node: int


Part = str | NodeRef


@dataclass
class _Value:
    """An argument value: parsed into text and references when it is a string."""

    raw: Any
    name: str | None
    position: int
    parts: list[Part] | None = None  # None: not a string (kept as is, references inside)

    def whole_ref(self) -> NodeRef | None:
        if self.parts is not None and len(self.parts) == 1 and isinstance(self.parts[0], NodeRef):
            return self.parts[0]
        return None


def node_refs(text: str) -> tuple[list[Part], list[str], list[str]]:
    """Split ``text`` at ``<node-k>``: (parts, variant spellings seen, placeholders seen).

    ``<Node-1>`` and ``<node_1>`` count as references (their spelling is returned); any other
    ``<...>`` without ``://`` is returned as a placeholder (the text keeps it literally)."""
    parts: list[Part] = []
    variants: list[str] = []
    placeholders: list[str] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        close = text.find(">", i + 1) if text[i] == "<" else -1
        if close < 0:
            buf.append(text[i])
            i += 1
            continue
        token = text[i:close + 1]
        inner = token[1:-1]
        number = _node_number(inner)
        if number is None:
            if inner.strip() and "<" not in inner and "://" not in inner:
                placeholders.append(token)
            buf.append(token)
        else:
            if inner != f"node-{number}":
                variants.append(token)
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(NodeRef(number))
        i = close + 1
    if buf:
        parts.append("".join(buf))
    return parts, variants, placeholders


def _node_number(inner: str) -> int | None:
    head, digits = inner[:5].lower(), inner[5:]
    if head in ("node-", "node_") and digits.isascii() and digits.isdigit():
        return int(digits)
    return None


def literal_kinds(value: Any) -> set[str]:
    """The resource types a literal can be (TaskBench's get_content_type, plus ``url``)."""
    if not isinstance(value, str):
        return set()
    text = value.strip().strip("'\"")
    kinds = set()
    if text.lower().startswith(URL_PREFIXES):
        kinds |= {"url", "text"}  # TaskBench types a URL as text; our url inputs take it too
    if text and " " not in text:
        suffix = text.rsplit(".", 1)[-1].lower() if "." in text else ""
        kinds |= {kind for kind, exts in MEDIA_EXTENSIONS.items() if suffix in exts}
    return kinds or {"text"}


@dataclass
class _Node:
    index: int
    task: Any
    spec: ToolSpec | None
    values: list[_Value] = field(default_factory=list)


class _Converter:
    def __init__(self, record: Mapping[str, Any], specs: Mapping[str, ToolSpec],
                 named_args: NamedArgs) -> None:
        self.record = record
        self.specs = specs
        self.named_args = named_args
        self.issues: list[ConversionIssue] = []
        raw_nodes = record.get("task_nodes")
        self.raw_nodes: list[Any] = raw_nodes if isinstance(raw_nodes, list) else []
        self.nodes: list[_Node] = []

    def note(self, kind: IssueKind, detail: str, node: int | None = None) -> None:
        self.issues.append(ConversionIssue(kind=kind, node=node, detail=detail))

    # ---- values

    def values(self, index: int, raw: Mapping[str, Any]) -> list[_Value]:
        args = raw.get("arguments")
        if args is None:
            self.note("arguments_null", "no arguments ('arguments' is "
                      + ("null)" if "arguments" in raw else "missing)"), index)
            return []
        if not isinstance(args, list):
            self.note("arguments_not_list", f"'arguments' is {_short(args)}, read as a list "
                      "of one", index)
            args = [args]
        out: list[_Value] = []
        for position, item in enumerate(args):
            if isinstance(item, dict) and "name" in item and set(item) <= {"name", "value"}:
                if "value" in item:
                    out.append(self.value(index, item["value"], _name(item["name"]), position))
                else:
                    self.note("value_in_name", f"argument {position} {_short(item)} has no "
                              "'value'; its 'name' is read as the value", index)
                    out.append(self.value(index, item["name"], None, position))
            elif isinstance(item, dict):
                self.note("object_arg", f"argument {position} {_short(item)} is read as named "
                          "values", index)
                out.extend(self.value(index, v, str(k), position) for k, v in item.items())
            else:
                out.append(self.value(index, item, None, position))
        return out

    def value(self, index: int, raw: Any, name: str | None, position: int) -> _Value:
        for text in _strings_in(raw):  # lists and dicts of strings are read the same way
            _, variants, placeholders = node_refs(text)
            for token in variants:
                self.note("nonstandard_ref", f"{token} read as "
                          f"<node-{_node_number(token[1:-1])}>", index)
            for token in placeholders:
                self.note("placeholder_arg", f"argument {position} holds the placeholder "
                          f"{token}, not a value or a <node-k> reference", index)
        return _Value(raw, name, position, node_refs(raw)[0] if isinstance(raw, str) else None)

    def kinds(self, value: _Value) -> set[str]:
        ref = value.whole_ref()
        if ref is None:
            return literal_kinds(value.raw)
        producer = self.nodes[ref.node].spec if ref.node < len(self.nodes) else None
        outputs = producer.outputs() if producer else None
        return set(outputs or [])

    # ---- arguments

    def assign(self, node: _Node) -> dict[str, _Value]:
        """Argument name -> value, following TaskBench's typing of arguments."""
        inputs = node.spec.inputs() if node.spec else []
        kinds = dict(inputs)
        assigned: dict[str, _Value] = {}
        pending: list[_Value] = []
        for value in node.values:
            if value.name is not None and (self.named_args == "keep" or (
                    value.name in kinds and value.name not in assigned)):
                key = value.name if value.name not in assigned else _free(value.name, assigned)
                assigned[key] = value
            else:
                pending.append(value)
        for value in list(pending):
            wanted = self.kinds(value)
            slot = next((n for n, k in inputs if n not in assigned and k in wanted), None)
            if slot is not None:
                assigned[slot] = value
                pending.remove(value)
                self._named_note(node, value, slot)
        for value in pending:
            slot = next((n for n, _ in inputs if n not in assigned), None)
            if slot is None:
                key = value.name if value.name is not None else f"arg{value.position}"
                assigned[_free(key, assigned)] = value
                continue
            assigned[slot] = value
            self._named_note(node, value, slot)
            wanted = self.kinds(value)
            if value.whole_ref() is None and wanted and kinds[slot] and kinds[slot] not in wanted:
                seen = "/".join(sorted(wanted))
                self.note("literal_type_mismatch", f"{_short(value.raw)} ({seen}) is the only "
                          f"candidate for the {kinds[slot]} input '{slot}'", node.index)
        return assigned

    def _named_note(self, node: _Node, value: _Value, slot: str) -> None:
        if value.name is not None and value.name != slot:
            self.note("arg_name_ignored", f"argument '{value.name}' is no input of "
                      f"'{node.task}'; its value goes to '{slot}' by type", node.index)

    def render(self, raw: Any, slot_kind: str | None) -> Any:
        """``raw`` with ``<node-k>`` as references and ``${`` escaped, in nested values too."""
        if isinstance(raw, str):
            return "".join(p.replace("${", "$${") if isinstance(p, str)
                           else self.ref(p, slot_kind) for p in node_refs(raw)[0])
        if isinstance(raw, list):
            return [self.render(v, slot_kind) for v in raw]
        if isinstance(raw, dict):
            return {k: self.render(v, slot_kind) for k, v in raw.items()}
        return raw

    def ref(self, ref: NodeRef, slot_kind: str | None) -> str:
        path = slot_kind
        if path is None:
            producer = self.nodes[ref.node].spec if ref.node < len(self.nodes) else None
            outputs = producer.outputs() if producer else None
            path = outputs[0] if outputs else OPEN_OUTPUT
        return "${s" + str(ref.node) + "." + path + "}"

    def check_numbering(self, refs: list[set[int]]) -> None:
        """Note references that only make sense counted from 1 (TaskBench counts from 0)."""
        pairs = [(i, k) for i, ks in enumerate(refs) for k in ks]
        if pairs and any(i == k for i, k in pairs) and all(1 <= k <= i for i, k in pairs):
            self.note("one_based_refs", "every <node-k> fits counting nodes from 1 (some "
                      "point at their own node): TaskBench counts from 0; kept as written")

    # ---- links

    def links(self, steps: list[dict[str, Any]], refs: list[set[int]]) -> None:
        raw_links = self.record.get("task_links")
        if raw_links is None:
            return
        if not isinstance(raw_links, list):
            self.note("bad_link", f"'task_links' is {_short(raw_links)}, not a list")
            return
        by_task: dict[str, list[int]] = {}
        for node in self.nodes:
            if isinstance(node.task, str):
                by_task.setdefault(node.task, []).append(node.index)
        used: set[tuple[int, int]] = set()
        for n, link in enumerate(raw_links):
            pair = self.link(n, link, by_task, refs, used)
            if pair is None:
                continue
            used.add(pair)
            source, target = pair
            if source in refs[target] and source != target:
                continue  # an argument already references the source
            deps = steps[target].setdefault("deps", [])
            if f"s{source}" not in deps:
                deps.append(f"s{source}")

    def link(self, n: int, link: Any, by_task: Mapping[str, list[int]], refs: list[set[int]],
             used: set[tuple[int, int]]) -> tuple[int, int] | None:
        if not isinstance(link, dict):
            self.note("bad_link", f"link {n} {_short(link)} is not an object")
            return None
        extra = sorted(set(link) - {"source", "target"})
        source, target = link.get("source"), link.get("target")
        if isinstance(source, int) and isinstance(target, int) and not (
                isinstance(source, bool) or isinstance(target, bool)):
            return self.link_by_index(n, source, target, extra)
        if not isinstance(source, str) or not isinstance(target, str):
            self.note("bad_link", f"link {n} {_short(link)} is not "
                      "{'source': tool, 'target': tool}")
            return None
        if extra:
            self.note("ignored_link_key", f"link {n}: ignored {', '.join(extra)}")
        missing = [t for t in (source, target) if t not in by_task]
        if missing:
            self.note("dangling_link", f"link {n} {source!r} -> {target!r} names "
                      f"{' and '.join(repr(m) for m in missing)}, not a node of the plan")
            return None
        pairs = [(i, j) for i in by_task[source] for j in by_task[target] if i != j]
        pairs = pairs or [(i, i) for i in by_task[source]]
        best = min(pairs, key=lambda p: (p in used, p[0] not in refs[p[1]], p[0] > p[1],
                                         abs(p[1] - p[0]), p))
        if len(pairs) > 1:
            self.note("ambiguous_link", f"link {n} {source!r} -> {target!r} fits "
                      f"{len(pairs)} node pairs; used s{best[0]} -> s{best[1]}")
        return best

    def link_by_index(self, n: int, source: int, target: int,
                      extra: list[str]) -> tuple[int, int] | None:
        if not (0 <= source < len(self.nodes) and 0 <= target < len(self.nodes)):
            self.note("dangling_link", f"link {n} {source} -> {target} names a node index "
                      f"outside 0..{len(self.nodes) - 1}")
            return None
        self.note("link_by_index", f"link {n} names nodes by index ({source} -> {target}), "
                  "not by tool" + (f"; ignored {', '.join(extra)}" if extra else ""))
        return source, target

    # ---- plan

    def plan(self) -> dict[str, Any]:
        for index, raw in enumerate(self.raw_nodes):
            task = raw.get("task") if isinstance(raw, dict) else None
            spec = self.specs.get(task) if isinstance(task, str) else None
            self.nodes.append(_Node(index, task, spec))
        steps: list[dict[str, Any]] = []
        refs: list[set[int]] = []
        for node, raw in zip(self.nodes, self.raw_nodes, strict=True):
            if not isinstance(raw, dict):
                steps.append(raw)  # the parser reports it
                refs.append(set())
                continue
            extra = sorted(set(raw) - {"task", "arguments"})
            if extra:
                self.note("ignored_node_key", f"ignored {', '.join(extra)}: "
                          f"{_short({k: raw[k] for k in extra})}", node.index)
            node.values = self.values(node.index, raw)
            kinds = dict(node.spec.inputs()) if node.spec else {}
            args = {key: self.render(value.raw, kinds.get(key))
                    for key, value in self.assign(node).items()}
            step: dict[str, Any] = {"id": f"s{node.index}"}
            if "task" in raw:
                step["tool"] = raw["task"]
            step["args"] = args
            steps.append(step)
            refs.append({p.node for v in node.values for text in _strings_in(v.raw)
                         for p in node_refs(text)[0] if isinstance(p, NodeRef)})
        self.check_numbering(refs)
        self.links(steps, refs)
        plan: dict[str, Any] = {"steps": steps}
        goal = self.record.get("user_request")
        if isinstance(goal, str) and goal.strip():
            plan = {"goal": goal, **plan}
        return plan


def _strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_in(item)


def _name(raw: Any) -> str:
    return raw if isinstance(raw, str) else json.dumps(raw)


def _free(key: str, taken: Mapping[str, Any]) -> str:
    candidate, n = key, 2
    while candidate in taken:
        candidate, n = f"{key}_{n}", n + 1
    return candidate


def _short(value: Any, limit: int = 70) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def spec_index(specs: Iterable[ToolSpec]) -> dict[str, ToolSpec]:
    return {s.id: s for s in specs}


def record_to_plan(record: Mapping[str, Any], specs: Iterable[ToolSpec] | Mapping[str, ToolSpec],
                   *, named_args: NamedArgs = "by_type") -> ConversionOutcome:
    """A TaskBench record (``task_nodes``, ``task_links``) as plan JSON in our schema."""
    index = specs if isinstance(specs, Mapping) else spec_index(specs)
    converter = _Converter(record, index, named_args)
    plan = converter.plan()
    return ConversionOutcome(plan=plan, issues=converter.issues)


# ---------------------------------------------------------------------------- evaluation


def referenced_extra_args(plan: Plan, tools: Mapping[str, Tool],
                          known: Sequence[Problem] = ()) -> list[Problem]:
    """``invalid_args`` for arguments a tool does not take whose value holds a reference.

    Stopgap: ``planner.validation`` checks only literal arguments against the tool's model, so
    an unknown argument carrying a reference passes (reported with a fix). Problems already in
    ``known`` are not repeated, so this stays correct once the validator reports them itself."""
    seen = {(p.code, p.step_id, p.location) for p in known}
    out: list[Problem] = []
    for step in plan.steps:
        tool = tools.get(step.tool)
        if tool is None or tool.args_model.model_config.get("extra") != "forbid":
            continue
        fields = list(tool.args_model.model_fields)
        for key, value in step.args.items():
            location = f"args.{key}"
            if key in fields or ("invalid_args", step.id, location) in seen:
                continue
            try:
                has_refs = any(True for _ in iter_refs(value))
            except RefSyntaxError:
                continue  # the validator reports it
            if has_refs:
                out.append(Problem(code="invalid_args", step_id=step.id, location=location,
                                   message=f"unexpected argument '{key}'; accepted: "
                                   f"{', '.join(fields) or 'none'}"))
    return out


class RecordResult(BaseModel):
    """One prediction through conversion -> JSON text -> parse_plan_output -> validate_plan."""

    index: int = Field(description="Line number in the file, from 0.")
    id: str | None = None
    verdict: Verdict
    codes: list[str] = Field(default_factory=list, description="Sorted, unique: problem codes "
                             "(parser, validator) and conversion defect kinds.")
    problems: list[Problem] = Field(default_factory=list)
    issues: list[ConversionIssue] = Field(default_factory=list)
    fixes: list[str] = Field(default_factory=list, description="Parser fixes (expected: none).")
    steps: int = 0
    plan_json: str | None = None


@dataclass(frozen=True)
class TaskBenchTools:
    """A domain's specs, their index and the stub tools as the validator wants them."""

    domain: str
    specs: list[ToolSpec]
    index: dict[str, ToolSpec]
    tools: dict[str, Tool]

    @classmethod
    def load(cls, domain: Domain | str) -> TaskBenchTools:
        return cls.from_specs(domain, load_tool_specs(domain))

    @classmethod
    def from_specs(cls, domain: str, specs: Sequence[ToolSpec]) -> TaskBenchTools:
        registry = build_registry(specs)
        return cls(domain, list(specs), spec_index(specs), {t.name: t for t in registry})


def evaluate_record(record: Any, tools: TaskBenchTools, *, index: int = 0,
                    named_args: NamedArgs = "by_type", keep_plan: bool = False) -> RecordResult:
    """Classify one prediction: accepted (valid as is), repair_needed (the validator or a
    conversion defect found something to fix) or rejected (no plan at all)."""
    if not isinstance(record, dict):
        problem = Problem(code="bad_plan_shape", message=f"the record is {_short(record)}, "
                          "not a TaskBench object")
        return RecordResult(index=index, verdict="rejected", codes=["bad_plan_shape"],
                            problems=[problem])
    record_id = str(record["id"]) if record.get("id") is not None else None
    converted = record_to_plan(record, tools.index, named_args=named_args)
    text = converted.to_json()
    outcome = parse_plan_output(text, goal=f"TaskBench request {record_id or index}")
    common = {"index": index, "id": record_id, "issues": converted.issues,
              "fixes": outcome.fixes, "plan_json": text if keep_plan else None}
    if outcome.plan is None:
        return RecordResult(verdict="rejected", problems=outcome.problems,
                            codes=sorted({p.code for p in outcome.problems}), **common)
    problems = validate_plan(outcome.plan, tools.tools)
    problems += referenced_extra_args(outcome.plan, tools.tools, problems)
    codes = sorted({p.code for p in problems} | {i.kind for i in converted.defects})
    return RecordResult(verdict="repair_needed" if codes else "accepted", codes=codes,
                        problems=problems, steps=len(outcome.plan.steps), **common)


__all__ = [
    "DEFECTS", "DOMAINS", "ConversionIssue", "ConversionOutcome", "NodeRef", "RecordResult",
    "TaskBenchTools", "ToolSpec", "build_registry", "build_tool", "evaluate_record",
    "literal_kinds", "load_tool_specs", "node_refs", "output_schema", "record_to_plan",
    "referenced_extra_args", "stub_output",
]
