// Results as a person reads them: text as text, lists as lists, objects as a small key/value
// table, values nested deeper folded in <details> (open when short), each output with a Copy
// button; the raw JSON stays one click away. Everything goes in as text (dom.js), never as HTML.
import { el, json } from "./dom.js";

const PAYLOAD = "$jarvis_payload";
const MAX_DEPTH = 6;

/** @param {unknown} value */
function isContainer(value) { return value !== null && typeof value === "object"; }

/** @param {unknown} value */
function size(value) { return Array.isArray(value) ? value.length : Object.keys(value).length; }

/**
 * One value, rendered by its JSON type (depth 1: an output's value). Containers nested in
 * another one are folded.
 * @param {unknown} value
 * @param {number} [depth]
 * @returns {Node}
 */
export function valueNode(value, depth = 0) {
  if (value === null || value === undefined) return el("span", { class: "rv-null", text: "none" });
  if (typeof value === "string") {
    return el(value.includes("\n") || value.length > 80 ? "div" : "span", { class: "rv-text", text: value });
  }
  if (typeof value !== "object") return el("span", { class: "rv-scalar", text: String(value) });
  if (PAYLOAD in value) return payloadNode(value);
  if (depth >= MAX_DEPTH) return el("pre", { class: "rv-json", text: json(value) });
  const body = Array.isArray(value) ? listNode(value, depth) : tableNode(value, depth);
  if (depth <= 1) return body;
  const n = size(value);
  const label = Array.isArray(value) ? n + " item" + (n === 1 ? "" : "s") : n + " field" + (n === 1 ? "" : "s");
  return el("details", { class: "rv-nested", open: depth === 2 && n <= 4 && json(value, 0).length <= 120 },
    el("summary", { text: label }), body);
}

function listNode(items, depth) {
  if (!items.length) return el("span", { class: "rv-null", text: "(empty list)" });
  return el("ul", { class: "rv-list" }, ...items.map((item) => el("li", {}, valueNode(item, depth + 1))));
}

function tableNode(object, depth) {
  const entries = Object.entries(object);
  if (!entries.length) return el("span", { class: "rv-null", text: "(empty)" });
  return el("table", { class: "rv-table" }, el("tbody", {}, ...entries.map(([key, v]) =>
    el("tr", {}, el("th", { scope: "row", text: key }), el("td", {}, valueNode(v, depth + 1))))));
}

function payloadNode(handle) {
  return el("span", { class: "rv-payload" },
    el("span", { class: "muted small", text: "stored output" + (handle.bytes ? " (" + handle.bytes + " bytes)" : "") + ": " }),
    handle.preview !== undefined ? el("span", { class: "rv-text", text: String(handle.preview) }) : null);
}

/** What Copy puts on the clipboard: a string as it is, anything else as JSON. */
export function copyText(value) { return typeof value === "string" ? value : json(value); }

/**
 * A Copy button. Without clipboard access (an insecure origin, a refused permission) it
 * selects `target`'s text instead, quietly, so Ctrl+C copies it.
 * @param {() => string} text
 * @param {() => Node | null} target
 */
export function copyButton(text, target, label) {
  const button = el("button", { type: "button", class: "btn btn-small btn-ghost copy-btn",
    text: "Copy", title: label || "Copy to the clipboard", "aria-label": label || "Copy" });
  button.addEventListener("click", async () => {
    let done = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text());
        done = true;
      }
    } catch (e) { done = false; }
    if (!done) {
      const node = target();
      if (node) window.getSelection().selectAllChildren(node);
    }
    button.textContent = done ? "Copied" : "Selected: Ctrl+C";
    setTimeout(() => { button.textContent = "Copy"; }, 1600);
  });
  return button;
}

/**
 * The result of a goal: one row per output, its value rendered, each with a Copy button;
 * then the whole result as JSON (folded), with its own Copy.
 * @param {Record<string, unknown>} outputs
 */
export function resultView(outputs) {
  const entries = Object.entries(outputs || {});
  const raw = el("pre", { class: "result-json", text: json(outputs) });
  const rows = entries.map(([name, value]) => {
    const cell = el("td", { class: "result-value" }, valueNode(value, 1));
    return el("tr", { dataset: { output: name } },
      el("th", { scope: "row", class: "result-name", text: name }), cell,
      el("td", { class: "result-copy" }, copyButton(() => copyText(value), () => cell, "Copy " + name)));
  });
  return el("div", { class: "result-view" },
    entries.length ? el("table", { class: "result-table" }, el("tbody", {}, ...rows))
      : el("p", { class: "muted", text: "The plan names no outputs." }),
    el("details", { class: "result-raw" },
      el("summary", {}, "All outputs as JSON"),
      el("div", { class: "result-raw-bar" }, copyButton(() => json(outputs), () => raw, "Copy all outputs as JSON")),
      raw));
}
