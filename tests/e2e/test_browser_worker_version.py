"""The worker version that ran a goal, on its plan card, in real headless Chromium."""

from __future__ import annotations

from playwright.async_api import expect

from agents.versioning import code_build_id
from tests.e2e.browser_kit import Session, needs_chromium
from tests.workflow.test_web import REMIND

pytestmark = needs_chromium


async def test_the_plan_card_names_the_worker_version(ui: Session) -> None:
    await ui.submit(REMIND)
    await expect(ui.page.locator(".plan-card #approve")).to_be_visible()
    version = f"jarvis.{code_build_id()}"
    assert (await ui.state(await ui.goal_id()))["worker_version"] == version
    await expect(ui.page.locator(".plan-card .worker-version")).to_have_text(f"worker {version}")
