"""What the browser tests share: a page session (logged in as the admin, every request leaving
localhost refused and recorded, console errors and dialogs collected), screenshots, and the
check that nothing on the page is wider than the viewport."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Locator,
    Page,
    Route,
    expect,
)

from tests.paths import ARTIFACTS
from tests.workflow.test_web import TOKEN, Web

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ARTIFACTS / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
EXPECTED_422 = "status of 422"  # the refused edit's response, logged by the browser
EXPECTED_401 = "status of 401"  # the API before logging in, logged by the browser
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: run `sudo bash scripts/install-browser.sh` (Debian's "
           "chromium package; Playwright's own browser download is not used)")

# Everything visible on the page whose box reaches past the viewport's right (or left) edge,
# unless it is inside a box that scrolls or clips and itself fits (a long line of JSON that
# scrolls inside its own box is fine; one that widens the page is not).
OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const found = [];
  if (document.documentElement.scrollWidth > vw) {
    found.push('document scrollWidth ' + document.documentElement.scrollWidth + ' > ' + vw);
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (!el.checkVisibility({ visibilityProperty: true })) continue;
    if (r.right <= vw + 0.5 && r.left >= -0.5) continue;
    let clipped = false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX !== 'visible') {
        const box = a.getBoundingClientRect();
        clipped = box.right <= vw + 0.5 && box.left >= -0.5;
        break;
      }
    }
    if (!clipped) {
      found.push(name(el) + ' [' + Math.round(r.left) + ', ' + Math.round(r.right) + ']');
    }
  }
  return found.slice(0, 20);
}"""


@dataclass
class Session:
    page: Page
    web: Web
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # requests to hosts other than localhost

    async def shot(self, name: str) -> None:
        """The whole conversation: the viewport grows by what the thread would scroll."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        page = self.page
        size = page.viewport_size or DESKTOP
        extra = await page.evaluate(
            "() => { const t = document.getElementById('thread');"
            " return Math.max(0, t.scrollHeight - t.clientHeight); }")
        if extra:
            await page.set_viewport_size({"width": size["width"],
                                          "height": min(size["height"] + int(extra), 4000)})
        try:
            await page.screenshot(path=str(SHOTS / f"{name}.png"))
        finally:
            if extra:
                await page.set_viewport_size(size)

    async def submit(self, goal: str, *, pre_approve: bool = False) -> None:
        if pre_approve:
            await self.page.check("#pre-approve")
        await self.page.fill("#goal-input", goal)
        await self.page.press("#goal-input", "Enter")
        await expect(self.page.locator("#thread-id")).to_have_text(re.compile(r"^goal-"))
        if pre_approve:
            await self.page.uncheck("#pre-approve")

    async def goal_id(self) -> str:
        return (await self.page.locator("#thread-id").text_content()) or ""

    def step(self, step_id: str) -> Locator:
        return self.page.locator(f'.plan-card .step[data-step-id="{step_id}"]')

    async def state(self, goal_id: str | None = None) -> dict[str, Any]:
        resp = await self.web.http.get(f"/api/goals/{goal_id or await self.goal_id()}")
        data: dict[str, Any] = resp.json()
        return data

    async def overflow(self) -> list[str]:
        """What is wider than the viewport (empty when the page fits)."""
        found: list[str] = await self.page.evaluate(OVERFLOW_JS)
        return found


@asynccontextmanager
async def open_session(browser: Browser, web: Web, *, viewport: dict[str, int] = DESKTOP,
                       phone: bool = False, login: bool = True) -> AsyncIterator[Session]:
    """A new browser context on the app (a phone: touch, mobile viewport), logged in as the
    admin; on leaving it, no console error, no dialog and no request beyond localhost."""
    context = await browser.new_context(viewport=viewport, has_touch=phone, is_mobile=phone,
                                        device_scale_factor=2 if phone else 1)
    page = await context.new_page()
    page.set_default_timeout(20_000)
    session = Session(page, web)

    async def guard(route: Route) -> None:  # offline: nothing may leave this machine
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            session.outside.append(route.request.url)
            await route.abort()

    async def on_dialog(dialog: Dialog) -> None:  # an alert() would mean injected script ran
        session.dialogs.append(dialog.message)
        await dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and EXPECTED_422 not in message.text:
            session.errors.append(message.text)

    await context.route("**/*", guard)
    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: session.errors.append(str(exc)))
    page.on("console", on_console)
    if login:  # the session cookie, set in this browser context
        answer = await context.request.post(f"{web.url}/api/login", data={"token": TOKEN})
        assert answer.ok, await answer.text()
    try:
        yield session
    finally:
        await context.close()
    assert session.errors == [], session.errors
    assert session.dialogs == [], session.dialogs
    assert session.outside == [], f"requests left localhost: {session.outside}"


async def page_shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"))
