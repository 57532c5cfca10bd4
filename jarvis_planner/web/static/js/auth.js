// Logging in and out: the login form when the API answers 401, who is logged in, Log out.
// The session is an HttpOnly cookie: this page never sees it, nor keeps the token.
import { api, whenUnauthorized } from "./api.js";
import { $ } from "./dom.js";

let loggedIn = async () => {};

export function isLoggedOut() { return !$("login").hidden; }

export function showLogin(message) {
  const first = !isLoggedOut();
  $("app").hidden = true;
  $("login").hidden = false;
  if (message !== undefined || first) {
    $("login-error").textContent = message || "";
    $("login-error").hidden = !message;
  }
  if (first) $("login-token").focus();
}

// The app for `info` (GET /api/info, or null when the server did not answer).
export function showApp(info) {
  $("login").hidden = true;
  $("app").hidden = false;
  $("who").hidden = !info;
  $("logout").hidden = !info;
  $("who").textContent = !info ? "" : info.user + (info.admin && info.user !== "admin" ? " (admin)" : "");
}

async function logIn(token) {
  try {
    await api("POST", "/api/login", { token });
  } catch (e) {
    showLogin(e.message + (e.status === 429 && e.hint ? " (" + e.hint + ")" : ""));
    return false;
  }
  return true;
}

async function submitLogin(event) {
  event.preventDefault();
  const input = $("login-token");
  const token = input.value.trim();
  if (!token) return;
  $("login-button").disabled = true;
  try {
    if (await logIn(token)) {
      input.value = "";
      await loggedIn();
    }
  } finally {
    $("login-button").disabled = false;
  }
}

async function logOut() {
  try { await api("POST", "/api/logout", {}); } catch (e) { /* the server clears it or is gone */ }
  location.replace(location.pathname);  // a fresh page keeps nothing of the session
}

// A login link printed by `jarvis serve` (`/#token=...`): the token leaves the address bar
// and the history first (fragments are never sent to a server), then logs in.
export async function loginFromFragment() {
  const m = /^#token=([^&]+)$/.exec(location.hash);
  if (!m) return false;
  history.replaceState(null, "", location.pathname + location.search);
  return logIn(decodeURIComponent(m[1]));
}

export function initAuth(onLoggedIn) {
  loggedIn = onLoggedIn;
  whenUnauthorized(() => showLogin());
  $("login-form").addEventListener("submit", submitLogin);
  $("logout").addEventListener("click", logOut);
}
