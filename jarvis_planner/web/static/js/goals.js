// The sidebar: past goals, newest first, filtered by a search box (goal text or id) and a
// stage filter (the `group` the server gives each goal); each item shows its stage, when it
// started and its id's tail, so goals of the same text are told apart. The open goal's entry
// follows its live stage. On a phone the sidebar is a drawer (main.js opens and closes it).
import { api } from "./api.js";
import { $, badge, el, fmtTime } from "./dom.js";
import { view } from "./state.js";
import { openGoal } from "./thread.js";

let goals = [];
let listTimer = null;

export async function loadGoals() {
  try {
    goals = await api("GET", "/api/goals?limit=100");
  } catch (e) {
    return;
  }
  renderGoals();
}

export function loadGoalsSoon() {
  if (listTimer) return;
  listTimer = setTimeout(() => { listTimer = null; loadGoals(); }, 300);
}

/** The goals the search box and the stage filter let through. */
function shown() {
  const words = $("goal-search").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const group = $("goal-filter").value;
  return goals.filter((g) => (group === "all" || g.group === group) &&
    words.every((w) => (g.goal + " " + g.id).toLowerCase().includes(w)));
}

export function renderGoals() {
  const list = $("goal-list");
  const items = shown();
  list.replaceChildren(...items.map((g) => el("li", {},
    el("button", {
      type: "button", class: "goal-item" + (g.id === view.id ? " active" : ""),
      dataset: { goalId: g.id, group: g.group }, title: (g.goal || g.id) + "\n" + g.id,
      onclick: () => { closeDrawer(); openGoal(g.id, g.goal); },
    },
    el("span", { class: "goal-item-text", text: g.goal || g.id }),
    el("span", { class: "goal-item-meta" }, badge(g.stage),
      el("time", { class: "goal-item-time muted small", datetime: g.started, text: fmtTime(g.started) }),
      el("span", { class: "goal-item-id muted small mono", title: g.id, text: "#" + (g.short_id || g.id.slice(-8)) }))))));
  $("goal-list-empty").hidden = goals.length > 0;
  $("goal-list-none").hidden = !goals.length || items.length > 0;
  $("goal-count").textContent = goals.length ? items.length + " of " + goals.length : "";
}

export function syncListItem(st) {
  let item = goals.find((g) => g.id === view.id);
  if (!item) {
    item = { id: view.id, goal: st.goal, stage: st.stage, started: new Date().toISOString(),
      group: "running", short_id: view.id.split("-").pop().slice(0, 8) };
    goals.unshift(item);
  } else if (item.stage === st.stage) {
    return;
  }
  item.stage = st.stage;
  item.group = st.view.group;
  renderGoals();
}

// -- the drawer (narrow screens) -----------------------------------------------------------
export function openDrawer() {
  $("app").classList.add("drawer-open");
  $("goals-toggle").setAttribute("aria-expanded", "true");
  $("goal-search").focus({ preventScroll: true });
}

export function closeDrawer() {
  if (!$("app").classList.contains("drawer-open")) return;
  $("app").classList.remove("drawer-open");
  $("goals-toggle").setAttribute("aria-expanded", "false");
}

export function initGoals() {
  $("goal-search").addEventListener("input", renderGoals);
  $("goal-filter").addEventListener("change", renderGoals);
  $("goals-toggle").addEventListener("click", () => {
    if ($("app").classList.contains("drawer-open")) closeDrawer(); else openDrawer();
  });
  $("drawer-backdrop").addEventListener("click", closeDrawer);
  $("close-drawer").addEventListener("click", closeDrawer);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeDrawer(); });
}
