"""Fixtures of the browser tests (tests/e2e/test_browser*.py): headless Chromium, a Temporal dev
server of each test module's own (see tests/workflow/test_web.py: a goal of another module's
task queue would slow the goal list), the web stack, and a logged-in page session (`ui`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright, expect
from temporalio.client import Client

from agents.connection import connect
from tests.e2e.browser_kit import ARGS, CHROMIUM, Session, open_session
from tests.processes import private_dev_server
from tests.workflow.test_web import Web, offline_settings, web_stack


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                            args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="module")
def browser_temporal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from private_dev_server(tmp_path_factory)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser_client(browser_temporal: str) -> Client:
    return await connect(browser_temporal)


@pytest.fixture
async def web(browser_client: Client, browser_temporal: str, task_queue: str, tmp_path: Path
              ) -> AsyncIterator[Web]:
    offline = offline_settings(tmp_path / "data", browser_temporal, task_queue)
    async with web_stack(browser_client, offline) as stack:
        yield stack


@pytest.fixture
async def ui(browser: Browser, web: Web) -> AsyncIterator[Session]:
    """The chat page at 1280x860, logged in as the admin, showing the welcome screen."""
    async with open_session(browser, web) as session:
        await session.page.goto(web.url)
        await expect(session.page.locator("#welcome")).to_be_visible()
        yield session
