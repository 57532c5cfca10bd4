// Review: approve, reject (with a reason), or edit the plan (one input per argument, or the
// whole plan as JSON); an edit is validated by the server before it replaces the plan.
import { api, goalPath } from "./api.js";
import { el, fmtTime, json } from "./dom.js";
import { loadGoalsSoon } from "./goals.js";
import { finished, view } from "./state.js";
import { follow, render } from "./thread.js";

// -- review actions --------------------------------------------------------------------
export function actions(st) {
  const bar = el("div", { class: "actions" });
  if (view.editing) {
    bar.append(
      el("input", { type: "text", class: "note-input", id: "edit-note", placeholder: "note (optional)",
        value: view.draft.note, maxlength: "2000", oninput: (e) => { view.draft.note = e.target.value; } }),
      el("button", { type: "button", class: "btn btn-primary", id: "save-edit", disabled: view.busy,
        onclick: saveEdit, text: "Save changes" }),
      el("button", { type: "button", class: "btn btn-ghost", id: "cancel-edit", disabled: view.busy,
        onclick: () => { view.editing = null; view.draft = null; view.editProblems = null; view.editError = ""; render(true); },
        text: "Cancel" }));
    return bar;
  }
  if (view.rejecting) {
    bar.append(
      el("input", { type: "text", class: "note-input", id: "reject-reason", placeholder: "reason (optional)",
        value: view.rejectReason, maxlength: "2000", oninput: (e) => { view.rejectReason = e.target.value; } }),
      el("button", { type: "button", class: "btn btn-danger", id: "confirm-reject", disabled: view.busy,
        onclick: () => decide("reject", { reason: view.rejectReason }), text: "Reject plan" }),
      el("button", { type: "button", class: "btn btn-ghost", disabled: view.busy,
        onclick: () => { view.rejecting = false; render(true); }, text: "Back" }));
    return bar;
  }
  // "approve up to step X": what X needs runs now; every other step waits at its own gate
  const until = el("select", { id: "approve-until", class: "until-select", disabled: view.busy,
    "aria-label": "Approve up to a step", onchange: (e) => { view.until = e.target.value; } },
  el("option", { value: "", text: "all steps" }),
  ...st.plan.steps.map((s) => el("option", { value: s.id, text: "up to " + s.id,
    selected: view.until === s.id })));
  bar.append(
    el("button", { type: "button", class: "btn btn-primary", id: "approve", disabled: view.busy,
      onclick: () => decide("approve", { plan_digest: st.plan_digest, until: view.until || null }),
      text: "Approve" }),
    until,
    el("button", { type: "button", class: "btn", id: "edit", disabled: view.busy,
      onclick: () => startEdit(st), text: "Edit" }),
    el("button", { type: "button", class: "btn btn-danger-ghost", id: "reject", disabled: view.busy,
      onclick: () => { view.rejecting = true; view.actionError = ""; render(true); }, text: "Reject" }));
  if (st.approval_deadline) {
    bar.append(el("span", { class: "muted small deadline", text: "waiting until " + fmtTime(st.approval_deadline) }));
  }
  return bar;
}

// The state a decision answered with, unless the event stream already brought a newer one
// (the decision itself, and maybe steps running since): an older state would flicker back.
function takeNewer(state) {
  if (!view.state || state.decisions.length > view.state.decisions.length) view.state = state;
}

// One action on the open goal: busy while it is sent, its error shown in place, the page
// redrawn; ``then`` takes the state the server answered with (unless another goal is open).
async function act(path, body, then) {
  const id = view.id;
  view.busy = true;
  view.actionError = "";
  render(true);
  try {
    const state = await api("POST", goalPath(id, path), body);
    if (view.id === id) then(state, id);
  } catch (e) {
    if (view.id === id) view.actionError = e.message + (e.hint ? " (" + e.hint + ")" : "");
  } finally {
    if (view.id === id) { view.busy = false; render(true); }
  }
}

export async function decide(action, body) {
  await act("/" + action, body, (state, id) => {
    takeNewer(state);
    view.rejecting = false;
    if (!view.source && !finished(state)) follow(id);
  });
  loadGoalsSoon();
}

// A decision at one step's gate: the step runs, or is skipped with what depends on it (or,
// with abandon, the goal stops and what ran is undone).
export async function decideStep(stepId, approve, abandon = false) {
  await act("/steps/" + encodeURIComponent(stepId) + "/decision", { approve, abandon }, takeNewer);
}

// Run an ended goal again from one of its steps (the same id; finished steps are kept), then
// follow it as it runs.
export async function retryFrom(stepId, args) {
  await act("/retry", args === undefined ? { step: stepId } : { step: stepId, args }, (state, id) => {
    view.state = state;
    follow(id);
  });
  loadGoalsSoon();
}

// -- the editor: one input per argument, or the whole plan as JSON -----------------------
export function startEdit(st) {
  const args = {};
  for (const step of st.plan.steps) {
    args[step.id] = {};
    for (const [k, v] of Object.entries(step.args || {})) {
      args[step.id][k] = { string: typeof v === "string", text: typeof v === "string" ? v : json(v, 0) };
    }
  }
  view.draft = { args, json: json(readable(st.plan)), note: "", digest: st.plan_digest };
  view.editing = "args";
  view.editProblems = null;
  view.editError = "";
  view.actionError = "";
  render(true);
}

export function editor(st) {
  const tabs = el("div", { class: "tabs", role: "tablist" },
    ...[["args", "Arguments"], ["json", "Plan JSON"]].map(([mode, label]) => el("button", {
      type: "button", role: "tab", class: "tab" + (view.editing === mode ? " active" : ""),
      id: "tab-" + mode, "aria-selected": view.editing === mode ? "true" : "false",
      onclick: () => switchTab(mode, st), text: label,
    })));
  const box = el("div", { class: "editor" }, tabs);
  if (view.editing === "json") {
    box.append(el("textarea", { id: "plan-json", class: "json-editor", spellcheck: "false",
      rows: String(Math.min(28, view.draft.json.split("\n").length + 1)), value: view.draft.json,
      "aria-label": "Plan JSON", oninput: (e) => { view.draft.json = e.target.value; } }));
    box.append(el("p", { class: "muted small", text: "Edit any part of the plan: steps, tools, arguments, dependencies, outputs. It is validated before it replaces the current plan." }));
    return box;
  }
  for (const step of (view.draft.base || st.plan).steps) {
    const fields = Object.entries(view.draft.args[step.id] || {});
    const group = el("fieldset", { class: "edit-step" },
      el("legend", {}, el("span", { class: "step-id", text: step.id }), " ",
        el("span", { class: "tool", text: step.tool })));
    if (!fields.length) group.append(el("p", { class: "muted small", text: "no arguments" }));
    for (const [key, field] of fields) {
      const id = "arg-" + step.id + "-" + key;
      const long = field.text.length > 70 || field.text.includes("\n");
      const input = el(long ? "textarea" : "input", {
        id, class: "arg-input" + (field.string ? "" : " mono"), value: field.text,
        dataset: { step: step.id, arg: key }, rows: long ? "3" : null, type: long ? null : "text",
        oninput: (e) => { field.text = e.target.value; },
      });
      group.append(el("label", { class: "edit-arg", for: id },
        el("span", { class: "edit-arg-name" }, key,
          field.string ? null : el("span", { class: "muted small", text: " (JSON)" })), input));
    }
    box.append(group);
  }
  return box;
}

// The plan for the JSON editor without the step fields that are unset (null).
function readable(plan) {
  const copy = JSON.parse(JSON.stringify(plan));
  for (const step of copy.steps || []) {
    for (const key of Object.keys(step)) if (step[key] === null) delete step[key];
  }
  return copy;
}

function planFromArgs(st) {
  const plan = JSON.parse(JSON.stringify(view.draft.base || st.plan));
  for (const step of plan.steps) {
    for (const [key, field] of Object.entries(view.draft.args[step.id] || {})) {
      if (field.string) { step.args[key] = field.text; continue; }
      try { step.args[key] = JSON.parse(field.text); } catch (e) {
        throw new Error("step " + step.id + ", argument " + key + ": not valid JSON (" + e.message + ")");
      }
    }
  }
  return plan;
}

function switchTab(mode, st) {
  if (mode === view.editing) return;
  try {
    if (mode === "json") view.draft.json = json(readable(planFromArgs(st)));
    else startEditFrom(JSON.parse(view.draft.json), st);
    view.editError = "";
  } catch (e) {
    view.editError = e.message;
    view.editProblems = null;
    render(true);
    return;
  }
  view.editing = mode;
  render(true);
}

function startEditFrom(plan, st) {
  // keep the JSON editor's changes when going back to the argument inputs
  if (!plan || !Array.isArray(plan.steps)) throw new Error("the plan needs a list of steps");
  const { note, digest } = view.draft;
  startEdit({ ...st, plan });
  view.draft.note = note;
  view.draft.digest = digest;
  view.draft.base = plan;
}

async function saveEdit() {
  const st = view.state;
  let plan;
  try {
    if (view.editing === "json") plan = JSON.parse(view.draft.json);
    else plan = planFromArgs(st);
  } catch (e) {
    view.editError = e instanceof SyntaxError ? "not valid JSON: " + e.message : e.message;
    view.editProblems = null;
    render(true);
    return;
  }
  const id = view.id;
  view.busy = true;
  render(true);
  try {
    const state = await api("POST", goalPath(id, "/edit"), { plan, note: view.draft.note,
                                                            plan_digest: view.draft.digest });
    if (view.id !== id) return;
    takeNewer(state);
    view.editing = null;
    view.draft = null;
    view.editProblems = null;
    view.editError = "";
  } catch (e) {
    if (view.id !== id) return;
    view.editProblems = e.problems;
    view.editError = e.status === 422 ? e.message : e.message + (e.hint ? " (" + e.hint + ")" : "");
  } finally {
    if (view.id === id) { view.busy = false; render(true); }
  }
}
