// The open goal's conversation: opening a goal, following its events, rendering the thread
// (with how long the current stage has been going on, and Retry for a goal that failed).
import { api, goalPath, openEvents } from "./api.js";
import { $, STAGE_LABEL, el, fmtTime, json } from "./dom.js";
import { loadGoals, loadGoalsSoon, renderGoals, syncListItem } from "./goals.js";
import { applyRun, focusRejectReason, planCard, problemList, workingText } from "./plan.js";
import { resultView } from "./result.js";
import { finished, view } from "./state.js";

// Planning stages: after this long, the page says the planner is still trying (it retries a
// failed LLM call; the goal state does not count the attempts of planning).
const STILL_TRYING_S = 5;
const PLANNING = new Set(["planning", "repairing"]);

export function closeStream() {
  if (view.source) { view.source.close(); view.source = null; }
  if (view.reconnectTimer) { clearTimeout(view.reconnectTimer); view.reconnectTimer = null; }
}

export function resetView(id, goalText) {
  closeStream();
  Object.assign(view, {
    id, state: null, goalText: goalText || "", editing: null, draft: null,
    editProblems: null, editError: "", rejecting: false, rejectReason: "", actionError: "",
    busy: false, gone: "", lastKey: "", stageSeen: "", stageSince: 0,
  });
}

export async function openGoal(id, goalText) {
  resetView(id, goalText);
  if (location.hash !== "#goal=" + encodeURIComponent(id)) {
    history.replaceState(null, "", "#goal=" + encodeURIComponent(id));
  }
  renderGoals();
  render(true);
  try {
    view.state = await api("GET", goalPath(id));
  } catch (e) {
    if (view.id !== id) return;
    view.gone = e.status === 404 ? "There is no goal with this id."
      : e.status === 410 ? "This goal was cancelled or terminated; it has no state to show."
        : e.message;
    render(true);
    return;
  }
  if (view.id !== id) return;
  render(true);
  if (!finished(view.state)) follow(id);
}

export function follow(id) {
  closeStream();
  view.source = openEvents(id, {
    onEvent(kind, data) {
      if (view.id !== id) return;
      view.state = data.state;
      if (kind === "done") {
        closeStream();
        loadGoals();
      }
      if (kind === "stage" || kind === "done") loadGoalsSoon();
      render(false);
    },
    onError(data) {
      if (view.id !== id) return;
      closeStream();
      view.actionError = data.error + (data.hint ? " (" + data.hint + ")" : "");
      render(true);
    },
    onClosed() {  // refused: try again in a moment
      if (view.id !== id) return;
      closeStream();
      view.reconnectTimer = setTimeout(() => {
        if (view.id === id && view.state && !finished(view.state)) follow(id);
      }, 2000);
    },
  });
}

export function render(force) {
  const st = view.state;
  $("welcome").hidden = view.id !== null;
  $("thread-title").textContent = view.id ? (st ? st.goal : view.goalText || "Goal") : "New goal";
  $("thread-id").textContent = view.id || "";
  const link = $("temporal-link");
  link.hidden = !view.id || !view.info;
  if (view.id && view.info) {
    link.href = view.info.temporal_ui + "/namespaces/" + encodeURIComponent(view.info.namespace) +
      "/workflows/" + encodeURIComponent(view.id);
  }
  $("cancel-goal").hidden = !st || finished(st);
  if (view.id && st) syncListItem(st);
  const stageChanged = Boolean(st && st.stage !== view.stageSeen);
  if (stageChanged) {
    view.stageSeen = st.stage;
    view.stageSince = Date.now();
  }

  const key = json([view.id, st && st.stage, st && st.plan, st && st.risks, st && st.problems,
    st && st.decisions.length, st && st.message, st && st.run && st.run.status, view.editing,
    view.editProblems, view.editError, view.rejecting, view.actionError, view.busy, view.gone], 0);
  if (!force && key === view.lastKey) {
    applyRun();
    tick();
    return;
  }
  view.lastKey = key;
  const thread = $("thread");
  const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
  $("messages").replaceChildren(...(view.id ? threadNodes() : []));
  applyRun();
  tick();
  if (atBottom || force || stageChanged) thread.scrollTop = thread.scrollHeight;  // news in view
  focusRejectReason();
}

// Once a second: how long the current stage has been going on; in planning, after a few
// seconds, that the planner is still trying.
export function tick() {
  const elapsed = document.querySelector(".msg-status .status-elapsed");
  if (!elapsed || !view.stageSince) return;
  const seconds = Math.max(0, Math.floor((Date.now() - view.stageSince) / 1000));
  elapsed.textContent = seconds + " s";
  const still = document.querySelector(".msg-status .still-trying");
  if (still) still.hidden = !(seconds >= STILL_TRYING_S && view.state && PLANNING.has(view.state.stage));
}

// Retry: the same goal text submitted again, as a new goal, opened.
async function retryGoal(goal) {
  const id = view.id;
  view.busy = true;
  view.actionError = "";
  render(true);
  try {
    const created = await api("POST", "/api/goals", { goal });
    await openGoal(created.id, goal);
    loadGoalsSoon();
  } catch (e) {
    if (view.id !== id) return;
    view.busy = false;
    view.actionError = "Retry failed: " + e.message + (e.hint ? " (" + e.hint + ")" : "");
    render(true);
  }
}

function userBubble(text) {
  return el("div", { class: "msg msg-user" }, el("div", { class: "bubble", text }));
}

function botBubble(cls, ...children) {
  return el("div", { class: "msg msg-bot " + (cls || "") },
    el("span", { class: "avatar", "aria-hidden": "true", text: "J" }),
    el("div", { class: "bubble" }, ...children));
}

function threadNodes() {
  const st = view.state;
  const nodes = [userBubble(st ? st.goal : view.goalText || view.id)];
  if (view.gone) {
    nodes.push(botBubble("msg-error", view.gone));
    return nodes;
  }
  if (!st) {
    nodes.push(botBubble("msg-status", typing(), "Loading…"));
    return nodes;
  }
  if (!st.plan) {
    nodes.push(statusBubble(st));
  } else {
    nodes.push(botBubble("msg-plain", planIntro(st)));
    nodes.push(planCard(st));
    for (const d of st.decisions) nodes.push(decisionBubble(d));
    if (st.stage !== "awaiting_approval") nodes.push(statusBubble(st));
  }
  if (st.run && st.run.status !== "running" && finished(st)) nodes.push(timelineCard(st));
  if (view.actionError && !st.plan) nodes.push(botBubble("msg-error", view.actionError));
  return nodes;
}

function typing() {
  return el("span", { class: "typing", "aria-hidden": "true" }, el("i"), el("i"), el("i"));
}

function planIntro(st) {
  if (st.stage === "awaiting_approval") {
    return "Here is the plan. It needs your review: approve it, edit it, or reject it.";
  }
  if (st.stage === "planned") return "Here is the plan (planned only: nothing is executed).";
  return st.source === "template" ? "Here is the plan (reused from template memory)."
    : "Here is the plan.";
}

function statusBubble(st) {
  const s = st.stage;
  const working = workingText(st);
  if (working) {
    const attempts = (view.info && view.info.planner_attempts) || 5;
    return botBubble("msg-status", typing(),
      el("div", { class: "status-lines" },
        el("span", {}, el("span", { class: "status-text", text: working }), " ",
          el("span", { class: "status-elapsed muted small", title: "how long this stage has been going on", text: "" })),
        PLANNING.has(s) ? el("span", { class: "still-trying small", hidden: true,
          text: "still trying (the planner retries up to " + attempts + " times)" }) : null));
  }
  if (s === "succeeded") {
    const outputs = st.run ? st.run.outputs : {};
    return botBubble("msg-result",
      el("div", { class: "result-head" }, el("strong", { text: "Done." }),
        " The goal succeeded. Result:"),
      resultView(outputs),
      st.message ? el("p", { class: "muted small", text: st.message }) : null);
  }
  if (s === "rejected") {
    const last = st.decisions.filter((d) => d.action === "reject").pop();
    return botBubble("msg-rejected",
      el("strong", { text: "Rejected." }), " Nothing was run.",
      last && last.reason ? el("p", { class: "quote", text: last.reason }) : null);
  }
  if (s === "planned") return botBubble("msg-plain", "Planned only (dry run); nothing was executed.");
  const failure = st.view && st.view.failure;
  if (failure) return failureBubble(st, failure);
  return botBubble("msg-status", el("span", { text: STAGE_LABEL[s] || s }));
}

function failureBubble(st, failure) {
  return botBubble("msg-error",
    el("strong", { class: "failure-title", text: failure.title }),
    failure.detail ? el("p", { class: "failure-detail", text: failure.detail }) : null,
    st.plan ? null : problemList(st.view.problems),
    failure.hint ? el("p", { class: "failure-hint muted small", text: failure.hint }) : null,
    st.view.retry ? el("div", { class: "failure-actions" },
      el("button", { type: "button", class: "btn btn-primary btn-small", id: "retry", disabled: view.busy,
        title: "Submit the same goal again, as a new goal", onclick: () => retryGoal(st.goal), text: "Retry" })) : null);
}

function decisionBubble(d) {
  const verb = { approve: "Approved", reject: "Rejected", edit: "Plan edited" }[d.action] || d.action;
  const icon = { approve: "✓", reject: "✕", edit: "✎" }[d.action] || "•";
  return el("div", { class: "decision decision-" + d.action },
    el("span", { class: "decision-icon", "aria-hidden": "true", text: icon }),
    el("span", { class: "decision-text" }, el("strong", { text: verb }), " by ", el("span", { class: "mono", text: d.by }),
      d.reason ? el("span", { class: "muted", text: " — " + d.reason }) : null),
    el("span", { class: "muted small", text: fmtTime(d.at) }));
}

function timelineCard(st) {
  const src = goalPath(view.id, "/timeline.svg") + "?v=" + encodeURIComponent(st.stage);
  return el("details", { class: "card timeline-card" },
    el("summary", { text: "Timeline of the run" }),
    el("img", { src, alt: "Timeline (Gantt chart) of the run's steps", class: "timeline" }));
}
