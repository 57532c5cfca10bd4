"""The schedules view in real headless Chromium: the list with next run and last outcome, pause,
resume and "Run now", a link from the last run to its goal; what a schedule shows is text, never
markup; people who did not approve a schedule neither see nor touch it, and the writes keep the
cross-site refusals of the approve routes."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from jarvis_planner.web.tokens import UserStore
from planner.plan import Plan
from tests.e2e.browser_kit import Session, needs_chromium

pytestmark = needs_chromium

GOAL = "Save the line <img src=x onerror=alert(1)> to tea.txt"
PLAN = Plan.model_validate({
    "goal": GOAL,
    "steps": [{"id": "write", "tool": "write_file",
               "args": {"path": "tea.txt", "text": "Green tea is calming"}}],
})


async def test_schedules_view_pause_resume_and_run_now(ui: Session) -> None:
    page, jarvis = ui.page, ui.web.jarvis
    sid = await jarvis.create_schedule(PLAN, approve=True, by="web:admin", cron=["0 8 * * *"])
    try:
        await page.click("#open-schedules")
        row = page.locator(f'.schedule-row[data-schedule-id="{sid}"]')
        await expect(row.locator(".schedule-goal")).to_have_text(GOAL)  # as text, not markup
        await expect(row).to_contain_text("cron 0 8 * * *")
        await expect(row).to_contain_text("no run yet")
        await expect(row.locator(".schedule-next time")).to_have_count(1)
        await expect(page.locator("#thread")).to_be_hidden()
        await ui.shot("60-schedules")

        await row.locator(".schedule-toggle").click()
        await expect(row.locator(".schedule-state")).to_have_text("paused: paused by web:admin")
        await expect(row.locator(".schedule-toggle")).to_have_text("Resume")
        assert (await jarvis.describe_schedule(sid)).paused
        await row.locator(".schedule-toggle").click()
        await expect(row.locator(".schedule-state")).to_have_text("active")
        assert not (await jarvis.describe_schedule(sid)).paused

        await row.locator(".schedule-trigger").click()
        await expect(row.locator(".schedule-last .badge")).to_have_text("succeeded",
                                                                        timeout=20_000)
        goal_id = (await jarvis.describe_schedule(sid)).recent[-1].goal_id
        await row.locator(".schedule-last").click()
        await expect(page.locator("#thread-id")).to_have_text(goal_id)
        await expect(page.locator("#schedules-panel")).to_be_hidden()
        await expect(page.locator(".plan-card .source")).to_have_text("approved for its schedule")
    finally:
        await jarvis.delete_schedule(sid)


async def test_only_the_approver_or_an_admin_sees_and_acts(ui: Session) -> None:
    web = ui.web
    sid = await web.jarvis.create_schedule(PLAN, approve=True, by="web:admin",
                                           cron=["0 8 * * *"], paused=True)
    token = UserStore.of(web.settings).add("alice")
    try:
        async with httpx.AsyncClient(base_url=web.url, timeout=30, headers={
                "Authorization": f"Bearer {token}"}) as alice:
            listed = await alice.get("/api/schedules")
            assert listed.status_code == 200 and sid not in [s["id"] for s in listed.json()]
            refused = await alice.post(f"/api/schedules/{sid}/trigger", json={})
            assert refused.status_code == 404 and refused.json()["error"] == "no such schedule"
        form = await web.http.post(f"/api/schedules/{sid}/resume", content="note=x",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert form.status_code == 415, "a cross-site form cannot resume a schedule"
        other = await web.http.post(f"/api/schedules/{sid}/resume", json={},
                                    headers={"Origin": "http://evil.example"})
        assert other.status_code == 403
        assert (await web.jarvis.describe_schedule(sid)).paused, "nothing was resumed"
        unknown = await web.http.post("/api/schedules/sched-nope/pause", json={})
        assert unknown.status_code == 404
        mine = await web.http.get("/api/schedules")
        assert next(s for s in mine.json() if s["id"] == sid)["next_run"] is None  # paused
    finally:
        await web.jarvis.delete_schedule(sid)
