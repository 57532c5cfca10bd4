// JARVIS chat page: plain JS, no build step. Every piece of data (goals, plans, tool output,
// errors) is inserted with textContent / text nodes, never as HTML, so nothing a goal, a plan
// or a tool returns can run script in this page.
"use strict";

(function () {
  const KINDS = ["stage", "plan", "step", "decision", "done"];
  const FINISHED = new Set(["succeeded", "failed", "rejected", "invalid", "planned",
    "cancelled", "expired"]);
  const STAGE_LABEL = {
    retrieving: "retrieving", planning: "planning", repairing: "repairing",
    awaiting_approval: "awaiting approval", executing: "executing", remembering: "remembering",
    succeeded: "succeeded", failed: "failed", rejected: "rejected", invalid: "invalid",
    planned: "planned", cancelled: "cancelled", expired: "expired", closed: "closed",
    completed: "completed", terminated: "terminated", timed_out: "timed out", canceled: "cancelled",
    starting: "starting",
  };

  const view = {
    id: null, state: null, goalText: "", source: null, info: null,
    editing: null, draft: null, editProblems: null, editError: "",
    rejecting: false, rejectReason: "", actionError: "", busy: false, gone: "",
    lastKey: "", reconnectTimer: null,
  };

  // -- DOM helpers -------------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }

  // el("div", {class: "x", dataset: {a: "b"}, text: "..."}, child, "text", ...)
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "value") node.value = value;
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function json(value, indent) {
    try { return JSON.stringify(value, null, indent === undefined ? 2 : indent); }
    catch (e) { return String(value); }
  }

  // A value with its ${...} references highlighted ("$${" is a literal "${").
  function valueNode(value, cls) {
    const text = typeof value === "string" ? value : json(value, 0);
    const node = el("code", { class: cls || "val" });
    const re = /\$\$\{|\$\{[^}]*\}/g;
    let last = 0;
    let match;
    while ((match = re.exec(text)) !== null) {
      if (match[0] === "$${") continue;
      if (match.index > last) node.append(document.createTextNode(text.slice(last, match.index)));
      node.append(el("span", { class: "ref", text: match[0], title: "reference to another step's output" }));
      last = match.index + match[0].length;
    }
    if (last < text.length) node.append(document.createTextNode(text.slice(last)));
    if (typeof value === "string" && text === "") node.append(el("span", { class: "muted", text: "(empty)" }));
    return node;
  }

  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    const today = new Date();
    const sameDay = d.toDateString() === today.toDateString();
    return sameDay ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
      : d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  function badge(stage) {
    return el("span", { class: "badge stage-" + stage, text: STAGE_LABEL[stage] || stage });
  }

  // -- API ---------------------------------------------------------------------------------
  async function api(method, path, body) {
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
    if (!response.ok) {
      const err = new Error((data && data.error) || ("HTTP " + response.status));
      err.status = response.status;
      err.hint = (data && data.hint) || "";
      err.problems = (data && data.problems) || null;
      throw err;
    }
    return data;
  }

  const goalPath = (id, tail) => "/api/goals/" + encodeURIComponent(id) + (tail || "");

  // -- sidebar -----------------------------------------------------------------------------
  let goals = [];

  async function loadGoals() {
    try {
      goals = await api("GET", "/api/goals?limit=50");
    } catch (e) {
      return;
    }
    renderGoals();
  }

  function renderGoals() {
    const list = $("goal-list");
    list.replaceChildren(...goals.map((g) => {
      const item = el("li", {},
        el("button", {
          type: "button", class: "goal-item" + (g.id === view.id ? " active" : ""),
          dataset: { goalId: g.id }, title: g.goal || g.id,
          onclick: () => openGoal(g.id, g.goal),
        },
        el("span", { class: "goal-item-text", text: g.goal || g.id }),
        el("span", { class: "goal-item-meta" }, badge(g.stage),
          el("span", { class: "muted small", text: fmtTime(g.started) }))));
      return item;
    }));
    $("goal-list-empty").hidden = goals.length > 0;
  }

  // The open goal's entry follows its live stage (the list itself refreshes less often).
  function syncListItem(st) {
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

  // -- opening a goal and following it -----------------------------------------------------
  function closeStream() {
    if (view.source) { view.source.close(); view.source = null; }
    if (view.reconnectTimer) { clearTimeout(view.reconnectTimer); view.reconnectTimer = null; }
  }

  function resetView(id, goalText) {
    closeStream();
    Object.assign(view, {
      id, state: null, goalText: goalText || "", editing: null, draft: null,
      editProblems: null, editError: "", rejecting: false, rejectReason: "", actionError: "",
      busy: false, gone: "", lastKey: "",
    });
  }

  async function openGoal(id, goalText) {
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
    if (!FINISHED.has(view.state.stage)) follow(id);
  }

  function follow(id) {
    closeStream();
    const source = new EventSource(goalPath(id, "/events"));
    view.source = source;
    for (const kind of KINDS) {
      source.addEventListener(kind, (event) => {
        if (view.id !== id) return;
        const data = JSON.parse(event.data);
        view.state = data.state;
        if (kind === "done") {
          closeStream();
          loadGoals();
        }
        if (kind === "stage" || kind === "done") loadGoalsSoon();
        render(false);
      });
    }
    source.addEventListener("error", (event) => {
      if (view.id !== id) return;
      if (event.data) {  // an `error` event sent by the server
        const data = JSON.parse(event.data);
        closeStream();
        view.actionError = data.error + (data.hint ? " (" + data.hint + ")" : "");
        render(true);
        return;
      }
      if (source.readyState === EventSource.CLOSED) {  // refused: try again in a moment
        closeStream();
        view.reconnectTimer = setTimeout(() => {
          if (view.id === id && view.state && !FINISHED.has(view.state.stage)) follow(id);
        }, 2000);
      }
    });
  }

  let listTimer = null;
  function loadGoalsSoon() {
    if (listTimer) return;
    listTimer = setTimeout(() => { listTimer = null; loadGoals(); }, 300);
  }

  // -- rendering ---------------------------------------------------------------------------
  function render(force) {
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
    $("cancel-goal").hidden = !st || FINISHED.has(st.stage);
    if (view.id && st) syncListItem(st);

    const key = json([view.id, st && st.stage, st && st.plan, st && st.risks, st && st.problems,
      st && st.decisions.length, st && st.message, st && st.run && st.run.status, view.editing,
      view.editProblems, view.editError, view.rejecting, view.actionError, view.busy, view.gone], 0);
    if (!force && key === view.lastKey) {
      applyRun();
      return;
    }
    view.lastKey = key;
    const thread = $("thread");
    const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
    const messages = $("messages");
    messages.replaceChildren(...(view.id ? threadNodes() : []));
    applyRun();
    if (atBottom || force) thread.scrollTop = thread.scrollHeight;
    const focus = view.rejecting ? $("reject-reason") : null;
    if (focus && document.activeElement !== focus) focus.focus();
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
    if (st.run && st.run.status !== "running" && FINISHED.has(st.stage)) nodes.push(timelineCard(st));
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

  function workingText(st) {
    const stepsDone = st.run ? st.run.steps.filter((x) => x.status === "succeeded").length : 0;
    const total = st.run ? st.run.steps.length : (st.plan ? st.plan.steps.length : 0);
    return {
      retrieving: "Looking for a similar plan in template memory…",
      planning: "Drafting a plan…",
      repairing: "The draft had problems; repairing it (round " + (st.repair_rounds || 1) + ")…",
      executing: "Running the plan… " + stepsDone + " of " + total + " step(s) done.",
      remembering: "All steps ran; saving the plan to template memory…",
    }[st.stage];
  }

  function statusBubble(st) {
    const s = st.stage;
    const working = workingText(st);
    if (working) {
      return botBubble("msg-status", typing(), el("span", { class: "status-text", text: working }));
    }
    if (s === "succeeded") {
      const outputs = st.run ? st.run.outputs : {};
      return botBubble("msg-result",
        el("div", { class: "result-head" }, el("strong", { text: "Done." }),
          " The goal succeeded. Result:"),
        el("pre", { class: "result-json", text: json(outputs) }),
        st.message ? el("p", { class: "muted small", text: st.message }) : null);
    }
    if (s === "rejected") {
      const last = st.decisions.filter((d) => d.action === "reject").pop();
      return botBubble("msg-rejected",
        el("strong", { text: "Rejected." }), " Nothing was run.",
        last && last.reason ? el("p", { class: "quote", text: last.reason }) : null);
    }
    if (s === "failed") {
      return botBubble("msg-error", el("strong", { text: "The goal failed. " }),
        el("span", { text: st.message || "see the steps above" }));
    }
    if (s === "invalid") {
      return botBubble("msg-error",
        el("strong", { text: "I could not make a valid plan. " }),
        el("span", { text: st.message || "" }),
        st.plan ? null : problemList(st.problems));
    }
    if (s === "planned") return botBubble("msg-plain", "Planned only (dry run); nothing was executed.");
    if (s === "expired") return botBubble("msg-error", el("strong", { text: "Expired. " }), st.message);
    if (s === "cancelled") return botBubble("msg-error", el("strong", { text: "Cancelled. " }), st.message);
    return botBubble("msg-status", el("span", { text: STAGE_LABEL[s] || s }));
  }

  function decisionBubble(d) {
    const verb = { approve: "Approved", reject: "Rejected", edit: "Plan edited" }[d.action] || d.action;
    const icon = { approve: "✓", reject: "✕", edit: "✎" }[d.action] || "•";
    return el("div", { class: "decision decision-" + d.action },
      el("span", { class: "decision-icon", "aria-hidden": "true", text: icon }),
      el("span", {}, el("strong", { text: verb }), " by ", el("span", { class: "mono", text: d.by }),
        d.reason ? el("span", { class: "muted", text: " — " + d.reason }) : null),
      el("span", { class: "muted small", text: fmtTime(d.at) }));
  }

  function timelineCard(st) {
    const src = goalPath(view.id, "/timeline.svg") + "?v=" + encodeURIComponent(st.stage);
    return el("details", { class: "card timeline-card" },
      el("summary", { text: "Timeline of the run" }),
      el("img", { src, alt: "Timeline (Gantt chart) of the run's steps", class: "timeline" }));
  }

  function problemList(problems) {
    if (!problems || !problems.length) return null;
    return el("ul", { class: "problems" }, ...problems.map((p) => el("li", {},
      el("span", { class: "problem-code", text: p.code }),
      p.step_id ? el("span", { class: "mono", text: "step " + p.step_id }) : null,
      p.location ? el("span", { class: "mono muted", text: p.location }) : null,
      el("span", { class: "problem-msg", text: p.message }))));
  }

  // -- the plan card -------------------------------------------------------------------------
  function levels(plan) {
    const byId = new Map(plan.steps.map((s) => [s.id, s]));
    const memo = new Map();
    const deps = (step) => {
      const found = new Set(step.deps || []);
      const re = /\$\{\s*([A-Za-z_][\w-]*)/g;
      const walk = (v) => {
        if (typeof v === "string") {
          for (const m of v.matchAll(re)) if (!v.slice(0, m.index).endsWith("$")) found.add(m[1]);
        } else if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === "object") Object.values(v).forEach(walk);
      };
      walk(step.args);
      if (step.when) walk(step.when);
      found.delete(step.id);
      return [...found].filter((d) => byId.has(d));
    };
    const level = (step, seen) => {
      if (memo.has(step.id)) return memo.get(step.id);
      if (seen.has(step.id)) return 0;  // a cycle: the validator reports it
      seen.add(step.id);
      const ds = deps(step);
      const lv = ds.length ? 1 + Math.max(...ds.map((d) => level(byId.get(d), seen))) : 0;
      memo.set(step.id, lv);
      return lv;
    };
    const groups = [];
    for (const step of plan.steps) {
      const lv = level(step, new Set());
      (groups[lv] = groups[lv] || []).push({ step, deps: deps(step) });
    }
    return groups.filter(Boolean);
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
    return el("div", { class: "cost" }, el("span", { class: "cost-label", text: "Estimated cost" }),
      ...parts.map((p) => el("span", { class: "cost-item", text: p })));
  }

  function planCard(st) {
    const plan = st.plan;
    const waiting = st.stage === "awaiting_approval";
    const risks = st.risks || {};
    const dangerous = Object.values(risks).includes("dangerous");
    const card = el("article", { class: "card plan-card", dataset: { stage: st.stage } });
    card.append(el("header", { class: "card-head" },
      el("div", {}, el("h3", { text: waiting ? "Proposed plan" : "Plan" }),
        el("p", { class: "plan-goal", text: plan.goal })),
      el("div", { class: "card-head-right" }, badge(st.stage),
        st.source ? el("span", { class: "source muted small",
          text: st.source === "template" ? "from template memory" : "drafted by the LLM" }) : null)));
    card.append(costLine(st));
    if (dangerous && waiting) {
      card.append(el("p", { class: "warning" }, el("strong", { text: "Dangerous step. " }),
        "This plan contains a step that runs only with your explicit approval."));
    }
    if (view.editing) {
      card.append(editor(st));
    } else {
      const dag = el("div", { class: "dag" });
      levels(plan).forEach((group, i) => {
        dag.append(el("div", { class: "level" },
          el("div", { class: "level-label", title: "dependency level", text: String(i + 1) }),
          el("div", { class: "level-steps" }, ...group.map((g) => stepCard(g.step, g.deps, risks[g.step.id])))));
      });
      card.append(dag);
      const outs = Object.entries(plan.outputs || {});
      if (outs.length) {
        card.append(el("div", { class: "outputs" }, el("span", { class: "outputs-label", text: "Outputs" }),
          ...outs.map(([k, v]) => el("span", { class: "output-item" },
            el("span", { class: "mono", text: k }), " ← ", valueNode(v)))));
      }
    }
    if (st.problems && st.problems.length && !view.editProblems) {
      card.append(el("div", { class: "problem-box" },
        el("strong", { text: "Problems" }), problemList(st.problems)));
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

  function stepCard(step, deps, risk) {
    const args = Object.entries(step.args || {});
    return el("div", { class: "step", dataset: { stepId: step.id, status: "pending" } },
      el("div", { class: "step-head" },
        el("span", { class: "status-dot", "aria-hidden": "true" }),
        el("span", { class: "step-id", text: step.id }),
        el("span", { class: "tool", text: step.tool }),
        risk ? el("span", { class: "risk risk-" + risk, text: risk }) : null,
        el("span", { class: "status-label", text: "" })),
      step.description ? el("div", { class: "step-desc", text: step.description }) : null,
      args.length ? el("dl", { class: "args" }, ...args.flatMap(([k, v]) => [
        el("dt", { text: k }), el("dd", {}, valueNode(v))])) : el("p", { class: "muted small", text: "no arguments" }),
      deps.length ? el("div", { class: "deps" }, "after ",
        ...deps.map((d) => el("span", { class: "dep", text: d }))) : null,
      step.when ? el("div", { class: "deps" }, "when ", valueNode(step.when)) : null,
      el("div", { class: "step-run" }));
  }

  // Step statuses, outputs and errors, updated in place (no re-render of the card).
  function applyRun() {
    const st = view.state;
    if (!st || !st.run) return;
    const status = document.querySelector(".msg-status .status-text");
    if (status && workingText(st)) status.textContent = workingText(st);
    for (const s of st.run.steps) {
      const node = document.querySelector('.step[data-step-id="' + CSS.escape(s.id) + '"]');
      if (!node) continue;
      if (node.dataset.status === s.status && node.dataset.attempts === String(s.attempts)) continue;
      node.dataset.status = s.status;
      node.dataset.attempts = String(s.attempts);
      node.querySelector(".status-label").textContent =
        s.status + (s.attempts > 1 ? " · " + s.attempts + " attempts" : "");
      const box = node.querySelector(".step-run");
      const parts = [];
      if (s.started_at && s.finished_at) {
        parts.push(el("span", { class: "muted small", text: "took " + fmtSeconds(s.finished_at - s.started_at) }));
      }
      if (s.error) parts.push(el("div", { class: "step-error", text: s.error.type + ": " + s.error.message }));
      if (s.status === "succeeded" && s.output !== null && s.output !== undefined) {
        parts.push(el("details", { class: "step-output" }, el("summary", { text: "output" }),
          el("pre", { text: json(s.output) })));
      }
      box.replaceChildren(...parts);
    }
  }

  function fmtSeconds(s) {
    return s < 1 ? Math.round(s * 1000) + " ms" : s.toFixed(2) + " s";
  }

  // -- review actions --------------------------------------------------------------------
  function actions(st) {
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
    bar.append(
      el("button", { type: "button", class: "btn btn-primary", id: "approve", disabled: view.busy,
        onclick: () => decide("approve", {}), text: "Approve" }),
      el("button", { type: "button", class: "btn", id: "edit", disabled: view.busy,
        onclick: () => startEdit(st), text: "Edit" }),
      el("button", { type: "button", class: "btn btn-danger-ghost", id: "reject", disabled: view.busy,
        onclick: () => { view.rejecting = true; view.actionError = ""; render(true); }, text: "Reject" }));
    if (st.approval_deadline) {
      bar.append(el("span", { class: "muted small deadline", text: "waiting until " + fmtTime(st.approval_deadline) }));
    }
    return bar;
  }

  async function decide(action, body) {
    const id = view.id;
    view.busy = true;
    view.actionError = "";
    render(true);
    try {
      const state = await api("POST", goalPath(id, "/" + action), body);
      if (view.id !== id) return;
      view.state = state;
      view.rejecting = false;
      if (!view.source && !FINISHED.has(state.stage)) follow(id);
    } catch (e) {
      if (view.id !== id) return;
      view.actionError = e.message + (e.hint ? " (" + e.hint + ")" : "");
    } finally {
      if (view.id === id) { view.busy = false; render(true); }
    }
    loadGoalsSoon();
  }

  // -- the editor: one input per argument, or the whole plan as JSON -----------------------
  function startEdit(st) {
    const args = {};
    for (const step of st.plan.steps) {
      args[step.id] = {};
      for (const [k, v] of Object.entries(step.args || {})) {
        args[step.id][k] = { string: typeof v === "string", text: typeof v === "string" ? v : json(v, 0) };
      }
    }
    view.draft = { args, json: json(readable(st.plan)), note: "" };
    view.editing = "args";
    view.editProblems = null;
    view.editError = "";
    view.actionError = "";
    render(true);
  }

  function editor(st) {
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
    const note = view.draft.note;
    startEdit({ ...st, plan });
    view.draft.note = note;
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
      const state = await api("POST", goalPath(id, "/edit"), { plan, note: view.draft.note });
      if (view.id !== id) return;
      view.state = state;
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

  async function init() {
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
    window.addEventListener("hashchange", () => {
      const m = /^#goal=(.+)$/.exec(location.hash);
      if (m && decodeURIComponent(m[1]) !== view.id) openFromHash();
    });
    try { view.info = await api("GET", "/api/info"); } catch (e) { view.info = null; }
    render(true);
    await loadGoals();
    openFromHash();
    setInterval(() => { if (!document.hidden) loadGoals(); }, 10000);
  }

  document.addEventListener("DOMContentLoaded", init);
})();
