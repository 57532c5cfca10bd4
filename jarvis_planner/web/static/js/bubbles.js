// The conversation's messages, built from the goal's state: the goal, the plan, decisions, what
// is going on now (with how long), the result, or why the goal failed (with Retry).
import { goalPath } from "./api.js";
import { STAGE_LABEL, el, fmtTime } from "./dom.js";
import { planCard, problemList, workingText } from "./plan.js";
import { resultView } from "./result.js";
import { finished, view } from "./state.js";
import { retryGoal } from "./thread.js";

// Planning stages: after a few seconds the page says the planner is still trying (it retries
// a failed LLM call; the goal state does not count the attempts of planning).
export const PLANNING = new Set(["planning", "repairing"]);

function userBubble(text) {
  return el("div", { class: "msg msg-user" }, el("div", { class: "bubble", text }));
}

function botBubble(cls, ...children) {
  return el("div", { class: "msg msg-bot " + (cls || "") },
    el("span", { class: "avatar", "aria-hidden": "true", text: "J" }),
    el("div", { class: "bubble" }, ...children));
}

export function threadNodes() {
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
  if (st.source === "schedule") {
    return "Here is the plan approved for schedule " + (st.schedule_id || "") + " (no LLM call).";
  }
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
          text: "still trying (the planner retries up to " + attempts + " times)" }) : null,
        PLANNING.has(s) && view.attempt ? attemptLine(view.attempt) : null));
  }
  if (s === "succeeded") {
    const outputs = st.run ? st.run.outputs : {};
    return botBubble("msg-result",
      el("div", { class: "result-head" }, el("strong", { text: "Done." }),
        " The goal succeeded. Result:"),
      resultView(outputs),
      st.message ? el("p", { class: "muted small", text: st.message }) : null);
  }
  if (s === "rejected" && st.run) {  // abandoned after some steps ran: what was undone
    const last = st.decisions.filter((d) => d.action === "abandon" || d.action === "reject").pop();
    return botBubble("msg-rejected",
      el("strong", { text: "Stopped." }), " " + capital(st.message || "the goal was abandoned."),
      last && last.reason ? el("p", { class: "quote", text: last.reason }) : null,
      undoneList(st));
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

function capital(text) { return text.charAt(0).toUpperCase() + text.slice(1); }

// What an abandoned goal undid, latest first, and what it could not.
function undoneList(st) {
  if (!st.undone || !st.undone.length) return null;
  return el("ul", { class: "undone" }, ...st.undone.map((u) => el("li", { class: u.ok ? "" : "undo-failed" },
    el("span", { class: "mono", text: u.step }), " ",
    el("span", { text: u.ok ? "undone: " + u.message : "not undone: " + u.message }))));
}

// A retry of the planner's LLM call, as the server reports it.
function attemptLine(a) {
  const of = a.max_attempts ? " of " + a.max_attempts : "";
  const next = a.next_attempt_in_s ? " starts in " + Math.ceil(a.next_attempt_in_s) + " s" : "";
  return el("span", { class: "attempt small" },
    el("strong", { class: "attempt-count", text: "Attempt " + a.attempt + of + next }),
    el("span", { class: "attempt-failure muted", text: " · the last one failed: " + a.last_failure }));
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
  const verb = { approve: "Approved", reject: "Rejected", edit: "Plan edited",
    approve_step: "Step " + d.step + " approved", reject_step: "Step " + d.step + " skipped",
    abandon: "Stopped at step " + d.step + " (goal abandoned)",
    retry: "Retried from step " + d.step }[d.action] || d.action;
  const icon = { approve: "✓", reject: "✕", edit: "✎", approve_step: "✓", reject_step: "✕",
    abandon: "✕", retry: "↻" }[d.action] || "•";
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
