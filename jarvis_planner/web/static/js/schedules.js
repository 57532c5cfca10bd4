// The schedules of recurring goals: a read-only list (when, next run, the outcome of the last
// run) with pause / resume and "Run now". Schedules are created where their plan is reviewed
// (`jarvis schedule create`); the panel takes the place of the conversation while it is open.
import { api } from "./api.js";
import { $, badge, el, fmtTime } from "./dom.js";

const path = (id, tail) => "/api/schedules/" + encodeURIComponent(id) + tail;

function showError(message) {
  const box = $("schedules-error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function act(schedule, tail, button) {
  button.disabled = true;
  showError("");
  try {
    await api("POST", path(schedule.id, tail), {});
  } catch (e) {
    showError(e.message + (e.hint ? " — " + e.hint : ""));
  }
  await loadSchedules();
}

function lastRun(s) {
  if (!s.last_goal_id) return el("span", { class: "muted small", text: "no run yet" });
  return el("a", {
    class: "schedule-last", href: "#goal=" + encodeURIComponent(s.last_goal_id),
    title: s.last_goal_id,
  }, badge(s.last_outcome || "unknown"));
}

function row(s) {
  const toggle = el("button", {
    type: "button", class: "btn btn-small schedule-toggle",
    text: s.paused ? "Resume" : "Pause",
    onclick: (e) => act(s, s.paused ? "/resume" : "/pause", e.currentTarget),
  });
  const runNow = el("button", {
    type: "button", class: "btn btn-small btn-ghost schedule-trigger", text: "Run now",
    onclick: (e) => act(s, "/trigger", e.currentTarget),
  });
  return el("tr", { class: "schedule-row", dataset: { scheduleId: s.id } },
    el("td", {},
      el("div", { class: "schedule-goal", text: s.goal || s.id }),
      el("div", { class: "muted small mono schedule-id", text: s.id })),
    el("td", {}, el("div", { text: s.when }),
      el("div", { class: "small schedule-state " + (s.paused ? "paused" : "active"),
        text: s.paused ? "paused" + (s.note ? ": " + s.note : "") : "active" })),
    el("td", { class: "schedule-next" },
      s.next_run ? el("time", { datetime: s.next_run, text: fmtTime(s.next_run) })
        : el("span", { class: "muted small", text: "none" })),
    el("td", {}, lastRun(s),
      el("div", { class: "muted small", text: s.actions + (s.actions === 1 ? " run" : " runs") })),
    el("td", { class: "schedule-actions" }, toggle, runNow));
}

export async function loadSchedules() {
  let found;
  try {
    found = await api("GET", "/api/schedules");
  } catch (e) {
    showError(e.message);
    return;
  }
  $("schedules-body").replaceChildren(...found.map(row));
  $("schedules-table").hidden = found.length === 0;
  $("schedules-empty").hidden = found.length > 0;
}

// While the panel is open the list refreshes itself: a run started by "Run now" (or by the
// schedule) shows its outcome without a click.
const REFRESH_MS = 2000;
let refresher = null;
let title = "";

export function openSchedules() {
  if ($("schedules-panel").hidden) title = $("thread-title").textContent;
  $("schedules-panel").hidden = false;
  $("thread-title").textContent = "Schedules";
  if (!refresher) refresher = setInterval(() => { if (!document.hidden) loadSchedules(); }, REFRESH_MS);
  $("thread").hidden = true;
  $("composer").hidden = true;
  showError("");
  loadSchedules();
}

export function closeSchedules() {
  if ($("schedules-panel").hidden) return;
  $("schedules-panel").hidden = true;
  clearInterval(refresher);
  refresher = null;
  if ($("thread-title").textContent === "Schedules") $("thread-title").textContent = title;
  $("thread").hidden = false;
  $("composer").hidden = false;
}

export function initSchedules() {
  $("open-schedules").addEventListener("click", openSchedules);
  $("close-schedules").addEventListener("click", closeSchedules);
  $("schedules-refresh").addEventListener("click", loadSchedules);
  // opening a goal (the list, a new goal, a link to a run) brings the conversation back
  $("goal-list").addEventListener("click", closeSchedules);
  $("new-goal").addEventListener("click", closeSchedules);
  window.addEventListener("hashchange", closeSchedules);
}
