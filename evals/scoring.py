"""TaskBench-style plan scores: a predicted plan against a gold plan.

What the scorer sees of a plan is a :class:`PlanGraph`: one **node** per step (its tool name), one
**edge** per dependency (``(source tool, target tool)`` for every step a step references or lists
in ``deps``) and one **argument** per step argument (``(tool, name, value)``, the value
normalised, see :func:`normalise_value`). TaskBench (Shen et al. 2023, ``taskbench/evaluate.py``)
scores exactly these: node F1 over tool names ("n-F1"), link F1 over ``(source, target)`` tool
pairs ("e-F1") and argument F1 over ``task-argname`` and ``task-argname-value`` strings.

Per record, predicted and gold items are matched by equality and counted as true positives
(``tp``), false positives (``fp``: predicted, not in gold) and false negatives (``fn``: gold, not
predicted):

- ``counting="multiset"`` (default): a tool called three times in gold and twice in the
  prediction is two matches and one miss. ``counting="set"`` is TaskBench's own counting, which
  collapses repeats within a record first. The two agree on every record without repeats.
- Predicted tools that are not in the catalogue count as false positives here; TaskBench's node
  F1 ignores them (it only counts names of its ``tool_desc``). Our validator rejects such plans
  anyway, and validity is reported separately.

Aggregates (:func:`aggregate`):

- **micro** F1 (what TaskBench reports as n-F1 / e-F1 / argument F1): ``tp``, ``fp`` and ``fn``
  summed over all records, then ``F1 = 2tp / (2tp + fp + fn)``;
- **macro** F1: the mean of the per-record F1 (GNN4TaskPlan's ``batch_f1_score``). A record where
  gold and prediction are both empty (e.g. no edges in a one-step plan) scores 1.0 here, where
  GNN4TaskPlan scores 0; TaskBench's own "macro" is an average over tool types, not records, and
  is not computed.
- **argument accuracy**: over the records whose gold has arguments, the share of gold
  ``(tool, name, value)`` triples the prediction matches (the recall of argument values);
  ``None`` when no gold record has arguments (UltraTool, TMDB).
- **validity rate**: valid plans / records (validity is decided by the caller: parser + validator).

Every record is scored, valid or not; a request that produced no plan at all scores as an empty
prediction (all gold items missed).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from planner.plan import Plan
from planner.refs import Ref, RefSyntaxError, format_path, parse_template

Counting = Literal["multiset", "set"]
Edge = tuple[str, str]
Arg = tuple[str, str, str]

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


# ----------------------------------------------------------------------------- the graph


class PlanGraph(BaseModel):
    """What the scorer compares: tool names, tool-to-tool dependencies, arguments."""

    nodes: list[str] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    args: list[Arg] = Field(default_factory=list)

    @classmethod
    def from_plan(cls, plan: Plan | None) -> PlanGraph:
        """The graph of one of our plans (None: an empty prediction)."""
        if plan is None:
            return cls()
        tool_of = {s.id: s.tool for s in plan.steps}
        edges: list[Edge] = []
        args: list[Arg] = []
        for step in plan.steps:
            try:
                deps = step.dependencies()
            except RefSyntaxError:  # an invalid plan: score the explicit deps only
                deps = set(step.deps)
            edges += [(tool_of[d], step.tool) for d in sorted(deps)
                      if d in tool_of and d != step.id]
            args += [(step.tool, str(k), normalise_value(v, tool_of))
                     for k, v in step.args.items()]
        return cls(nodes=[s.tool for s in plan.steps], edges=edges, args=args)

    @classmethod
    def from_taskbench(cls, record: Mapping[str, Any]) -> PlanGraph:
        """The nodes and edges of a raw TaskBench record: ``task_nodes`` names, ``task_links``
        (tool names) plus one edge per ``<node-k>`` argument (as TaskBench's evaluator derives
        links). Arguments are not read (TaskBench's are positional and typed by content)."""
        raw_nodes = record.get("task_nodes")
        raw_nodes = raw_nodes if isinstance(raw_nodes, list) else []
        nodes = [n["task"] for n in raw_nodes
                 if isinstance(n, dict) and isinstance(n.get("task"), str)]
        edges: list[Edge] = []
        links = record.get("task_links")
        for link in links if isinstance(links, list) else []:
            if isinstance(link, dict) and isinstance(link.get("source"), str) \
                    and isinstance(link.get("target"), str):
                edges.append((link["source"], link["target"]))
        tasks = [n.get("task") if isinstance(n, dict) else None for n in raw_nodes]
        for i, node in enumerate(raw_nodes):
            if not isinstance(node, dict) or not isinstance(node.get("task"), str):
                continue
            text = json.dumps(node.get("arguments"), ensure_ascii=False)
            for k in sorted({int(m) for m in re.findall(r"<node-(\d+)>", text)}):
                source = tasks[k] if k < len(tasks) else None
                if k != i and isinstance(source, str) and (source, node["task"]) not in edges:
                    edges.append((source, node["task"]))
        return cls(nodes=nodes, edges=edges)

    @property
    def has_args(self) -> bool:
        return bool(self.args)


def normalise_value(value: Any, tool_of: Mapping[str, str] | None = None) -> str:
    """An argument value as a comparable string.

    References name their producer's tool instead of its step id (``${s1.suffix}`` ->
    ``@analyzeWord.suffix``), since step ids are arbitrary; numbers and numeric strings compare
    as numbers (``"40.7" == 40.7``, ``5 == 5.0``); text is compared case-folded with runs of
    whitespace collapsed; lists and objects element by element (keys sorted)."""
    return json.dumps(_normal(value, tool_of or {}), sort_keys=True, ensure_ascii=False)


def _normal(value: Any, tool_of: Mapping[str, str]) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return _number(float(value))
    if isinstance(value, str):
        return _text(value, tool_of)
    if isinstance(value, Mapping):
        return {str(k): _normal(v, tool_of) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v, tool_of) for v in value]
    return str(value)


def _number(x: float) -> float | int | str:
    if not math.isfinite(x):
        return str(x)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _text(text: str, tool_of: Mapping[str, str]) -> Any:
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        return _number(float(stripped))
    if "${" in text:
        try:
            parts = parse_template(text)
        except RefSyntaxError:
            parts = [text]
        text = "".join(_ref_text(p, tool_of) if isinstance(p, Ref) else p for p in parts)
    return " ".join(text.split()).casefold()


def _ref_text(ref: Ref, tool_of: Mapping[str, str]) -> str:
    return "@" + tool_of.get(ref.step, "?" + ref.step) + format_path(ref.path)


# ----------------------------------------------------------------------------- counting


class Counts(BaseModel):
    """Matches of one kind of item (nodes, edges, arguments) in one or more records."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        if self.tp + self.fp == 0:
            return 1.0 if self.fn == 0 else 0.0
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        if self.tp + self.fn == 0:
            return 1.0 if self.fp == 0 else 0.0
        return self.tp / (self.tp + self.fn)

    @property
    def f1(self) -> float:
        """``2tp / (2tp + fp + fn)``; 1.0 when there is nothing to find and nothing found."""
        total = 2 * self.tp + self.fp + self.fn
        return 1.0 if total == 0 else 2 * self.tp / total

    def __add__(self, other: Counts) -> Counts:
        return Counts(tp=self.tp + other.tp, fp=self.fp + other.fp, fn=self.fn + other.fn)


def match(predicted: Iterable[Hashable], gold: Iterable[Hashable],
          counting: Counting = "multiset") -> Counts:
    """Count matches between two collections of items."""
    pred, ref = Counter(predicted), Counter(gold)
    if counting == "set":
        pred, ref = Counter(set(pred)), Counter(set(ref))
    tp = sum((pred & ref).values())
    return Counts(tp=tp, fp=sum(pred.values()) - tp, fn=sum(ref.values()) - tp)


class RecordScore(BaseModel):
    """One prediction scored against its gold plan."""

    id: str
    valid: bool
    nodes: Counts
    edges: Counts
    arg_names: Counts = Field(description="(tool, argument name) pairs.")
    arg_values: Counts = Field(description="(tool, argument name, normalised value) triples.")
    gold_args: int = Field(0, description="Arguments in the gold plan.")

    @property
    def node_f1(self) -> float:
        return self.nodes.f1

    @property
    def edge_f1(self) -> float:
        return self.edges.f1

    @property
    def arg_accuracy(self) -> float | None:
        """Share of the gold arguments matched by name and value (None: gold has none)."""
        return self.arg_values.tp / self.gold_args if self.gold_args else None


def score_plan(predicted: Plan | PlanGraph | None, gold: Plan | PlanGraph, *, valid: bool,
               id: str = "", counting: Counting = "multiset") -> RecordScore:
    """Score ``predicted`` (None: no plan at all) against ``gold``."""
    pred = predicted if isinstance(predicted, PlanGraph) else PlanGraph.from_plan(predicted)
    ref = gold if isinstance(gold, PlanGraph) else PlanGraph.from_plan(gold)
    return RecordScore(
        id=id, valid=valid,
        nodes=match(pred.nodes, ref.nodes, counting),
        edges=match(pred.edges, ref.edges, counting),
        arg_names=match([a[:2] for a in pred.args], [a[:2] for a in ref.args], counting),
        arg_values=match(pred.args, ref.args, counting),
        gold_args=len(set(ref.args)) if counting == "set" else len(ref.args))


# ---------------------------------------------------------------------------- aggregates


class Aggregate(BaseModel):
    """Scores over many records (see the module docstring for micro and macro)."""

    records: int
    valid: int
    validity_rate: float | None
    node_precision: float | None = Field(description="Micro.")
    node_recall: float | None = Field(description="Micro.")
    node_f1: float | None = Field(description="Micro (TaskBench n-F1).")
    node_f1_macro: float | None
    edge_precision: float | None = Field(description="Micro.")
    edge_recall: float | None = Field(description="Micro.")
    edge_f1: float | None = Field(description="Micro (TaskBench e-F1 / link F1).")
    edge_f1_macro: float | None
    arg_name_f1: float | None = Field(description="Micro, over records whose gold has "
                                      "arguments (TaskBench task-argname F1).")
    arg_value_f1: float | None = Field(description="Micro, over records whose gold has "
                                       "arguments (TaskBench task-argname-value F1).")
    arg_accuracy: float | None = Field(description="Gold arguments matched by name and value / "
                                       "gold arguments, over records whose gold has them.")
    records_with_gold_args: int
    exact: int = Field(description="Records whose nodes and edges match gold exactly.")


def aggregate(scores: Sequence[RecordScore]) -> Aggregate:
    """Micro and macro scores over ``scores`` (None where there are no records)."""
    n = len(scores)
    nodes = sum((s.nodes for s in scores), Counts())
    edges = sum((s.edges for s in scores), Counts())
    with_args = [s for s in scores if s.gold_args]
    names = sum((s.arg_names for s in with_args), Counts())
    values = sum((s.arg_values for s in with_args), Counts())
    gold_args = sum(s.gold_args for s in with_args)

    def mean(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    return Aggregate(
        records=n, valid=sum(s.valid for s in scores),
        validity_rate=sum(s.valid for s in scores) / n if n else None,
        node_precision=nodes.precision if n else None, node_recall=nodes.recall if n else None,
        node_f1=nodes.f1 if n else None, node_f1_macro=mean([s.node_f1 for s in scores]),
        edge_precision=edges.precision if n else None, edge_recall=edges.recall if n else None,
        edge_f1=edges.f1 if n else None, edge_f1_macro=mean([s.edge_f1 for s in scores]),
        arg_name_f1=names.f1 if with_args else None,
        arg_value_f1=values.f1 if with_args else None,
        arg_accuracy=values.tp / gold_args if gold_args else None,
        records_with_gold_args=len(with_args),
        exact=sum(s.nodes.fp == s.nodes.fn == s.edges.fp == s.edges.fn == 0 for s in scores))


__all__ = ["Aggregate", "Counting", "Counts", "PlanGraph", "RecordScore", "aggregate", "match",
           "normalise_value", "score_plan"]
