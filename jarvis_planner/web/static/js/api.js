// The JSON API and the goal's event stream (server-sent events).

export const KINDS = ["stage", "plan", "step", "decision", "done"];

// Called when the API answers 401 (not logged in, or the session ended): the login form.
let unauthorized = () => {};
export function whenUnauthorized(handler) { unauthorized = handler; }

export async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body || {});
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    const err = new Error("the server is unreachable");
    err.status = 0;
    throw err;
  }
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (response.status === 401 && path !== "/api/login") unauthorized();
  if (!response.ok) {
    const err = new Error((data && data.error) || ("HTTP " + response.status));
    err.status = response.status;
    err.hint = (data && data.hint) || "";
    err.problems = (data && data.problems) || null;
    throw err;
  }
  return data;
}

export const goalPath = (id, tail) => "/api/goals/" + encodeURIComponent(id) + (tail || "");

// Opens the goal's event stream: onEvent(kind, data) for each event, onError(data) for an
// `error` event sent by the server, onClosed() when the browser gave up the connection.
export function openEvents(id, { onEvent, onAttempt, onError, onClosed }) {
  const source = new EventSource(goalPath(id, "/events"));
  for (const kind of KINDS) {
    source.addEventListener(kind, (event) => onEvent(kind, JSON.parse(event.data)));
  }
  // a retry of the planner's LLM call: attempt, limit, why the last one failed
  source.addEventListener("attempt", (event) => onAttempt(JSON.parse(event.data)));
  source.addEventListener("error", (event) => {
    if (event.data) onError(JSON.parse(event.data));
    else if (source.readyState === EventSource.CLOSED) onClosed();
  });
  return source;
}
