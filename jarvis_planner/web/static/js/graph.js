// The plan as a graph: inline SVG made with DOM calls from the layout the server computed
// (`view.graph`: each node's box, each edge's route). Nodes carry data-step-id and data-status
// (coloured by app.css), edges data-from and data-to; statuses follow the run in place.

const SVG = "http://www.w3.org/2000/svg";

/**
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {...(Node | string)} children
 * @returns {SVGElement}
 */
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  for (const child of children) node.append(child);  // strings become text nodes
  return node;
}

/**
 * A route through points as one smooth path: vertical tangents at every point.
 * @param {Array<[number, number]>} points
 */
export function routePath(points) {
  const [first, ...rest] = points;
  let d = "M" + first[0] + " " + first[1];
  let [x0, y0] = first;
  for (const [x, y] of rest) {
    const bend = (y - y0) / 2;
    d += " C" + x0 + " " + (y0 + bend) + " " + x + " " + (y - bend) + " " + x + " " + y;
    [x0, y0] = [x, y];
  }
  return d;
}

/**
 * @param {{width: number, height: number, nodes: Array<any>, edges: Array<any>}} graph
 * @param {(stepId: string) => void} onPick  called when a node is clicked or tapped
 */
export function graphView(graph, onPick) {
  const box = svg("svg", {
    class: "dag-svg", viewBox: "0 0 " + graph.width + " " + graph.height,
    width: graph.width, height: graph.height, role: "group",
    "aria-label": "Plan graph: " + graph.nodes.length + " steps, " + graph.edges.length + " dependencies",
  });
  box.append(svg("defs", {}, svg("marker", {
    id: "dag-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
    orient: "auto-start-reverse",
  }, svg("path", { d: "M0 0 L10 5 L0 10 z", class: "dag-arrow-head" }))));
  const edges = svg("g", { class: "dag-edges" });
  for (const e of graph.edges) {
    edges.append(svg("path", { class: "dag-edge", d: routePath(e.points), "data-from": e.source,
      "data-to": e.target, "data-status": "pending", "marker-end": "url(#dag-arrow)" },
    svg("title", {}, e.source + " → " + e.target)));
  }
  const nodes = svg("g", { class: "dag-nodes" });
  for (const n of graph.nodes) {
    const node = svg("g", { class: "dag-node", transform: "translate(" + n.x + " " + n.y + ")",
      "data-step-id": n.id, "data-status": "pending", tabindex: 0, role: "button",
      "aria-label": "step " + n.id + " (" + n.tool + ")" },
    svg("title", {}, n.id + " · " + n.tool),
    svg("rect", { width: n.width, height: n.height, rx: 8 }),
    svg("text", { class: "dag-node-id", x: n.width / 2, y: 18, "text-anchor": "middle" }, n.label),
    svg("text", { class: "dag-node-tool", x: n.width / 2, y: 34, "text-anchor": "middle" }, n.tool));
    node.addEventListener("click", () => onPick(n.id));
    node.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); onPick(n.id); }
    });
    nodes.append(node);
  }
  box.append(edges, nodes);
  return box;
}

/**
 * Node and edge statuses from the run's steps (an edge takes its source step's status).
 * @param {Array<{id: string, status: string}>} steps
 */
export function applyGraphStatus(steps) {
  const status = new Map(steps.map((s) => [s.id, s.status]));
  for (const node of document.querySelectorAll(".dag-node")) {
    const s = status.get(node.getAttribute("data-step-id"));
    if (s && node.getAttribute("data-status") !== s) node.setAttribute("data-status", s);
  }
  for (const edge of document.querySelectorAll(".dag-edge")) {
    const s = status.get(edge.getAttribute("data-from"));
    if (s && edge.getAttribute("data-status") !== s) edge.setAttribute("data-status", s);
  }
}
