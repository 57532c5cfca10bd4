// The page's entry point (a native ES module, no build step): the composer, the sidebar and
// the open goal, wired together.
import { api, goalPath } from "./api.js";
import { initAuth, isLoggedOut, loginFromFragment, showApp } from "./auth.js";
import { $ } from "./dom.js";
import { closeDrawer, initGoals, loadGoals, loadGoalsSoon, renderGoals } from "./goals.js";
import { initSchedules } from "./schedules.js";
import { view } from "./state.js";
import { openGoal, render, resetView, tick } from "./thread.js";

// -- composer and wiring -------------------------------------------------------------------
async function submitGoal(event) {
  event.preventDefault();
  const input = $("goal-input");
  const goal = input.value.trim();
  const errorBox = $("composer-error");
  errorBox.hidden = true;
  if (!goal) return;
  $("send").disabled = true;
  try {
    const created = await api("POST", "/api/goals", { goal, yes: $("pre-approve").checked });
    input.value = "";
    await openGoal(created.id, goal);
    loadGoalsSoon();
  } catch (e) {
    errorBox.textContent = e.message + (e.hint ? " — " + e.hint : "");
    errorBox.hidden = false;
  } finally {
    $("send").disabled = false;
    input.focus();
  }
}

function newGoal() {
  closeDrawer();
  resetView(null, "");
  history.replaceState(null, "", location.pathname);
  renderGoals();
  render(true);
  $("goal-input").focus();
}

async function cancelGoal() {
  if (!view.id || !window.confirm("Cancel this goal? Running steps are cancelled.")) return;
  try {
    await api("POST", goalPath(view.id, "/cancel"), {});
  } catch (e) {
    view.actionError = e.message;
    render(true);
    return;
  }
  const id = view.id;
  setTimeout(() => { if (view.id === id) openGoal(id, view.goalText); loadGoals(); }, 600);
}

function openFromHash() {
  const m = /^#goal=(.+)$/.exec(location.hash);
  if (m) openGoal(decodeURIComponent(m[1]), "");
}

// After the page loads and after each login: who is logged in, the goals, the open goal.
async function start() {
  let info = null;
  try {
    info = await api("GET", "/api/info");
  } catch (e) {
    if (e.status === 401) return;  // the login form is up; it calls start() again
  }
  view.info = info;
  showApp(info);
  render(true);
  await loadGoals();
  if (view.id) openGoal(view.id, view.goalText);  // again: the session may have ended on it
  else openFromHash();
}

async function init() {
  initAuth(start);
  initGoals();
  initSchedules();
  $("composer").addEventListener("submit", submitGoal);
  $("goal-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("new-goal").addEventListener("click", newGoal);
  $("refresh").addEventListener("click", loadGoals);
  $("cancel-goal").addEventListener("click", cancelGoal);
  for (const chip of document.querySelectorAll(".examples .chip")) {
    chip.addEventListener("click", () => { $("goal-input").value = chip.textContent; $("goal-input").focus(); });
  }
  window.addEventListener("hashchange", async () => {
    if (await loginFromFragment()) { start(); return; }
    const m = /^#goal=(.+)$/.exec(location.hash);
    if (m && decodeURIComponent(m[1]) !== view.id) openFromHash();
  });
  await loginFromFragment();
  await start();
  setInterval(() => { if (!document.hidden && !isLoggedOut()) loadGoals(); }, 10000);
  setInterval(tick, 1000);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
