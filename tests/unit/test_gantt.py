"""The timeline (Gantt) renderer on hand-built states, and why goals without a run have none."""

from __future__ import annotations

from pathlib import Path

import pytest

from jarvis_planner.cli.timelines import default_path, no_run_reason
from jarvis_planner.gantt import (
    STATUS_COLOURS,
    duration,
    png_available,
    render_png,
    render_svg,
    tick_label,
    ticks,
)
from planner.contracts.goal_flow import Decision, GoalState
from planner.contracts.plan_run import RunState, StepError
from planner.scheduler import StepStatus
from planner.settings import Settings
from tests.svg import SVG_NS, T0, bar, parse, span_of, step, steps_of, texts, title_of


def fan_state() -> RunState:
    return RunState(goal="fan out, fan in", status="succeeded", steps=[
        step("who", StepStatus.SUCCEEDED, 0.0, 0.1, tool="profile"),
        step("a", StepStatus.SUCCEEDED, 0.1, 0.4, tool="slow_span"),
        step("b", StepStatus.SUCCEEDED, 0.1, 0.7, tool="slow_span", attempts=3),
        step("c", StepStatus.SUCCEEDED, 0.12, 0.42, tool="slow_span"),
        step("sum", StepStatus.SUCCEEDED, 0.7, 0.8),
    ])


# --- the renderer --------------------------------------------------------------------------------


def test_rows_in_plan_order_with_bars_ordered_and_proportional() -> None:
    root = parse(render_svg(fan_state()))
    groups = steps_of(root)
    assert list(groups) == ["who", "a", "b", "c", "sum"]
    rects = {k: bar(g) for k, g in groups.items()}
    x = {k: float(r.attrib["x"]) for k, r in rects.items() if r is not None}
    w = {k: float(r.attrib["width"]) for k, r in rects.items() if r is not None}
    assert x["who"] < x["a"] == x["b"] < x["c"] < x["sum"]
    assert x["a"] == pytest.approx(x["who"] + w["who"], abs=0.2)  # a starts as who ends
    assert w["b"] / w["a"] == pytest.approx(0.6 / 0.3, rel=0.01)
    assert w["sum"] / w["who"] == pytest.approx(1.0, rel=0.01)
    assert span_of(groups["b"]) == (0.1, 0.7)
    assert root.attrib["data-makespan"] == "0.800"
    assert title_of(root) == "fan out, fan in · succeeded · makespan 800 ms"
    assert groups["b"].attrib["data-attempts"] == "3"
    assert "600 ms · 3 attempts" in texts(groups["b"], "bar-note")
    assert texts(groups["a"], "bar-note") == ["300 ms"]  # one attempt: not mentioned


def test_untrusted_text_is_escaped_and_the_svg_is_self_contained() -> None:
    evil = '<script>alert("x")</script>'
    state = RunState(goal=f"goal {evil} & </svg>\x00\x1b", status="failed", steps=[
        step(evil, StepStatus.FAILED, 0, 1, tool='t"ool<&>', error=f"boom {evil} ]]>"),
        step("next", StepStatus.BLOCKED, tool=evil),
    ], error=StepError(step_id=evil, tool="t", type="ToolError", message=evil))
    svg = render_svg(state, title=f"title {evil}", subtitle=evil)
    root = parse(svg)
    assert all(not el.tag.endswith("script") for el in root.iter())
    assert "<script" not in svg and svg.count("</svg>") == 1
    for banned in ("href", "url(", "@import", "@font-face", "onload", "onclick", "<style"):
        assert banned not in svg
    assert list(steps_of(root)) == [evil, "next"]  # ids survive as attribute values
    everything = "\n".join([*texts(root), title_of(root)])
    assert f"title {evil}" in everything and f"{evil} · t\"ool<&>" in everything
    assert f"next · {evil}" in everything


def test_each_status_has_its_colour_and_a_legend_entry() -> None:
    state = RunState(goal="all of them", status="running", steps=[
        step("ok", StepStatus.SUCCEEDED, 0, 1),
        step("bad", StepStatus.FAILED, 0.5, 1.5, error="nope"),
        step("busy", StepStatus.RUNNING, 1, None),
        step("skip", StepStatus.SKIPPED),
        step("block", StepStatus.BLOCKED),
        step("stop", StepStatus.CANCELLED),
        step("wait", StepStatus.PENDING),
    ])
    root = parse(render_svg(state))
    assert len(set(STATUS_COLOURS.values())) == len(STATUS_COLOURS)
    for sid, group in steps_of(root).items():
        status = StepStatus(group.attrib["data-status"])
        rect = bar(group)
        if rect is not None:
            assert rect.attrib["fill"] == STATUS_COLOURS[status], sid
        else:
            note = next(t for t in group.iter(f"{SVG_NS}text")
                        if t.attrib.get("class") == "not-started")
            assert note.attrib["fill"] == STATUS_COLOURS[status], sid
            assert note.text == f"{status.value} (not started)"
    legend = {g.attrib["data-status"]: g for g in root.iter(f"{SVG_NS}g")
              if g.attrib.get("class") == "legend-item"}
    assert list(legend) == ["succeeded", "failed", "running", "skipped", "blocked", "cancelled",
                            "pending"]
    for name, item in legend.items():
        swatch = item.find(f"{SVG_NS}rect")
        assert swatch is not None and swatch.attrib["fill"] == STATUS_COLOURS[StepStatus(name)]


def test_steps_that_never_started_are_empty_rows() -> None:
    state = RunState(goal="stopped", status="failed", steps=[
        step("bad", StepStatus.FAILED, 0, 0.2, error="division by zero"),
        step("after", StepStatus.BLOCKED),
        step("other", StepStatus.CANCELLED),
    ], error=StepError(step_id="bad", tool="calc", type="ToolError", message="division by zero"))
    root = parse(render_svg(state))
    groups = steps_of(root)
    assert bar(groups["after"]) is None and bar(groups["other"]) is None
    assert texts(groups["after"], "label") == ["after · calc"]
    assert "200 ms · failed · ToolError" in texts(groups["bad"], "bar-note")
    footer = texts(root, "error")
    assert footer and "step 'bad'" in footer[0] and "not run because of it: after" in footer[0]


def test_running_run_is_partial_and_deterministic() -> None:
    state = RunState(goal="in flight", status="running", steps=[
        step("done", StepStatus.SUCCEEDED, 0, 2),
        step("busy", StepStatus.RUNNING, 2, None, tool="slow_span"),
        step("next", StepStatus.PENDING),
    ])
    plain = render_svg(state)
    assert plain == render_svg(state), "same state, same picture"
    assert span_of(steps_of(parse(plain))["busy"]) == (2.0, 2.0)  # ends at the last known time
    later = render_svg(state, now=T0 + 5)
    assert later == render_svg(state, now=T0 + 5)
    root = parse(later)
    busy = steps_of(root)["busy"]
    assert span_of(busy) == (2.0, 5.0)
    assert bar(busy).attrib.get("stroke-dasharray")  # type: ignore[union-attr]
    assert texts(busy, "bar-note") == ["running, 3.00 s so far"]
    assert "partial: the run is still running" in texts(root, "subtitle")[0]
    assert root.attrib["data-makespan"] == "5.000"


def test_failed_step_without_recorded_end_is_drawn_open() -> None:
    # Both engines record no finished_at for a failed step: the bar must not claim a duration.
    state = RunState(goal="g", status="failed", steps=[
        step("slow", StepStatus.SUCCEEDED, 0, 1.5),
        step("bad", StepStatus.FAILED, 0.5, None, attempts=2, error="x"),
    ])
    group = steps_of(parse(render_svg(state)))["bad"]
    assert span_of(group) == (0.5, 1.5)
    assert texts(group, "bar-note") == ["failed · 2 attempts · end not recorded · ToolError"]


def test_nothing_started_and_no_steps() -> None:
    state = RunState(goal="cancelled early", status="cancelled",
                     steps=[step("a", StepStatus.CANCELLED)])
    root = parse(render_svg(state))
    assert "no step started" in title_of(root)
    assert bar(steps_of(root)["a"]) is None
    parse(render_svg(RunState(goal="empty", status="succeeded", steps=[])))


def test_ticks_and_durations() -> None:
    assert ticks(0.8) == (0.1, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    step_s, values = ticks(0.81)
    assert step_s == 0.2 and values[-1] == 1.0
    assert ticks(0.0) == (0.001, [0.0, 0.001])
    step_s, values = ticks(12.3)
    assert step_s == 2.0 and values[-1] == 14.0
    step_s, values = ticks(600)
    assert step_s == 120.0 and [tick_label(v, step_s) for v in values[:3]] == ["0", "2 min",
                                                                                 "4 min"]
    assert tick_label(0.2, 0.2) == "200 ms" and tick_label(14, 2) == "14 s"
    for makespan in (0.003, 0.25, 1, 7.5, 59, 61, 3599, 4000, 90000, 10**6):
        step_s, values = ticks(makespan)
        assert 2 <= len(values) <= 9 and values[-1] >= makespan
        assert values == sorted(values)
    assert [duration(s) for s in (0, 0.0002, 0.25, 0.9996, 1.5, 185, 7800)] == [
        "0 ms", "<1 ms", "250 ms", "1.00 s", "1.50 s", "3 min 5 s", "2 h 10 min"]


def test_png(tmp_path: Path) -> None:
    if not png_available():
        pytest.skip("resvg-py is not installed (PNG output is optional)")
    data = render_png(render_svg(fan_state()))
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000


def test_goals_without_a_run_say_why() -> None:
    gid = "goal-x-1"
    rejected = GoalState(goal="g", stage="rejected", decisions=[
        Decision(action="reject", by="bob", at="2024-01-01T00:00:00", reason="no tea today")])
    err = no_run_reason(gid, rejected)
    assert "rejected by bob: no tea today" in err.message and "no timeline" in err.message
    assert err.hint and f"jarvis goal {gid}" in err.hint
    assert "invalid" in no_run_reason(gid, GoalState(goal="g", stage="invalid")).message
    assert "expired" in no_run_reason(gid, GoalState(goal="g", stage="expired")).message
    assert "dry run" in no_run_reason(gid, GoalState(goal="g", stage="planned")).message
    waiting = no_run_reason(gid, GoalState(goal="g", stage="awaiting_approval"))
    assert "waits for approval" in waiting.message and "jarvis approve" in (waiting.hint or "")
    failed = no_run_reason(gid, GoalState(goal="g", stage="failed", message="no LLM endpoint"))
    assert "failed before any step ran: no LLM endpoint" in failed.message
    assert "still planning" in no_run_reason(gid, GoalState(goal="g", stage="planning")).message


def test_default_path_is_a_safe_file_name(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert default_path(settings, "plan-a-1") == settings.data_dir / "timelines" / "plan-a-1.svg"
    path = default_path(settings, "../../etc/passwd")
    assert path.parent == settings.data_dir / "timelines" and "/" not in path.name


