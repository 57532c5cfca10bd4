"""The chat page on a desktop (1280x800) and on a phone (390x844, touch): at every stage
(welcome, plan proposed, running, result) nothing is wider than the viewport, and a goal is
typed, sent, approved and its result read by tapping. Screenshots of both viewports go to
test-artifacts/screenshots/{desktop,phone}-N-stage.png."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Locator, expect

from tests.e2e.browser_kit import PHONE, Session, needs_chromium, open_session, page_shot
from tests.workflow.test_web import Web

pytestmark = needs_chromium

DEVICES = {"desktop": ({"width": 1280, "height": 800}, False), "phone": (PHONE, True)}
# a 5 s timer: the running stage stays on screen long enough to be looked at and photographed
SLOW_REMIND = "remind me to stretch in 5 seconds"
LONG = ("remember that https://example.com/a/very/long/address/" + "segment" * 12 +
        " is where the " + "Donaudampfschifffahrtsgesellschaft" * 3 + " manual lives")
DRAWER_IN = "() => document.getElementById('sidebar').getBoundingClientRect().left >= 0"
OPEN_ALL_DETAILS = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"


async def fits(ui: Session, stage: str) -> None:
    assert await ui.overflow() == [], f"wider than the viewport at {stage}"


@pytest.mark.parametrize("device", ["desktop", "phone"])
async def test_every_stage_fits_and_a_goal_runs_by_touch(browser: Browser, web: Web,
                                                         device: str) -> None:
    viewport, phone = DEVICES[device]
    async with open_session(browser, web, viewport=viewport, phone=phone) as ui:
        page = ui.page

        async def press(target: Locator) -> None:  # a finger on a phone, a mouse otherwise
            await (target.tap() if phone else target.click())

        await page.goto(web.url)
        await expect(page.locator("#welcome")).to_be_visible()
        # one column on the phone: the goals sit behind a button; the composer is at the bottom
        if phone:
            await expect(page.locator("#sidebar")).to_be_hidden()
            await expect(page.locator("#goals-toggle")).to_be_visible()
        else:
            await expect(page.locator("#sidebar")).to_be_visible()
            await expect(page.locator("#goals-toggle")).to_be_hidden()
        composer = await page.locator("#composer").bounding_box()
        assert composer is not None
        assert abs(composer["y"] + composer["height"] - viewport["height"]) <= 1, composer
        await expect(page.locator("#send")).to_be_in_viewport()
        await fits(ui, "welcome")
        await ui.shot(f"{device}-1-welcome")

        await press(page.locator("#goal-input"))
        await page.keyboard.type(SLOW_REMIND)
        await press(page.locator("#send"))  # fails if anything else would take the tap
        await expect(page.locator("#thread-id")).to_have_text(re.compile(r"^goal-"))
        approve = page.locator(".plan-card #approve")
        await expect(approve).to_be_visible()
        await expect(page.locator(".dag-node")).to_have_count(2)
        await fits(ui, "plan proposed")
        await ui.shot(f"{device}-2-plan-proposed")
        await press(page.locator(".plan-card #edit"))  # the editor fits too, both tabs
        await expect(page.locator("#arg-ping-message")).to_be_visible()
        await fits(ui, "editing the arguments")
        await press(page.locator("#tab-json"))
        await expect(page.locator("#plan-json")).to_be_visible()
        await fits(ui, "editing the plan JSON")
        await press(page.locator("#cancel-edit"))

        await approve.scroll_into_view_if_needed()
        await press(approve)
        await expect(ui.step("pause")).to_have_attribute("data-status", "running")
        await expect(page.locator('.dag-node[data-step-id="pause"]')).to_have_attribute(
            "data-status", "running")
        await fits(ui, "running")
        await ui.shot(f"{device}-3-running")

        result = page.locator('.msg-result .result-table tr[data-output="outbox"]')
        await expect(result).to_contain_text("outbox.jsonl", timeout=30_000)
        await expect(page.locator(".msg-result")).to_be_in_viewport()
        await page.evaluate(OPEN_ALL_DETAILS)  # step outputs and the raw JSON, unfolded
        await fits(ui, "result")
        await ui.shot(f"{device}-4-result")
        first = await ui.goal_id()

        # long words, a long URL: they wrap inside their boxes
        created = await web.http.post("/api/goals", json={"goal": LONG, "yes": True})
        assert created.status_code == 201, created.text
        long_id = created.json()["id"]
        if phone:
            await press(page.locator("#goals-toggle"))
            await expect(page.locator("#sidebar")).to_be_visible()
            await expect(page.locator("#goal-search")).to_be_visible()
            await page.wait_for_function(DRAWER_IN)  # its slide is over
            await fits(ui, "drawer open")
            await page_shot(page, f"{device}-5-past-goals")
        await press(page.locator("#refresh"))
        item = page.locator(f'.goal-item[data-goal-id="{long_id}"]')
        await press(item)
        if phone:
            await expect(page.locator("#sidebar")).to_be_hidden()  # the drawer closed
        await expect(page.locator("#thread-id")).to_have_text(long_id)
        await expect(page.locator(".msg-result")).to_be_visible(timeout=30_000)
        await page.evaluate(OPEN_ALL_DETAILS)
        await fits(ui, "long words")
        await ui.shot(f"{device}-6-long-words")

        # and back to the first goal from the list
        if phone:
            await press(page.locator("#goals-toggle"))
        await press(page.locator(f'.goal-item[data-goal-id="{first}"]'))
        await expect(page.locator(".msg-result .result-table")).to_contain_text("outbox.jsonl")
