"""Record histories of real runs into tests/histories (replayed by
tests/unit/test_recorded_histories.py). Each recording starts a private dev server and a worker,
runs the path for real, and writes the workflow's history as JSON:

    PYTHONPATH=$PWD .venv/bin/python -m tests.record_histories goal-scheduled goal-scheduled-review

Record a path once, when it is new; never re-record an existing file (it stands for what older
code did, which today's code must still replay).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from temporalio.client import Client

from activities import default_registry
from agents.client import JarvisClient
from agents.connection import connect
from agents.devserver import free_port, start_dev_server, stop_process
from agents.worker import create_worker
from planner.plan import Plan
from planner.settings import Settings
from planner.tools import ToolRegistry
from tests.paths import HISTORIES

PLAN = Plan.model_validate({
    "goal": "Save the line Green tea is calming to tea.txt",
    "steps": [{"id": "write", "tool": "write_file",
               "args": {"path": "tea.txt", "text": "Green tea is calming"}}],
    "outputs": {"path": "${write.path}"},
})


async def _scheduled_goal(jarvis: JarvisClient) -> str:
    """The goal a schedule's trigger starts: the approved plan, run without planning."""
    sid = await jarvis.create_schedule(PLAN, approve=True, by="cli:recorder",
                                       cron=["0 8 * * *"], schedule_id="sched-rec-tea")
    await jarvis.trigger_schedule(sid)
    goal_id = await _first_run(jarvis, sid)
    assert (await jarvis.result(goal_id)).stage == "succeeded"
    await jarvis.delete_schedule(sid)
    return goal_id


async def _scheduled_goal_review(jarvis: JarvisClient) -> str:
    """A scheduled goal whose plan no longer validates (its tool is gone): it waits for review
    and is rejected."""
    sid = await jarvis.create_schedule(PLAN, approve=True, by="cli:recorder",
                                       cron=["0 8 * * *"], schedule_id="sched-rec-review")
    await jarvis.trigger_schedule(sid)
    goal_id = await _first_run(jarvis, sid)
    state = await jarvis.wait_for_review(goal_id)
    assert state.stage == "awaiting_approval", state.stage
    await jarvis.reject(goal_id, "cli:recorder", "the tool is gone")
    assert (await jarvis.result(goal_id)).stage == "rejected"
    await jarvis.delete_schedule(sid)
    return goal_id


async def _first_run(jarvis: JarvisClient, sid: str) -> str:
    for _ in range(300):
        view = await jarvis.describe_schedule(sid)
        if view.recent:
            return view.recent[0].goal_id
        await asyncio.sleep(0.1)
    raise RuntimeError(f"schedule {sid} started no goal")


def _without(tool: str) -> ToolRegistry:
    registry = ToolRegistry()
    for t in default_registry():
        if t.name != tool:
            registry.register(t)
    return registry


Recording = tuple[Callable[[JarvisClient], Awaitable[str]], Callable[[], ToolRegistry]]
RECORDINGS: dict[str, Recording] = {
    "goal-scheduled": (_scheduled_goal, default_registry),
    "goal-scheduled-review": (_scheduled_goal_review, lambda: _without("write_file")),
}


async def record(name: str, client: Client, data_dir: Path, address: str) -> Path:
    run, registry = RECORDINGS[name]
    settings = Settings(data_dir=data_dir / name, temporal_address=address,
                        task_queue=f"rec-{uuid.uuid4().hex[:6]}", embedding_backend="hashing")
    async with create_worker(client, settings, registry()):
        jarvis = JarvisClient(client, settings)
        goal_id = await run(jarvis)
        history = await jarvis.handle(goal_id).fetch_history()
    path = HISTORIES / f"{name}.json"
    if path.exists():
        raise FileExistsError(f"{path} exists: recorded histories are never re-recorded")
    path.write_text(history.to_json())
    return path


async def main(names: list[str]) -> None:
    unknown = [n for n in names if n not in RECORDINGS]
    if unknown or not names:
        raise SystemExit(f"record one of: {', '.join(RECORDINGS)}")
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        proc = start_dev_server(Path(folder) / "temporal.sqlite", port,
                                log_file=Path(folder) / "server.log")
        try:
            client = await connect(f"127.0.0.1:{port}")
            for name in names:
                print(await record(name, client, Path(folder), f"127.0.0.1:{port}"))
        finally:
            stop_process(proc)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
