// The sidebar: past goals, newest first; the open goal's entry follows its live stage.
import { api } from "./api.js";
import { $, badge, el, fmtTime } from "./dom.js";
import { view } from "./state.js";
import { openGoal } from "./thread.js";

let goals = [];
let listTimer = null;

export async function loadGoals() {
  try {
    goals = await api("GET", "/api/goals?limit=50");
  } catch (e) {
    return;
  }
  renderGoals();
}

export function loadGoalsSoon() {
  if (listTimer) return;
  listTimer = setTimeout(() => { listTimer = null; loadGoals(); }, 300);
}

export function renderGoals() {
  const list = $("goal-list");
  list.replaceChildren(...goals.map((g) => el("li", {},
    el("button", {
      type: "button", class: "goal-item" + (g.id === view.id ? " active" : ""),
      dataset: { goalId: g.id }, title: g.goal || g.id,
      onclick: () => openGoal(g.id, g.goal),
    },
    el("span", { class: "goal-item-text", text: g.goal || g.id }),
    el("span", { class: "goal-item-meta" }, badge(g.stage),
      el("span", { class: "muted small", text: fmtTime(g.started) }))))));
  $("goal-list-empty").hidden = goals.length > 0;
}

export function syncListItem(st) {
  let item = goals.find((g) => g.id === view.id);
  if (!item) {
    item = { id: view.id, goal: st.goal, stage: st.stage, started: new Date().toISOString() };
    goals.unshift(item);
  } else if (item.stage === st.stage) {
    return;
  }
  item.stage = st.stage;
  renderGoals();
}
