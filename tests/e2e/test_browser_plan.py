"""The plan drawn as a graph and the result rendered for reading, in real headless Chromium.

A waiting goal's plan is replaced through the API's edit (naming the plan version it saw) by a
fan-out/fan-in plan of `calc` and `wait` steps; the page draws it (edges = the plan's
dependencies, joining the nodes' boxes) and colours the nodes as the steps change, recorded by a
MutationObserver rather than by timed looks."""

from __future__ import annotations

import json
from typing import Any

from playwright.async_api import expect

from tests.e2e.browser_kit import Session, needs_chromium
from tests.workflow.test_web import REMIND

pytestmark = needs_chromium

FAN: dict[str, Any] = {"goal": "fan out and in", "steps": [
    {"id": "start", "tool": "calc", "args": {"expression": "2 + 3"}},
    {"id": "slow", "tool": "wait", "args": {"seconds": 1}, "deps": ["start"]},
    {"id": "slower", "tool": "wait", "args": {"seconds": 2}, "deps": ["start"]},
    {"id": "double", "tool": "calc", "args": {"expression": "${start.value} * 2"}},
    {"id": "join", "tool": "calc", "args": {"expression": "${double.value} + 1"},
     "deps": ["slow", "slower"]},
], "outputs": {"total": "${join.value}"}}
EDGES = {("start", "slow"), ("start", "slower"), ("start", "double"), ("slow", "join"),
         ("slower", "join"), ("double", "join")}
OK_GREEN = "rgb(46, 158, 91)"  # --ok in app.css

RICH: dict[str, Any] = {"goal": "show results", "steps": [
    {"id": "answer", "tool": "calc", "args": {"expression": "6 * 7"}},
], "outputs": {
    "answer": "${answer.value}",
    "words": ["alpha", "beta", "gamma"],  # calc gives numbers only: a literal list
    "detail": "${answer}",
    "nested": {"level": {"deeper": ["${answer.value}", {"leaf": "deep"}]}},
    "text": "line one\nline two",
    "file": "reports/summary-of-the-week.txt",
}}

# every status each graph node shows, and the order of all changes, as they render
RECORD = """() => {
  window.dagLog = [];
  const last = {};
  const record = () => {
    for (const n of document.querySelectorAll('.plan-card .dag-node')) {
      const id = n.getAttribute('data-step-id'), s = n.getAttribute('data-status');
      if (last[id] !== s) { last[id] = s; window.dagLog.push([id, s]); }
    }
  };
  record();
  new MutationObserver(record).observe(document.body,
    { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
}"""
# each edge: its ends, and whether its path starts on the bottom of its source's box and ends
# on the top of its target's box
EDGE_GEOMETRY = """() => [...document.querySelectorAll('.plan-card .dag-edge')].map(e => {
  const box = (id) => {
    const g = document.querySelector('.plan-card .dag-node[data-step-id="' + id + '"]');
    const m = g.transform.baseVal.consolidate().matrix, r = g.querySelector('rect');
    return { x: m.e, y: m.f, w: r.width.baseVal.value, h: r.height.baseVal.value };
  };
  const from = e.getAttribute('data-from'), to = e.getAttribute('data-to');
  const a = e.getPointAtLength(0), b = e.getPointAtLength(e.getTotalLength());
  const s = box(from), t = box(to);
  return [from, to,
    a.x >= s.x && a.x <= s.x + s.w && Math.abs(a.y - (s.y + s.h)) < 0.5,
    b.x >= t.x && b.x <= t.x + t.w && Math.abs(b.y - t.y) < 0.5];
})"""


async def replace_plan(ui: Session, plan: dict[str, Any]) -> str:
    """A waiting goal typed in the page, its plan replaced through the API's edit."""
    await ui.submit(REMIND)
    await expect(ui.page.locator(".plan-card #approve")).to_be_visible()
    goal_id = await ui.goal_id()
    state = await ui.state(goal_id)
    edited = await ui.web.http.post(f"/api/goals/{goal_id}/edit", json={
        "plan": plan, "plan_digest": state["plan_digest"], "note": "a different plan"})
    assert edited.status_code == 200, edited.text
    return goal_id


async def test_the_plan_graph_draws_the_dependencies_and_follows_the_run(ui: Session) -> None:
    page = ui.page
    await replace_plan(ui, FAN)
    nodes = page.locator(".plan-card .dag-node")
    await expect(nodes).to_have_count(5)  # the page followed the edit
    drawn = await page.eval_on_selector_all(
        ".plan-card .dag-edge", "es => es.map(e => [e.getAttribute('data-from'), "
                                "e.getAttribute('data-to')])")
    assert {tuple(e) for e in drawn} == EDGES and len(drawn) == len(EDGES)
    geometry = await page.evaluate(EDGE_GEOMETRY)
    assert all(starts and ends for _, _, starts, ends in geometry), geometry
    # fan-out: start sits above its three dependants; fan-in: join below all of them
    ys = {n["id"]: n["y"] for n in (await ui.state())["view"]["graph"]["nodes"]}
    assert ys["start"] < ys["slow"] == ys["slower"] == ys["double"] < ys["join"]
    statuses = await nodes.evaluate_all("ns => ns.map(n => n.getAttribute('data-status'))")
    assert statuses == ["pending"] * 5
    await ui.shot("20-plan-graph-fan-out-fan-in")

    await page.evaluate(RECORD)
    await page.locator(".plan-card #approve").click()
    join = page.locator('.plan-card .dag-node[data-step-id="join"]')
    await expect(join).to_have_attribute("data-status", "succeeded", timeout=30_000)
    await ui.shot("21-plan-graph-done")
    log: list[list[str]] = await page.evaluate("window.dagLog")
    order = ["pending", "running", "succeeded"]
    for step in ("start", "slow", "slower", "double", "join"):
        seen = [s for node, s in log if node == step]
        assert seen[0] == "pending" and seen[-1] == "succeeded", (step, seen)
        assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen), seen
    for step in ("slow", "slower"):  # timers: seen running, live
        assert [step, "running"] in log, log
    joined = next(i for i, (node, s) in enumerate(log) if node == "join" and s != "pending")
    for before in ("slow", "slower", "double"):  # fan-in: join only after all three
        assert log.index([before, "succeeded"]) < joined, log
    assert await join.locator("rect").evaluate("r => getComputedStyle(r).stroke") == OK_GREEN
    edge_states = await page.eval_on_selector_all(
        ".plan-card .dag-edge", "es => es.map(e => e.getAttribute('data-status'))")
    assert set(edge_states) == {"succeeded"}
    await expect(page.locator('.msg-result tr[data-output="total"]')).to_contain_text("11")
    # a pure tool's step (calc) ran in the workflow itself, on no worker; timers ran on none
    ran = {s["id"]: (s["worker"], s["inline"]) for s in (await ui.state())["run"]["steps"]}
    assert ran["double"] == (None, True) and ran["slow"] == (None, False), ran
    await expect(ui.step("double").locator(".step-worker")).to_have_text(" in the workflow")
    await expect(ui.step("slow").locator(".step-worker")).to_have_count(0)

    # a node picked brings its step's card into view
    await page.locator('.plan-card .dag-node[data-step-id="slower"]').click()
    await expect(ui.step("slower")).to_be_in_viewport()


async def test_results_render_as_text_lists_tables_and_copy(ui: Session) -> None:
    page = ui.page
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                         origin=ui.web.url)
    goal_id = await replace_plan(ui, RICH)
    approved = await ui.web.http.post(f"/api/goals/{goal_id}/approve",
                                      json={"plan_digest": (await ui.state())["plan_digest"]})
    assert approved.status_code == 200, approved.text
    result = page.locator(".msg-result")
    await expect(result).to_be_visible(timeout=30_000)

    def row(name: str) -> Any:
        return result.locator(f'tr[data-output="{name}"] > td.result-value')

    await expect(row("answer").locator(".rv-scalar")).to_have_text("42")
    await expect(row("words").locator("ul.rv-list > li")).to_have_text(["alpha", "beta", "gamma"])
    detail = row("detail").locator("table.rv-table")
    await expect(detail.locator("th")).to_have_text(["expression", "value"])
    await expect(detail.locator("td").nth(0)).to_have_text("6 * 7")
    folded = row("nested").locator("details.rv-nested")
    await expect(folded.first).to_be_visible()
    await expect(row("nested")).to_contain_text("deep")
    text = row("text").locator(".rv-text")
    assert await text.text_content() == "line one\nline two"
    assert await text.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    await expect(row("file")).to_have_text("reports/summary-of-the-week.txt")
    assert await result.locator("a").count() == 0  # paths are plain text
    raw = json.loads(await result.locator(".result-json").text_content() or "{}")
    assert raw["words"] == ["alpha", "beta", "gamma"] and raw["answer"] == 42
    await ui.shot("22-result-rendered")

    copy = result.locator('tr[data-output="words"] .copy-btn')
    await copy.click()
    await expect(copy).to_have_text("Copied")
    assert json.loads(await page.evaluate("navigator.clipboard.readText()")) == [
        "alpha", "beta", "gamma"]
    await result.locator('tr[data-output="text"] .copy-btn').click()
    assert await page.evaluate("navigator.clipboard.readText()") == "line one\nline two"

    # no clipboard: the value is selected instead, quietly (no error on the page)
    await page.evaluate(
        "() => { navigator.clipboard.writeText = () => Promise.reject(new Error('no')); }")
    fallback = result.locator('tr[data-output="file"] .copy-btn')
    await fallback.click()
    await expect(fallback).to_have_text("Selected: Ctrl+C")
    assert await page.evaluate("getSelection().toString().trim()") == (
        "reports/summary-of-the-week.txt")


GATED: dict[str, Any] = {"goal": "two side effects in parallel", "steps": [
    {"id": "start", "tool": "calc", "args": {"expression": "6 * 7"}},
    {"id": "left", "tool": "notes_append", "args": {"text": "left ${start.value}"}},
    {"id": "right", "tool": "write_file", "args": {"path": "right.txt",
                                                   "text": "${start.value}"}},
    {"id": "after", "tool": "calc", "args": {"expression": "1 + 1"}, "deps": ["left"]},
]}


async def test_two_gates_in_parallel_branches_decided_in_the_opposite_order(
        ui: Session) -> None:
    """Approved with both side effects left at their gates: the graph shows each gate
    waiting, then running once a person decides; the later one is decided first."""
    page = ui.page
    goal_id = await replace_plan(ui, GATED)
    await expect(page.locator(".plan-card .dag-node")).to_have_count(4)
    state = await ui.state(goal_id)
    approved = await ui.web.http.post(f"/api/goals/{goal_id}/approve", json={
        "plan_digest": state["plan_digest"], "gates": ["left", "right"]})
    assert approved.status_code == 200, approved.text
    await page.evaluate(RECORD)
    for step in ("left", "right"):
        node = page.locator(f'.plan-card .dag-node[data-step-id="{step}"]')
        await expect(node).to_have_attribute("data-status", "waiting", timeout=30_000)
        await expect(ui.step(step).locator(".gate-approve")).to_be_visible()
    await expect(ui.step("right").locator(".gate tr")).to_have_text(["pathright.txt", "text42"])
    await ui.shot("22-plan-two-gates-waiting")

    await ui.step("right").locator(".gate-approve").click()
    right = page.locator('.plan-card .dag-node[data-step-id="right"]')
    await expect(right).to_have_attribute("data-status", "succeeded", timeout=30_000)
    left = page.locator('.plan-card .dag-node[data-step-id="left"]')
    await expect(left).to_have_attribute("data-status", "waiting")  # still its own decision
    await ui.step("left").locator(".gate-approve").click()
    after = page.locator('.plan-card .dag-node[data-step-id="after"]')
    await expect(after).to_have_attribute("data-status", "succeeded", timeout=30_000)
    await ui.shot("23-plan-gates-decided")

    log: list[list[str]] = await page.evaluate("window.dagLog")
    for step in ("left", "right"):
        seen = [s for node, s in log if node == step]
        assert seen[seen.index("waiting"):] == ["waiting", "running", "succeeded"] or (
            seen[seen.index("waiting"):] == ["waiting", "succeeded"]), (step, seen)
    # decided in the opposite order of the plan: right ran before left left its gate
    assert log.index(["right", "succeeded"]) < log.index(
        next(e for e in log if e[0] == "left" and e[1] != "waiting" and e[1] != "pending"))
    final = await ui.state(goal_id)
    decided = [(d["action"], d["step"]) for d in final["decisions"] if d.get("step")]
    assert decided == [("approve_step", "right"), ("approve_step", "left")]
    assert final["stage"] == "succeeded"


UNDO: dict[str, Any] = {"goal": "save a draft and note it", "steps": [
    {"id": "save", "tool": "write_file", "args": {"path": "draft.txt", "text": "draft"}},
    {"id": "note", "tool": "notes_append", "args": {"text": "saved ${save.path}"}},
]}


async def test_approve_up_to_a_step_stop_and_undo_then_retry(ui: Session) -> None:
    """From the review screen: approve up to `save` (the note waits at its gate); at the gate,
    stop the goal and undo (the draft is removed); then Retry from here on the note: the
    goal runs again under its id, the undone write first, and finishes."""
    page = ui.page
    goal_id = await replace_plan(ui, UNDO)
    await expect(page.locator(".plan-card .dag-node")).to_have_count(2)
    draft = ui.web.settings.workspace_dir / "draft.txt"
    await page.locator("#approve-until").select_option("save")
    await page.locator(".plan-card #approve").click()
    await expect(ui.step("note").locator(".gate-abandon")).to_be_visible(timeout=30_000)
    assert draft.read_text() == "draft"  # save ran before the note's gate
    state = await ui.state(goal_id)
    assert [(d["action"], d["by"]) for d in state["decisions"]][-1][0] == "approve"
    assert state["gates"] == ["note"]

    await ui.step("note").locator(".gate-abandon").click()
    await expect(ui.step("note").locator(".step-retry")).to_be_visible(timeout=30_000)
    ended = await ui.state(goal_id)
    assert ended["stage"] == "rejected", ended["message"]
    assert [(u["step"], u["ok"], u["message"]) for u in ended["undone"]] == [
        ("save", True, "deleted draft.txt")]
    assert not draft.exists()
    await expect(page.locator(".msg-rejected")).to_contain_text("Stopped.")
    await expect(page.locator(".msg-rejected .undone")).to_have_text(
        "save undone: deleted draft.txt")
    await expect(ui.step("save").locator(".step-undone")).to_have_text("undone: deleted draft.txt")
    await expect(page.locator(".decision-abandon")).to_contain_text("Stopped at step note")
    await ui.shot("24-plan-abandoned-undone")

    await ui.step("note").locator(".step-retry").click()
    node = page.locator('.plan-card .dag-node[data-step-id="note"]')
    await expect(node).to_have_attribute("data-status", "succeeded", timeout=30_000)
    done = await ui.state(goal_id)
    assert done["stage"] in {"remembering", "succeeded"} and done["retried_from"] == "note"
    assert draft.read_text() == "draft"  # the undone write ran again
    notes = (ui.web.settings.data_dir / "notes.jsonl").read_text().splitlines()
    assert len(notes) == 1 and "saved draft.txt" in notes[0]


MISSING: dict[str, Any] = {"goal": "read the report", "steps": [
    {"id": "read", "tool": "read_file", "args": {"path": "missing.txt"}},
], "outputs": {"text": "${read.text}"}}


async def test_a_failed_goal_is_retried_with_edited_arguments(ui: Session) -> None:
    """A step that failed for good: Edit arguments and retry refuses what is not a JSON
    object, then runs the goal again under its id with the new arguments."""
    page = ui.page
    goal_id = await replace_plan(ui, MISSING)
    state = await ui.state(goal_id)
    approved = await ui.web.http.post(f"/api/goals/{goal_id}/approve",
                                      json={"plan_digest": state["plan_digest"]})
    assert approved.status_code == 200, approved.text
    edit = ui.step("read").locator(".step-retry-edit")
    await expect(edit).to_be_visible(timeout=30_000)
    assert (await ui.state(goal_id))["stage"] == "failed"
    ui.web.settings.workspace_dir.mkdir(parents=True, exist_ok=True)
    (ui.web.settings.workspace_dir / "present.txt").write_text("found it")
    await edit.click()
    box = ui.step("read").locator(".retry-args")
    await expect(box).to_have_value('{\n  "path": "missing.txt"\n}')
    await box.fill('["present.txt"]')
    await ui.step("read").locator(".retry-args-go").click()
    await expect(ui.step("read").locator(".retry-args-error")).to_have_text(
        "the arguments are a JSON object of names to values")
    await box.fill('{"path": "present.txt"}')
    await ui.step("read").locator(".retry-args-go").click()
    node = page.locator('.plan-card .dag-node[data-step-id="read"]')
    await expect(node).to_have_attribute("data-status", "succeeded", timeout=30_000)
    await expect(page.locator(".msg-result")).to_contain_text("found it", timeout=30_000)
    done = await ui.state(goal_id)
    assert done["retried_from"] == "read" and done["plan"]["steps"][0]["args"] == {
        "path": "present.txt"}
