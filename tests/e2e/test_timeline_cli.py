"""`jarvis timeline` on real runs and goals (real dev server, the command as a subprocess)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.client import Client

from activities import default_registry
from agents.client import JarvisClient
from agents.worker import create_worker
from jarvis_planner.gantt import png_available
from planner.plan import Plan
from planner.preparation import prepare
from planner.scheduler import StepStatus
from planner.settings import Settings
from planner.tools import ToolRegistry
from tests.paths import ARTIFACTS, ROOT
from tests.plans import add_test_tools, fan_plan, open_gate, overlap
from tests.svg import bar, parse, span_of, steps_of, texts

# --- `jarvis timeline` on real runs --------------------------------------------------------------

def jarvis_timeline(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JARVIS_DATA_DIR": str(settings.data_dir),
           "JARVIS_TEMPORAL_ADDRESS": settings.temporal_address,
           "JARVIS_TASK_QUEUE": settings.task_queue, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "jarvis_planner.cli", "timeline", *args], env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


async def timeline_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The command in a thread, so an in-process worker keeps serving meanwhile."""
    return await asyncio.to_thread(jarvis_timeline, settings, *args)


@pytest.fixture
def registry() -> ToolRegistry:
    return add_test_tools(default_registry())


async def test_cli_timeline_of_a_fan_out_run(client: Client, settings: Settings,
                                             registry: ToolRegistry, tmp_path: Path) -> None:
    engine = JarvisClient(client, settings)
    async with create_worker(client, settings, registry):
        run_id = await engine.start_plan(prepare(fan_plan(), registry, settings))
        state = await engine.plan_result(run_id)
        assert state.status == "succeeded", state.failure_report()
    proc = await timeline_cli(settings, run_id)
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip())
    assert path == settings.data_dir / "timelines" / f"{run_id}.svg" and path.is_file()
    svg = path.read_text()
    root = parse(svg)
    groups = steps_of(root)
    assert list(groups) == ["who", "a", "b", "c", "sum", "note", "back"]
    assert all(g.attrib["data-status"] == "succeeded" for g in groups.values())
    spans = [span_of(groups[s]) for s in ("a", "b", "c")]
    assert overlap(spans), f"parallel steps must overlap in the picture: {spans}"
    assert all(span_of(groups["who"])[1] <= start for start, _ in spans)
    assert span_of(groups["sum"])[0] >= max(end for _, end in spans[:2])
    assert run_id in texts(root, "subtitle")[0]
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(path, ARTIFACTS / "timeline-example.svg")

    out = tmp_path / "pics" / "fan.svg"
    proc = await timeline_cli(settings, run_id, "--out", str(out), "--png")
    if png_available():
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == [str(out), str(out.with_suffix(".png"))]
        assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
        shutil.copyfile(out.with_suffix(".png"), ARTIFACTS / "timeline-example.png")
        named = tmp_path / "named.png"  # a .png --out: the PNG there, the SVG beside it
        proc = await timeline_cli(settings, run_id, "--out", str(named))
        assert proc.stdout.split() == [str(named.with_suffix(".svg")), str(named)], proc.stderr
    else:
        assert proc.returncode == 1 and "resvg-py" in proc.stderr, proc.stderr
    assert out.read_text() == svg, "the same finished run draws the same picture"


async def test_cli_timeline_of_a_running_run_is_partial(client: Client, settings: Settings,
                                                        registry: ToolRegistry) -> None:
    held = open_gate(f"timeline-{settings.task_queue}")
    plan = Plan.model_validate({"goal": "slow", "steps": [
        {"id": "quick", "tool": "calc", "args": {"expression": "1 + 1"}},
        {"id": "slow", "tool": "gate", "args": {"name": f"timeline-{settings.task_queue}"},
         "deps": ["quick"]},
        {"id": "after", "tool": "calc", "args": {"expression": "2"}, "deps": ["slow"]},
    ]})
    engine = JarvisClient(client, settings)
    async with create_worker(client, settings, registry):
        run_id = await engine.start_plan(prepare(plan, registry, settings))
        await held.wait_entered()  # the step runs now, and stays running until released
        seen = await engine.plan_state(run_id)
        assert seen.step("slow").status is StepStatus.RUNNING
        proc = await timeline_cli(settings, run_id)
        assert proc.returncode == 0, proc.stderr
        assert "partial" in proc.stderr
        groups = steps_of(parse(Path(proc.stdout.strip()).read_text()))
        assert [g.attrib["data-status"] for g in groups.values()] == ["succeeded", "running",
                                                                     "pending"]
        assert span_of(groups["slow"])[1] > span_of(groups["slow"])[0]
        assert bar(groups["after"]) is None
        held.release()
        assert (await engine.plan_result(run_id)).status == "succeeded"


async def test_cli_timeline_of_goals_and_unknown_ids(client: Client, settings: Settings) -> None:
    offline = settings.model_copy(update={"embedding_backend": "hashing"})
    goals = JarvisClient(client, offline)
    async with create_worker(client, offline, default_registry()):
        ran = await goals.submit("remember that the car needs new tyres in March",
                                 policy="approve-all")
        assert (await goals.result(ran)).stage == "succeeded"
        failed = await goals.submit("book me a table for two at an Italian restaurant")
        assert (await goals.result(failed)).stage == "failed"
    proc = await timeline_cli(settings, ran)
    assert proc.returncode == 0, proc.stderr
    root = parse(Path(proc.stdout.strip()).read_text())
    assert steps_of(root) and all(g.attrib["data-status"] == "succeeded"
                                  for g in steps_of(root).values())
    assert f"{ran} (succeeded)" in texts(root, "subtitle")[0]

    proc = await timeline_cli(settings, failed)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "failed before any step ran" in proc.stderr and "no LLM endpoint" in proc.stderr
    assert f"jarvis goal {failed}" in proc.stderr

    proc = await timeline_cli(settings, "plan-no-such-run")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "no plan run or goal with id 'plan-no-such-run'" in proc.stderr
    assert "jarvis list" in proc.stderr
