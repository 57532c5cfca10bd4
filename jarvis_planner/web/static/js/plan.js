// The plan card: the plan drawn as a graph and its steps grouped by dependency level, both as
// the server laid them out (`view`), arguments with their ${...} references highlighted, risk,
// estimated cost; step statuses (graph and cards), outputs and errors are updated in place
// while the goal runs.
import { $, badge, el, fmtSeconds, segmentsNode } from "./dom.js";
import { applyGraphStatus, graphView } from "./graph.js";
import { valueNode } from "./result.js";
import { actions, decideStep, editor, retryFrom } from "./review.js";
import { finished, view } from "./state.js";

const SOURCE_LABEL = {
  template: "from template memory", schedule: "approved for its schedule", llm: "drafted by the LLM",
};

export function problemList(problems) {
  if (!problems || !problems.length) return null;
  return el("ul", { class: "problems" }, ...problems.map((p) => el("li", {},
    el("span", { class: "problem-code", text: p.code }),
    p.step_id ? el("span", { class: "mono", text: "step " + p.step_id }) : null,
    p.location ? el("span", { class: "mono muted", text: p.location }) : null,
    el("span", { class: "problem-msg", text: p.message }))));
}

function usd(amount) {
  if (!amount) return "$0";
  return "$" + (amount >= 0.01 ? amount.toFixed(2) : amount.toFixed(4));
}

function costLine(st) {
  const plan = st.plan;
  const llmSteps = plan.steps.filter((s) => s.tool === "llm").length;
  const u = st.usage || { total_tokens: 0, calls: 0 };
  const parts = [
    plan.steps.length + " step" + (plan.steps.length === 1 ? "" : "s"),
    llmSteps + " LLM step" + (llmSteps === 1 ? "" : "s"),
    u.total_tokens + " tokens in " + u.calls + " LLM call" + (u.calls === 1 ? "" : "s") + " so far",
  ];
  if (st.repair_rounds) parts.push(st.repair_rounds + " repair round(s)");
  parts.push(usd(u.cost_usd || 0) + " spent");
  if (st.estimate_usd !== null && st.estimate_usd !== undefined) {
    parts.push("≈ " + usd(st.estimate_usd) + " for the whole goal");
  }
  return el("div", { class: "cost" }, el("span", { class: "cost-label", text: "Estimated cost" }),
    ...parts.map((p) => el("span", { class: "cost-item", text: p })));
}

export function planCard(st) {
  const plan = st.plan;
  const waiting = st.stage === "awaiting_approval";
  const dangerous = Object.values(st.risks || {}).includes("dangerous");
  const card = el("article", { class: "card plan-card", dataset: { stage: st.stage } });
  card.append(el("header", { class: "card-head" },
    el("div", {}, el("h3", { text: waiting ? "Proposed plan" : "Plan" }),
      el("p", { class: "plan-goal", text: plan.goal })),
    el("div", { class: "card-head-right" }, badge(st.stage),
      st.source ? el("span", { class: "source muted small",
        text: SOURCE_LABEL[st.source] || "drafted by the LLM" }) : null,
      st.plan_digest ? el("span", { class: "plan-version muted small",
        title: "the version you approve: " + st.plan_digest,
        text: "version " + st.plan_digest.slice(0, 12) }) : null,
      st.worker_version ? el("span", { class: "worker-version muted small",
        title: "the worker version (deployment.build id) that ran its latest stage",
        text: "worker " + st.worker_version }) : null)));
  card.append(costLine(st));
  if (dangerous && waiting) {
    card.append(el("p", { class: "warning" }, el("strong", { text: "Dangerous step. " }),
      "This plan contains a step that runs only with your explicit approval."));
  }
  if (view.editing) {
    card.append(editor(st));
  } else {
    if (st.view.graph && st.view.graph.nodes.length) {
      card.append(el("figure", { class: "dag-graph" }, graphView(st.view.graph, showStep),
        el("figcaption", { class: "muted small", text: "Each step waits for the steps above it that point to it; colours follow the run." })));
    }
    const dag = el("div", { class: "dag" });
    st.view.levels.forEach((steps, i) => {
      dag.append(el("div", { class: "level" },
        el("div", { class: "level-label", title: "dependency level", text: String(i + 1) }),
        el("div", { class: "level-steps" }, ...steps.map(stepCard))));
    });
    card.append(dag);
    const outs = Object.entries(st.view.outputs || {});
    if (outs.length) {
      card.append(el("div", { class: "outputs" }, el("span", { class: "outputs-label", text: "Outputs" }),
        ...outs.map(([k, segs]) => el("span", { class: "output-item" },
          el("span", { class: "mono", text: k }), " ← ", segmentsNode(segs)))));
    }
  }
  if (st.view.problems && st.view.problems.length && !view.editProblems) {
    card.append(el("div", { class: "problem-box" },
      el("strong", { text: "Problems" }), problemList(st.view.problems)));
  }
  if (view.editProblems || view.editError) {
    card.append(el("div", { class: "problem-box", id: "edit-problems", role: "alert" },
      el("strong", { text: view.editProblems && view.editProblems.length
        ? "The edit was refused: " + view.editProblems.length + " problem" +
          (view.editProblems.length === 1 ? "" : "s") + "."
        : view.editError || "The edit was refused." }),
      problemList(view.editProblems),
      el("p", { class: "small", text: "Nothing changed: the goal still waits for a decision on the current plan." })));
  }
  if (view.actionError) {
    card.append(el("p", { class: "error-text", role: "alert", text: view.actionError }));
  }
  if (waiting) card.append(actions(st));
  return card;
}

// A node of the graph picked: its step's card, brought into view and highlighted a moment.
function showStep(stepId) {
  const card = document.querySelector('.plan-card .step[data-step-id="' + CSS.escape(stepId) + '"]');
  if (!card) return;
  card.scrollIntoView({ block: "nearest", behavior: "smooth" });
  card.classList.add("step-picked");
  setTimeout(() => card.classList.remove("step-picked"), 1200);
}

// The conversions the step boundary applies to an argument's reference ("number, passed as
// text"), for the argument `key` or places inside it ("variables.x").
function conversionNotes(step, key) {
  return Object.entries(step.conversions || {})
    .filter(([where]) => where === key || where.startsWith(key + ".") || where.startsWith(key + "["))
    .map(([where, note]) => (where === key ? note : where + ": " + note));
}

function stepCard(step) {
  const args = Object.entries(step.args || {});
  return el("div", { class: "step", dataset: { stepId: step.id, status: "pending" } },
    el("div", { class: "step-head" },
      el("span", { class: "status-dot", "aria-hidden": "true" }),
      el("span", { class: "step-id", text: step.id }),
      el("span", { class: "tool", text: step.tool }),
      step.risk ? el("span", { class: "risk risk-" + step.risk, text: step.risk }) : null,
      el("span", { class: "status-label", text: "" })),
    step.description ? el("div", { class: "step-desc", text: step.description }) : null,
    args.length ? el("dl", { class: "args" }, ...args.flatMap(([k, segs]) => [
      el("dt", { text: k }), el("dd", {}, segmentsNode(segs),
        ...conversionNotes(step, k).map((n) => el("span", { class: "conversion", text: " (" + n + ")" })))])) : el("p", { class: "muted small", text: "no arguments" }),
    step.deps.length ? el("div", { class: "deps" }, "after ",
      ...step.deps.map((d) => el("span", { class: "dep", text: d }))) : null,
    step.when ? el("div", { class: "deps" }, "when ", segmentsNode(step.when)) : null,
    el("div", { class: "step-run" }));
}

export function workingText(st) {
  const stepsDone = st.run ? st.run.steps.filter((x) => x.status === "succeeded").length : 0;
  const total = st.run ? st.run.steps.length : (st.plan ? st.plan.steps.length : 0);
  return {
    retrieving: "Looking for a similar plan in template memory…",
    planning: "Drafting a plan…",
    repairing: "The draft had problems; repairing it (round " + (st.repair_rounds || 1) + ")…",
    executing: "Running the plan… " + stepsDone + " of " + total + " step(s) done.",
    remembering: "All steps ran; saving the plan to template memory…",
    replanning: "A step failed; asking the planner for a replacement that keeps the finished steps…",
    compensating: "Undoing what the finished steps did, latest first…",
  }[st.stage];
}

// Step statuses, outputs and errors, updated in place (no re-render of the card).
export function applyRun() {
  const st = view.state;
  if (!st || !st.run) return;
  const status = document.querySelector(".msg-status .status-text");
  if (status && workingText(st)) status.textContent = workingText(st);
  // a step waiting at its gate shows as "waiting" (for a person), not as running
  const shown = (s) => (s.gate === "waiting" ? "waiting" : s.status);
  applyGraphStatus(st.run.steps.map((s) => ({ id: s.id, status: shown(s) })));
  for (const s of st.run.steps) {
    const node = document.querySelector('.step[data-step-id="' + CSS.escape(s.id) + '"]');
    if (!node) continue;
    const where = (s.worker || "") + "|" + (s.waiting || "") + "|" + (s.gate || "")
      + "|" + (view.busy ? "busy" : "") + "|" + (finished(st) ? "ended" : "")
      + "|" + (st.undone || []).filter((u) => u.step === s.id).length
      + "|" + (view.retrying && view.retrying.step === s.id ? "editing:" + view.retrying.error : "");
    if (node.dataset.status === shown(s) && node.dataset.attempts === String(s.attempts)
        && node.dataset.where === where) continue;
    node.dataset.status = shown(s);
    node.dataset.attempts = String(s.attempts);
    node.dataset.where = where;
    node.querySelector(".status-label").textContent =
      (s.gate === "waiting" ? "waiting for you" : s.status)
      + (s.attempts > 1 ? " · " + s.attempts + " attempts" : "");
    const box = node.querySelector(".step-run");
    const parts = [];
    if (s.gate === "waiting") parts.push(gateBox(s));
    else if (s.gate_note) parts.push(el("div", { class: "muted small gate-note", text: "gate: " + s.gate_note }));
    if (s.started_at && s.finished_at) {
      parts.push(el("span", { class: "muted small", text: "took " + fmtSeconds(s.finished_at - s.started_at) }));
    }
    // the worker (pid@host) that ran its last attempt; why a running step has not started
    if (s.worker) parts.push(el("span", { class: "muted small step-worker", text: " on " + s.worker }));
    else if (s.inline) parts.push(el("span", { class: "muted small step-worker", text: " in the workflow" }));
    if (s.waiting) parts.push(el("div", { class: "step-waiting", text: s.waiting }));
    // what the step boundary converted when it ran: "text: ${sum.value} = 84 (number, passed as text)"
    for (const note of s.conversions || []) parts.push(el("div", { class: "conversion step-conversion", text: note }));
    if (s.error) parts.push(el("div", { class: "step-error", text: s.error.type + ": " + s.error.message }));
    const undo = (st.undone || []).find((u) => u.step === s.id);
    if (undo) parts.push(el("div", { class: undo.ok ? "step-undone" : "step-error",
      text: (undo.ok ? "undone: " : "not undone: ") + undo.message }));
    // an ended goal runs again from a step that did not finish; the finished steps are kept
    if (finished(st) && RETRYABLE.has(s.status)) parts.push(retryBox(st, s));
    if (s.status === "succeeded" && s.output !== null && s.output !== undefined) {
      parts.push(el("details", { class: "step-output" }, el("summary", { text: "output" }),
        el("div", { class: "step-output-value" }, valueNode(s.output, 1))));
    }
    box.replaceChildren(...parts);
  }
}

const RETRYABLE = new Set(["failed", "blocked", "cancelled"]);

// Run an ended goal again from this step: as it was, or with arguments edited as JSON.
function retryBox(st, s) {
  const editing = view.retrying && view.retrying.step === s.id ? view.retrying : null;
  if (!editing) {
    const step = st.plan ? st.plan.steps.find((x) => x.id === s.id) : null;
    return el("div", { class: "actions step-retry-actions" },
      el("button", { type: "button", class: "btn btn-ghost step-retry", disabled: view.busy,
        onclick: () => retryFrom(s.id), text: "Retry from here" }),
      el("button", { type: "button", class: "btn btn-ghost step-retry-edit", disabled: view.busy,
        onclick: () => {
          view.retrying = { step: s.id, text: JSON.stringify(step ? step.args : {}, null, 2), error: "" };
          applyRun();
        }, text: "Edit arguments and retry" }));
  }
  const area = el("textarea", { class: "json-editor retry-args", rows: "5", spellcheck: "false",
    "aria-label": "Arguments of step " + s.id, value: editing.text,
    oninput: (e) => { editing.text = e.target.value; } });
  const go = () => {
    let args;
    try { args = JSON.parse(editing.text); } catch (e) { args = undefined; editing.error = "not JSON: " + e.message; }
    if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args))) {
      args = undefined;
      editing.error = "the arguments are a JSON object of names to values";
    }
    if (args === undefined) { applyRun(); return; }
    view.retrying = null;
    retryFrom(s.id, args);
  };
  return el("div", { class: "retry-edit" }, area,
    editing.error ? el("div", { class: "step-error retry-args-error", text: editing.error }) : null,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "btn btn-primary retry-args-go", disabled: view.busy,
        onclick: go, text: "Retry with these arguments" }),
      el("button", { type: "button", class: "btn btn-ghost", disabled: view.busy,
        onclick: () => { view.retrying = null; applyRun(); }, text: "Cancel" })));
}

// A step waiting at its gate: the arguments it will run with, and the person's decision
// (run it; skip it and what depends on it; or stop the goal and undo what it did).
function gateBox(s) {
  const decide = (approve, abandon) => decideStep(s.id, approve, abandon);
  return el("div", { class: "gate" },
    el("div", { class: "small", text: "Waits for your decision before it starts, with:" }),
    el("div", { class: "step-output-value" }, valueNode(s.gate_args || {}, 1)),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "btn btn-primary gate-approve", disabled: view.busy,
        onclick: () => decide(true), text: "Run this step" }),
      el("button", { type: "button", class: "btn btn-danger-ghost gate-reject", disabled: view.busy,
        onclick: () => decide(false), text: "Skip it" }),
      el("button", { type: "button", class: "btn btn-danger-ghost gate-abandon", disabled: view.busy,
        title: "No other step starts; files the finished steps wrote are put back",
        onclick: () => decide(false, true), text: "Stop the goal and undo" })));
}

export function focusRejectReason() {
  const focus = view.rejecting ? $("reject-reason") : null;
  if (focus && document.activeElement !== focus) focus.focus();
}
