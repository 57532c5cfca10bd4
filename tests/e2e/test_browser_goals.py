"""Goals that fail, the goal list, and the API docs, in real headless Chromium: a failed goal says
why in words for the page (no CLI hint) and offers Retry; planning against an LLM endpoint that
is down shows the time going by and that the planner is still trying; the sidebar's search and
stage filter; /docs renders offline with nothing leaving localhost."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from temporalio.client import Client

from agents.devserver import free_port
from tests.e2e.browser_kit import Session, needs_chromium, open_session, page_shot
from tests.workflow.test_web import REMIND, Web, offline_settings, wait_stage, web_stack

pytestmark = needs_chromium

UNKNOWN = "zzz an unknown goal"  # no template serves it; no LLM is configured: it fails


async def test_a_failed_goal_says_why_and_retry_submits_it_again(ui: Session) -> None:
    page = ui.page
    await ui.submit(UNKNOWN)
    failed = page.locator(".msg-error")
    await expect(failed.locator(".failure-title")).to_have_text(
        "No LLM is configured, and no stored plan fits this goal.")
    await expect(failed).to_contain_text("JARVIS_LLM_BASE_URL")
    await expect(failed).to_contain_text("examples on the start page work offline")
    await expect(failed).not_to_contain_text("`")  # no `jarvis ...` command in the page
    await expect(failed).not_to_contain_text("LLMNotConfigured:")
    first = await ui.goal_id()
    assert (await ui.state(first))["stage"] == "failed"
    await ui.shot("30-failed-goal-with-retry")

    await failed.locator("#retry").click()
    await expect(page.locator("#thread-id")).not_to_have_text(first)
    await expect(page.locator("#thread-id")).to_have_text(re.compile(r"^goal-"))
    second = await ui.goal_id()
    await expect(page.locator(".msg-user .bubble")).to_have_text(UNKNOWN)
    await expect(page.locator(".msg-error #retry")).to_be_visible()  # it failed again
    assert (await ui.state(second))["goal"] == UNKNOWN
    items = page.locator(".goal-item", has_text=UNKNOWN)
    await expect(items).to_have_count(2, timeout=15_000)
    tails = await items.locator(".goal-item-id").all_text_contents()
    assert len(set(tails)) == 2, tails  # the same text, told apart by the id


@pytest.fixture
async def llm_down(browser_client: Client, browser_temporal: str, task_queue: str,
                   tmp_path: Path) -> AsyncIterator[Web]:
    """The web stack with an LLM endpoint configured on a port nothing listens on."""
    settings = offline_settings(tmp_path / "data", browser_temporal, task_queue).model_copy(
        update={"llm_base_url": f"http://127.0.0.1:{free_port()}/v1", "llm_model": "m"})
    async with web_stack(browser_client, settings) as stack:
        yield stack


async def test_planning_against_an_endpoint_that_is_down(browser: Browser, llm_down: Web
                                                         ) -> None:
    async with open_session(browser, llm_down) as ui:
        page = ui.page
        await page.goto(llm_down.url)
        await ui.submit("zzz plan something nobody planned before")
        status = page.locator(".msg-status")
        await expect(status.locator(".status-text")).to_have_text("Drafting a plan…")
        elapsed = status.locator(".status-elapsed")
        await expect(elapsed).to_have_text(re.compile(r"^[1-9]\d* s$"))
        still = status.locator(".still-trying")
        await expect(still).to_be_visible(timeout=15_000)
        await expect(still).to_have_text("still trying (the planner retries up to 5 times)")
        assert int((await elapsed.text_content() or "0 s").split()[0]) >= 5
        # each retry of the LLM call as the server reports it: the attempt and why the last failed
        attempt = status.locator(".attempt")
        await expect(attempt.locator(".attempt-count")).to_have_text(
            re.compile(r"^Attempt [2-5] of 5"), timeout=15_000)
        await expect(attempt.locator(".attempt-failure")).to_contain_text(
            "the last one failed: ")
        await expect(attempt.locator(".attempt-failure")).to_contain_text("ConnectionError")
        await expect(attempt.locator(".attempt-count")).to_have_text(
            re.compile(r"^Attempt [3-5] of 5"), timeout=20_000)  # it moves on as they happen
        await ui.shot("31-planning-still-trying")
        # a reload keeps counting from when the stage began, not from the reload
        shown = int((await elapsed.text_content() or "0 s").split()[0])
        await page.reload()
        await expect(elapsed).to_have_text(re.compile(r"^\d+ s$"))
        assert int((await elapsed.text_content() or "0 s").split()[0]) >= shown

        failed = page.locator(".msg-error")
        await expect(failed.locator(".failure-title")).to_have_text(
            "The planner could not reach the LLM endpoint.", timeout=60_000)
        await expect(failed.locator(".failure-detail")).to_contain_text("Tried 5 times.")
        await expect(failed).not_to_contain_text("ConnectionError: ConnectionError")
        await expect(failed.locator("#retry")).to_be_visible()
        await ui.shot("32-llm-endpoint-down")


async def test_the_goal_list_searches_and_filters_by_stage(ui: Session) -> None:
    page, http = ui.page, ui.web.http
    done = await http.post("/api/goals", json={"goal": "remember that the boiler is serviced in "
                                                        "May", "yes": True})
    waiting = await http.post("/api/goals", json={"goal": REMIND})
    failed = [await http.post("/api/goals", json={"goal": UNKNOWN}) for _ in range(2)]
    ids = [r.json()["id"] for r in (done, waiting, *failed)]
    await wait_stage(http, ids[0], {"succeeded"})
    await wait_stage(http, ids[1], {"awaiting_approval"})
    for goal_id in ids[2:]:
        await wait_stage(http, goal_id, {"failed"})
    await page.click("#refresh")
    # other tests of this module left goals of their own in the list: look at these four
    items = page.locator(".goal-item:is(" + ", ".join(f'[data-goal-id="{i}"]' for i in ids) + ")")
    await expect(items).to_have_count(4)
    for item in await items.all():  # each one: its stage, when it started, its id's tail
        await expect(item.locator(".badge")).to_be_visible()
        await expect(item.locator(".goal-item-time")).to_have_text(re.compile(r"\d"))
        await expect(item.locator(".goal-item-id")).to_have_text(re.compile(r"^#[0-9a-f]{8}$"))

    search = page.locator("#goal-search")
    await search.fill("boiler")
    await expect(page.locator(".goal-item")).to_have_count(1)
    await expect(items).to_have_attribute("data-goal-id", ids[0])
    await expect(page.locator("#goal-count")).to_have_text(re.compile(r"^1 of \d+$"))
    await search.fill("ZZZ unknown")  # any case, every word
    await expect(items).to_have_count(2)
    await ui.shot("33-goal-list-search")
    await search.fill("")

    for group, expected in (("failed", set(ids[2:])), ("waiting", {ids[1]}),
                            ("succeeded", {ids[0]}), ("all", set(ids))):
        await page.select_option("#goal-filter", group)
        await expect(items).to_have_count(len(expected))
        assert {await i.get_attribute("data-goal-id") for i in await items.all()} == expected
        for other in await page.locator(".goal-item").all():
            assert group == "all" or await other.get_attribute("data-group") == group
    await page.select_option("#goal-filter", "failed")
    await search.fill("boiler")
    await expect(page.locator(".goal-item")).to_have_count(0)  # both at once
    await expect(page.locator("#goal-list-none")).to_be_visible()
    await search.fill("")
    await page.select_option("#goal-filter", "all")
    await http.post(f"/api/goals/{ids[1]}/cancel", json={})


async def test_api_docs_render_offline(ui: Session) -> None:
    page = ui.page
    # the guard itself: a request to another host is refused and recorded
    other = await page.context.new_page()
    await other.evaluate("() => fetch('http://example.invalid/x').catch(() => null)")
    await other.close()
    assert ui.outside == ["http://example.invalid/x"]
    ui.outside.clear()

    response = await page.goto(f"{ui.web.url}/docs")
    assert response is not None and response.ok
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "https:" not in csp
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("JARVIS Planner")
    operation = page.locator(".opblock-summary-path", has_text="/api/goals/{goal_id}/edit")
    await expect(operation).to_be_visible()
    await operation.click()
    await expect(page.locator(".opblock-body").first).to_be_visible()
    await page_shot(page, "34-api-docs-offline")
