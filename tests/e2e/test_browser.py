"""The chat page end to end in real headless Chromium (Debian's package, driven by Playwright),
against a real uvicorn, the real Temporal dev server and an in-process worker. Screenshots of the
key screens go to test-artifacts/screenshots/."""

from __future__ import annotations

import json

from playwright.async_api import Browser, expect

from jarvis_planner.web.tokens import UserStore
from tests.e2e.browser_kit import EXPECTED_401, Session, needs_chromium, page_shot
from tests.workflow.test_web import REMIND, TOKEN, Web

XSS = "<img src=x onerror=alert(1)>"

pytestmark = needs_chromium


# a 3 s timer, so the running state is on screen long enough to be seen on a loaded machine
SLOW_REMIND = "remind me to stretch in 3 seconds"


async def test_type_goal_edit_argument_approve_watch_steps_read_result(ui: Session) -> None:
    page = ui.page
    await ui.shot("01-welcome")
    await ui.submit(SLOW_REMIND)
    card = page.locator(".plan-card")
    await expect(card.locator("#approve")).to_be_visible()
    await expect(card.locator(".badge")).to_have_text("awaiting approval")
    await expect(ui.step("pause").locator(".tool")).to_have_text("wait")
    await expect(ui.step("ping").locator(".tool")).to_have_text("notify")
    await expect(ui.step("ping").locator(".risk")).to_have_text("side-effecting")
    await expect(ui.step("ping").locator(".deps")).to_contain_text("pause")
    await expect(card.locator(".cost")).to_contain_text("2 steps")
    await expect(card.locator(".outputs .ref")).to_have_text("${ping.outbox}")
    await expect(page.locator(".msg-user .bubble")).to_have_text(SLOW_REMIND)
    link = page.locator("#temporal-link")
    goal_id = await ui.goal_id()
    await expect(link).to_have_attribute(
        "href", f"http://localhost:{ui.web.settings.temporal_ui_port}/namespaces/default/"
                f"workflows/{goal_id}")
    await expect(page.locator(f'.goal-item[data-goal-id="{goal_id}"]')).to_be_visible()
    await ui.shot("02-plan-proposed")

    await card.locator("#edit").click()
    message = page.locator("#arg-ping-message")
    await expect(message).to_have_value("Reminder: stretch")
    await message.fill("Reminder: drink water")
    await page.fill("#edit-note", "hydrate instead")
    await ui.shot("03-editing-an-argument")
    await page.click("#save-edit")
    await expect(ui.step("ping").locator(".args")).to_contain_text("Reminder: drink water")
    await expect(page.locator(".decision-edit")).to_contain_text("hydrate instead")

    # every status the page shows for the wait step, recorded as it renders (the 3 s it runs
    # can pass between two frames of a loaded machine, so no timed look at the screen)
    await page.evaluate("""() => {
      window.pauseStatuses = [];
      new MutationObserver(() => {
        const el = document.querySelector('.plan-card .step[data-step-id="pause"]');
        const last = window.pauseStatuses[window.pauseStatuses.length - 1];
        if (el && el.dataset.status !== last) window.pauseStatuses.push(el.dataset.status);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    }""")
    await card.locator("#approve").click()
    await ui.shot("04-running")
    await expect(ui.step("ping")).to_have_attribute("data-status", "succeeded", timeout=20_000)
    await expect(ui.step("pause")).to_have_attribute("data-status", "succeeded")
    seen = await page.evaluate("window.pauseStatuses")
    assert "running" in seen and seen[-1] == "succeeded", seen
    result = page.locator(".msg-result .result-json")
    await expect(result).to_contain_text("outbox.jsonl")
    outputs = json.loads((await result.text_content()) or "{}")
    assert outputs["outbox"].endswith("outbox.jsonl")
    await expect(card.locator(".badge")).to_have_text("succeeded")
    await expect(page.locator(".decision-approve")).to_contain_text("Approved by web:admin")
    await expect(page.locator(f'.goal-item[data-goal-id="{goal_id}"] .badge')).to_have_text(
        "succeeded", timeout=15_000)
    await page.locator(".timeline-card summary").click()
    await expect(page.locator("img.timeline")).to_be_visible()
    assert await page.locator("img.timeline").evaluate("img => img.naturalWidth > 0")
    await ui.shot("05-result")

    outbox = (ui.web.settings.data_dir / "outbox.jsonl").read_text()
    assert "Reminder: drink water" in outbox and "Reminder: stretch" not in outbox
    state = await ui.state()
    assert [(d["action"], d["by"]) for d in state["decisions"]] == [("edit", "web:admin"),
                                                                    ("approve", "web:admin")]
    # the activity step's card names the worker (pid@host) that ran it; the timer's, none
    worker = {s["id"]: s["worker"] for s in state["run"]["steps"]}["ping"]
    assert worker and "@" in worker, state["run"]["steps"]
    await expect(ui.step("ping").locator(".step-worker")).to_have_text(f" on {worker}")
    await expect(ui.step("pause").locator(".step-worker")).to_have_count(0)

    # reopening the goal from the sidebar shows the same finished thread
    await page.click("#new-goal")
    await expect(page.locator("#welcome")).to_be_visible()
    await page.click(f'.goal-item[data-goal-id="{goal_id}"]')
    await expect(page.locator(".msg-result .result-json")).to_contain_text("outbox.jsonl")
    await expect(ui.step("ping")).to_have_attribute("data-status", "succeeded")


async def test_reject_path(ui: Session) -> None:
    page = ui.page
    await ui.submit(REMIND)
    await page.locator(".plan-card #reject").click()
    await page.fill("#reject-reason", "not today, thanks")
    await ui.shot("06-rejecting")
    await page.click("#confirm-reject")
    await expect(page.locator(".msg-rejected")).to_contain_text("not today, thanks")
    await expect(page.locator(".msg-rejected")).to_contain_text("Nothing was run")
    await expect(page.locator(".plan-card .badge")).to_have_text("rejected")
    await expect(page.locator(".plan-card #approve")).to_have_count(0)
    await expect(ui.step("ping")).to_have_attribute("data-status", "pending")
    await ui.shot("07-rejected")
    state = await ui.state()
    assert state["stage"] == "rejected" and state["run"] is None
    assert not (ui.web.settings.data_dir / "outbox.jsonl").exists()


async def test_refused_edit_shows_problems_and_the_goal_stays_approvable(ui: Session) -> None:
    page = ui.page
    await ui.submit(REMIND)
    await expect(page.locator(".plan-card #approve")).to_be_visible()
    await page.click("#edit")
    await page.click("#tab-json")
    editor = page.locator("#plan-json")
    plan = json.loads(await editor.input_value())
    plan["steps"][1]["tool"] = "send_carrier_pigeon"
    await editor.fill(json.dumps(plan, indent=2))
    await page.click("#save-edit")
    problems = page.locator("#edit-problems")
    await expect(problems).to_contain_text("unknown_tool")
    await expect(problems).to_contain_text("send_carrier_pigeon")
    await expect(problems).to_contain_text("still waits for a decision")
    await expect(problems).not_to_contain_text("jarvis tools")  # no CLI hint on the page
    await expect(page.locator(".plan-card .badge")).to_have_text("awaiting approval")
    await ui.shot("08-edit-refused")
    assert (await ui.state())["stage"] == "awaiting_approval"

    await editor.fill("{ not json")
    await page.click("#save-edit")
    await expect(problems).to_contain_text("not valid JSON")

    await page.click("#cancel-edit")
    await expect(problems).to_have_count(0)
    await expect(ui.step("ping").locator(".tool")).to_have_text("notify")
    await page.click("#approve")
    await expect(page.locator(".msg-result .result-json")).to_contain_text("outbox.jsonl")
    state = await ui.state()
    assert state["stage"] == "succeeded"
    assert [d["action"] for d in state["decisions"]] == ["approve"]


async def test_goals_plans_and_tool_output_render_as_text(ui: Session) -> None:
    page = ui.page
    goal = f"remember that {XSS} is harmless"
    await ui.submit(goal, pre_approve=True)
    await expect(page.locator(".msg-result")).to_be_visible()
    await expect(page.locator(".msg-user .bubble")).to_have_text(goal)
    await expect(page.locator("#thread-title")).to_have_text(goal)
    await expect(ui.step("note").locator(".args dd")).to_contain_text(XSS)
    await ui.shot("09-script-in-a-goal-and-plan-stays-text")

    await ui.submit("what do my notes say about onerror")
    result = page.locator(".msg-result .result-json")
    await expect(result).to_contain_text(XSS)
    assert json.loads((await result.text_content()) or "{}")["notes"][0]["text"] == (
        f"{XSS} is harmless")
    await page.click("#refresh")
    await expect(page.locator(".goal-item-text", has_text=XSS)).to_have_count(1)
    await ui.shot("10-script-in-tool-output-stays-text")

    # a goal no template serves, with no LLM endpoint configured: it ends with a message
    await ui.submit(XSS)
    await expect(page.locator(".msg-error")).to_contain_text("LLM")
    await expect(page.locator(".msg-user .bubble")).to_have_text(XSS)
    await expect(page.locator(".plan-card")).to_have_count(0)
    await ui.shot("11-no-plan-without-an-llm")
    # nothing from the data became an element, whatever the CSP would have blocked
    assert await page.locator('img[src="x"], img[onerror]').count() == 0
    assert await page.evaluate("document.querySelectorAll('[onerror]').length") == 0


async def test_login_form_login_link_and_logout(browser: Browser, web: Web) -> None:
    """Without a session the page shows only the login form; a wrong token says so; the right
    one opens the chat and shows who is logged in; Log out comes back to the form; the login
    link `jarvis serve` prints logs in and leaves no token in the address bar or history."""
    alice = UserStore.of(web.settings).add("alice")
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and EXPECTED_401 not in m.text else None)
    try:
        await page.goto(web.url)
        await expect(page.locator("#login-token")).to_be_visible()
        await expect(page.locator("#app")).to_be_hidden()
        assert await page.locator("#login-token").get_attribute("type") == "password"
        await page.fill("#login-token", "not-the-token-at-all")
        await page.click("#login-button")
        await expect(page.locator("#login-error")).to_contain_text("wrong token")
        await page_shot(page, "00-login")

        await page.fill("#login-token", TOKEN)
        await page.press("#login-token", "Enter")
        await expect(page.locator("#welcome")).to_be_visible()
        await expect(page.locator("#who")).to_have_text("admin")
        await expect(page.locator("#login")).to_be_hidden()
        cookies = {c["name"]: c for c in await context.cookies()}
        assert cookies["jarvis_session"]["httpOnly"] is True
        assert cookies["jarvis_session"]["sameSite"] == "Strict"
        assert await page.evaluate("document.cookie") == "", "the page cannot read the session"

        await page.click("#logout")
        await expect(page.locator("#login-token")).to_be_visible()
        assert "jarvis_session" not in {c["name"] for c in await context.cookies()}

        await page.goto(f"{web.url}/#token={alice}")
        await expect(page.locator("#who")).to_have_text("alice")
        assert "token" not in page.url and await page.evaluate("location.hash") == ""  # replaced
        await expect(page.locator("#welcome")).to_be_visible()
    finally:
        await context.close()
    assert errors == [], errors
