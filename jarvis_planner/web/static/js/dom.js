// DOM helpers. Every piece of data (goals, plans, tool output, errors) goes in as text
// (textContent / text nodes), never as HTML, so nothing a goal, a plan or a tool returns can
// run script in this page.

export const STAGE_LABEL = {
  awaiting_approval: "awaiting approval", timed_out: "timed out", canceled: "cancelled",
  over_budget: "over budget",
};

export function $(id) { return document.getElementById(id); }

// el("div", {class: "x", dataset: {a: "b"}, text: "..."}, child, "text", ...)
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "value") node.value = value;
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function json(value, indent) {
  try { return JSON.stringify(value, null, indent === undefined ? 2 : indent); }
  catch (e) { return String(value); }
}

// A value as the server split it (text and ${...} reference segments), references highlighted.
export function segmentsNode(segments, cls) {
  const node = el("code", { class: cls || "val" });
  for (const seg of segments || []) {
    node.append(seg.kind === "ref"
      ? el("span", { class: "ref", text: seg.text, title: "reference to another step's output" })
      : document.createTextNode(seg.text));
  }
  if (!segments || !segments.length) node.append(el("span", { class: "muted", text: "(empty)" }));
  return node;
}

export function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return iso;
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function fmtSeconds(s) {
  return s < 1 ? Math.round(s * 1000) + " ms" : s.toFixed(2) + " s";
}

export function badge(stage) {
  return el("span", { class: "badge stage-" + stage, text: STAGE_LABEL[stage] || stage.replace(/_/g, " ") });
}
