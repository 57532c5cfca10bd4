// The open goal's conversation: opening a goal, following its events, rendering the thread
// (with how long the current stage has been going on, and Retry for a goal that failed).
import { api, goalPath, openEvents } from "./api.js";
import { PLANNING, threadNodes } from "./bubbles.js";
import { $, json } from "./dom.js";
import { loadGoals, loadGoalsSoon, renderGoals, syncListItem } from "./goals.js";
import { applyRun, focusRejectReason } from "./plan.js";
import { finished, view } from "./state.js";

const STILL_TRYING_S = 5;  // then a planning stage says the planner is still trying

export function closeStream() {
  if (view.source) { view.source.close(); view.source = null; }
  if (view.reconnectTimer) { clearTimeout(view.reconnectTimer); view.reconnectTimer = null; }
}

export function resetView(id, goalText) {
  closeStream();
  Object.assign(view, {
    id, state: null, goalText: goalText || "", editing: null, draft: null,
    editProblems: null, editError: "", rejecting: false, rejectReason: "", until: "", retrying: null, actionError: "",
    busy: false, gone: "", lastKey: "", stageSeen: "", stageSince: 0, attempt: null,
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
    onAttempt(data) {
      if (view.id !== id) return;
      view.attempt = data;
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
    // when the stage began, from the goal (a reload keeps counting); else from now
    const since = st.stage_since ? Date.parse(st.stage_since) : NaN;
    view.stageSince = Number.isNaN(since) ? Date.now() : Math.min(since, Date.now());
    view.attempt = null;  // attempts are those of the current stage's call
  }

  const key = json([view.id, st && st.stage, st && st.plan, st && st.risks, st && st.problems,
    st && st.decisions.length, st && st.message, st && st.run && st.run.status, view.editing,
    view.editProblems, view.editError, view.rejecting, view.actionError, view.busy, view.gone,
    view.attempt], 0);
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
export async function retryGoal(goal) {
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
