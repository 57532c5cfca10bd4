"""WorfBench gold workflow graphs as JARVIS plans.

WorfBench (Qiao et al. 2024) gold graphs are the assistant turn of each record::

    Node:
    1: go to locations where newspapers may be placed
    2: take newspaper from location
    Edge: (START,1) (1,2) (2,END)

The nodes are natural-language subtasks, not tool calls, so the mapping is an honest
approximation, stated in every report:

- every node becomes a step ``n<k>`` calling one generic stub tool, :data:`SUBTASK_TOOL`, with
  the node text as its ``instruction`` (which tool or action a node would use is not in the gold);
- an edge ``(i, j)`` becomes ``n<i>`` in the ``deps`` of ``n<j>`` (ordering only: WorfBench edges
  carry no data);
- ``START`` and ``END`` are sentinels, not steps: ``(START, j)`` says ``n<j>`` may run first and
  ``(i, END)`` that ``n<i>`` ends a branch; they are dropped, since a step without dependencies
  already runs first and the plan ends when every step has.

Parsing: the node list is the first run of ``<number>: <text>`` lines after ``Node:``; the
edges are every ``(a, b)`` pair of node numbers or START/END after it (case-insensitive). Some
gold answers put the edges in prose or a bullet list rather than on the ``Edge:`` line
(``edges_in_prose``); repeated edges are kept once (``duplicate_edge``). A record is not
expressible when it has no node list (``no_nodes``), an edge names a node that is not in the list
(``unknown_node``) or an edge points a node at itself (``self_loop``); a cycle is reported by the
validator.

``python -m evals.gold --dataset worfbench-alfworld`` reports the conversion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from evals.datasets import dataset_file
from evals.gold import GoldRecord, GoldSet, Note, validate_records
from planner.plan import Plan, Step
from planner.retry import RetrySpec
from planner.tools import Tool, ToolRegistry

TASKS = ("alfworld", "intercodesql", "lumos", "os", "seal_tools", "toolalpaca", "toolbench",
         "webshop", "wikihow")
SUBTASK_TOOL = "subtask"
START, END = "START", "END"

_NODE_HEADER = re.compile(r"^\s*\**\s*nodes?\s*\**\s*:\s*\**\s*$", re.IGNORECASE)
_NODE_LINE = re.compile(r"^\s*(\d+)\s*:\s*(.*?)\s*$")
_EDGE = re.compile(r"\(\s*(START|END|\d+)\s*,\s*(START|END|\d+)\s*\)", re.IGNORECASE)
_EDGE_HEADER = re.compile(r"^[\s*#>`-]*(?:graph:\s*)?edges?\b[^:()]{0,20}:", re.IGNORECASE)
_EDGE_FILLER = " \t,;`*->\u2192"
_GOAL_CUTS = ("The action list you can take", "The api list you can use",
              "The tool list you can select from", "api_list:", "The database tables",
              "\nOutput:")
_GOAL_PREFIXES = ("Now it's your turn.", "Task:", "Your task is to:", "My problem is:",
                  "Instruction: [SEP]")


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str = ""


class WorfRecord(BaseModel):
    """One record of ``gold_traj/<task>/graph_eval.json``."""

    model_config = ConfigDict(extra="allow")

    id: str
    source: str = ""
    category: str | None = None
    conversations: list[Message] = Field(default_factory=list)

    def turn(self, role: str) -> str:
        texts = [m.content for m in self.conversations if m.role == role]
        return texts[-1] if texts else ""


class WorfParseError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class WorfGraph:
    """A parsed gold graph: node number -> text, edges between numbers and START/END."""

    nodes: dict[int, str]
    edges: list[tuple[str, str]]
    notes: list[Note] = field(default_factory=list)


def parse_graph(text: str) -> WorfGraph:
    """Read the node list and edges of a gold answer; raises WorfParseError."""
    lines = text.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if _NODE_HEADER.match(line)), 0)
    nodes: dict[int, str] = {}
    end = start
    for i in range(start, len(lines)):
        match = _NODE_LINE.match(lines[i])
        if match is None:
            if lines[i].strip() and nodes:
                break
            continue
        number = int(match.group(1))
        if number in nodes:
            break  # a second numbered list (prose) starts here
        nodes[number] = match.group(2)
        end = i + 1
    if not nodes:
        raise WorfParseError("no_nodes", "no 'Node:' list of '<number>: <subtask>' lines")
    rest = lines[end:]
    notes: list[Note] = []
    edges: list[tuple[str, str]] = []
    for a, b in _EDGE.findall("\n".join(rest)):
        edge = (_endpoint(a), _endpoint(b))
        if edge in edges:
            if not any(n.kind == "duplicate_edge" for n in notes):
                notes.append(Note(kind="duplicate_edge", detail=f"edge {edge} is listed more "
                                  "than once; kept once"))
            continue
        edges.append(edge)
    on_edge_line = len(set(_edge_block(rest)))
    if edges and on_edge_line < len(edges):
        notes.append(Note(kind="edges_in_prose", detail=(
            f"{len(edges) - on_edge_line} of {len(edges)} edges are read from prose or an "
            "annotated list after the node list, not from the 'Edge:' lines")))
    for a, b in edges:
        for end_ in (a, b):
            if end_ not in (START, END) and int(end_) not in nodes:
                raise WorfParseError("unknown_node", f"edge ({a}, {b}) names node {end_}, "
                                     f"which is not in the node list 1..{max(nodes)}")
        if a == b:
            raise WorfParseError("self_loop", f"edge ({a}, {b}) points a node at itself")
    if not edges:
        notes.append(Note(kind="no_edges", detail="the answer lists no edges: every step "
                          "is independent"))
    return WorfGraph(nodes=nodes, edges=edges, notes=notes)


def _edge_block(lines: list[str]) -> list[tuple[str, str]]:
    """The edges of the first 'Edge:' line and the edge-only lines right after it."""
    found: list[tuple[str, str]] = []
    inside = False
    for line in lines:
        if not inside:
            header = _EDGE_HEADER.match(line)
            if header is None:
                continue
            inside = True
            line = line[header.end():]
        elif _EDGE_HEADER.match(line) or _EDGE.sub("", line).strip(_EDGE_FILLER):
            break
        found += [(_endpoint(a), _endpoint(b)) for a, b in _EDGE.findall(line)]
    return found


def _endpoint(raw: str) -> str:
    upper = raw.upper()
    return upper if upper in (START, END) else str(int(raw))


def task_text(user: str) -> str:
    """The task of a WorfBench user turn, without the tool or action list."""
    text = user
    for cut in _GOAL_CUTS:
        if cut in text:
            text = text[:text.index(cut)]
    for prefix in _GOAL_PREFIXES:
        if prefix in text:
            text = text[text.index(prefix) + len(prefix):]
    text = text.replace("[SEP]", " ").strip()
    text = re.sub(r"\s+Search$", "", text)
    return " ".join(text.split()) or " ".join(user.split())[:2000] or "WorfBench task"


def step_id(number: int | str) -> str:
    return f"n{number}"


def to_plan(record: WorfRecord) -> tuple[Plan, list[Note]]:
    """The plan of a record (raises WorfParseError)."""
    graph = parse_graph(record.turn("assistant"))
    notes = list(graph.notes)
    preds: dict[int, list[str]] = {n: [] for n in graph.nodes}
    for a, b in graph.edges:
        if a not in (START, END) and b not in (START, END):
            preds[int(b)].append(step_id(a))
        elif a == END or b == START:
            notes.append(Note(kind="reversed_sentinel", detail=f"edge ({a}, {b}) runs from "
                              "END or into START; dropped with the other sentinel edges"))
    touched = {int(x) for e in graph.edges for x in e if x not in (START, END)}
    isolated = sorted(set(graph.nodes) - touched)
    if isolated and graph.edges:
        notes.append(Note(kind="isolated_node", detail="node(s) " + ", ".join(map(str, isolated))
                          + " have no edge at all: they run independently"))
    steps = [Step(id=step_id(n), tool=SUBTASK_TOOL, args={"instruction": _escape(text)},
                  deps=preds[n]) for n, text in graph.nodes.items()]
    goal = task_text(record.turn("user"))
    return Plan(goal=goal, steps=steps), notes


def _escape(text: str) -> str:
    return text.replace("${", "$${")


def subtask_tool() -> Tool:
    """The generic stub every WorfBench node calls."""

    async def subtask(instruction: str) -> dict[str, Any]:
        return {"result": f"done: {instruction}"}

    class SubtaskArgs(BaseModel):
        """Carry out one natural-language subtask of a workflow."""

        model_config = ConfigDict(extra="forbid")
        instruction: str = Field(description="The subtask, in words.")

    return Tool(name=SUBTASK_TOOL, description="Carry out one natural-language subtask of a "
                "WorfBench workflow (WorfBench nodes are subtasks, not tool calls).",
                fn=subtask, args_model=SubtaskArgs,
                output_schema={"type": "object", "properties": {"result": {"type": "string"}},
                               "required": ["result"]},
                timeout_s=10.0, retry=RetrySpec(max_attempts=1))


def load_records(task: str) -> list[WorfRecord]:
    if task not in TASKS:
        raise ValueError(f"unknown WorfBench task {task!r}; choose one of {TASKS}")
    path = dataset_file("worfbench", "gold_traj", task, "graph_eval.json")
    return TypeAdapter(list[WorfRecord]).validate_json(path.read_bytes())


def worfbench_gold(task: str) -> GoldSet:
    """One WorfBench task's gold graphs as plans."""
    registry = ToolRegistry()
    registry.register(subtask_tool())
    name = f"worfbench-{task}"
    records: list[GoldRecord] = []
    for index, raw in enumerate(load_records(task)):
        record = GoldRecord(dataset=name, id=raw.id, index=index,
                            goal=task_text(raw.turn("user")))
        try:
            plan, notes = to_plan(raw)
        except WorfParseError as exc:
            records.append(record.fail(exc.reason, str(exc)))
            continue
        records.append(record.model_copy(update={"plan": plan, "notes": notes}))
    return GoldSet(
        name=name,
        source=str(dataset_file("worfbench", "gold_traj", task, "graph_eval.json")),
        registry=registry, records=validate_records(records, registry),
        approximations=[
            f"WorfBench nodes are natural-language subtasks: each becomes a step calling one "
            f"generic stub tool `{SUBTASK_TOOL}` with the node text as `instruction`; which "
            "tool or action a node would use is not in the gold.",
            "Edges become `deps` (ordering only; no data flows between WorfBench nodes).",
            "START/END sentinel edges are dropped: a step without dependencies runs first, "
            "and the plan ends when every step has.",
        ])


__all__ = ["SUBTASK_TOOL", "TASKS", "WorfGraph", "WorfParseError", "WorfRecord",
           "load_records", "parse_graph", "subtask_tool", "task_text", "to_plan",
           "worfbench_gold"]
