"""The plan drawn as a graph, laid out here so the page only draws: one row per dependency level
(top to bottom), each node a box with its position, each edge the points it joins (the bottom of
the step it waits for, the top of the waiting step). Within a row, nodes sit under the mean
position of the steps they wait for (fewer crossings); several edges into or out of one node
spread along its edge, so a fan-out and a fan-in are seen as such. An edge that skips rows passes
them through the gap between two nodes nearest its way (``points``: the whole route)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel

NODE_W = 144.0
NODE_H = 44.0
GAP_X = 20.0
GAP_Y = 46.0
PAD = 12.0
LABEL_CHARS = 17  # of a step id, in the node's box (the whole id is in its title)


class GraphNode(BaseModel):
    id: str
    label: str
    tool: str
    level: int
    x: float  # top left corner
    y: float
    width: float = NODE_W
    height: float = NODE_H


class GraphEdge(BaseModel):
    source: str  # the step waited for
    target: str  # the waiting step
    x1: float
    y1: float
    x2: float
    y2: float
    points: list[tuple[float, float]]  # from (x1, y1) to (x2, y2), through the rows it skips


class Graph(BaseModel):
    width: float
    height: float
    nodes: list[GraphNode]
    edges: list[GraphEdge]


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def layout(rows: Sequence[Sequence[tuple[str, str]]], deps: Mapping[str, Sequence[str]]
           ) -> Graph:
    """``rows``: (step id, tool) per dependency level, in plan order; ``deps``: the steps each
    one waits for."""
    width = max((len(row) for row in rows), default=0) * (NODE_W + GAP_X) - GAP_X + 2 * PAD
    centre: dict[str, float] = {}
    nodes: list[GraphNode] = []
    for level, row in enumerate(rows):
        order = {step_id: i for i, (step_id, _) in enumerate(row)}

        def key(item: tuple[str, str], order: dict[str, int] = order) -> tuple[float, int]:
            above = [centre[d] for d in deps.get(item[0], ()) if d in centre]
            return (sum(above) / len(above) if above else -1.0, order[item[0]])

        placed = sorted(row, key=key) if level else list(row)
        left = (width - (len(placed) * (NODE_W + GAP_X) - GAP_X)) / 2
        y = PAD + level * (NODE_H + GAP_Y)
        for i, (step_id, tool) in enumerate(placed):
            x = left + i * (NODE_W + GAP_X)
            centre[step_id] = x + NODE_W / 2
            nodes.append(GraphNode(id=step_id, label=short_label(step_id), tool=tool,
                                   level=level, x=round(x, 1), y=round(y, 1)))
    return Graph(width=round(max(width, 0.0), 1),
                 height=round(len(rows) * (NODE_H + GAP_Y) - GAP_Y + 2 * PAD, 1) if rows else 0,
                 nodes=nodes, edges=_edges(nodes, deps))


def _edges(nodes: list[GraphNode], deps: Mapping[str, Sequence[str]]) -> list[GraphEdge]:
    by_id = {n.id: n for n in nodes}
    pairs = [(d, n.id) for n in nodes for d in deps.get(n.id, ()) if d in by_id]
    outgoing = {n.id: sorted((t for s, t in pairs if s == n.id), key=lambda t: by_id[t].x)
                for n in nodes}
    incoming = {n.id: sorted((s for s, t in pairs if t == n.id), key=lambda s: by_id[s].x)
                for n in nodes}
    rows: dict[int, list[GraphNode]] = {}
    for n in nodes:
        rows.setdefault(n.level, []).append(n)

    def spread(node: GraphNode, others: list[str], other: str) -> float:
        share = node.width / (len(others) + 1)
        return round(node.x + share * (others.index(other) + 1), 1)

    edges = []
    for s, t in pairs:
        start = (spread(by_id[s], outgoing[s], t), by_id[s].y + by_id[s].height)
        end = (spread(by_id[t], incoming[t], s), by_id[t].y)
        points = [start]
        for level in range(by_id[s].level + 1, by_id[t].level):
            row = rows.get(level, [])
            if not row:
                continue
            share = (level - by_id[s].level) / (by_id[t].level - by_id[s].level)
            x = _gap(row, start[0] + (end[0] - start[0]) * share)
            points += [(x, row[0].y - GAP_Y / 4), (x, row[0].y + NODE_H + GAP_Y / 4)]
        points.append(end)
        edges.append(GraphEdge(source=s, target=t, x1=start[0], y1=start[1], x2=end[0],
                               y2=end[1], points=points))
    return edges


def _gap(row: list[GraphNode], near: float) -> float:
    """The x of the free lane in ``row`` (between two nodes, or beside the row) nearest to
    ``near``."""
    lanes: list[float] = [row[0].x - GAP_X / 2] + [n.x + n.width + GAP_X / 2 for n in row]
    best: float = min(lanes, key=lambda x: abs(x - near))
    return round(best, 1)
