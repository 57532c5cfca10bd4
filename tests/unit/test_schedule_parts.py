"""The pure parts of schedules: durations and times as the CLI reads them, overlap policies by
name, how a schedule's times are described, and the ids of a schedule's goals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import ScheduleOverlapPolicy

from agents.schedules import OVERLAPS, describe_when, goal_id_prefix, overlap_policy
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.schedule_plan import duration, moment


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800),
                                               ("1h", 3600), ("1.5d", 129_600),
                                               ("500ms", 0.5), (" 2 h ", 7200)])
def test_durations(text: str, seconds: float) -> None:
    assert duration(text, "--every") == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["soon", "0", "-1h", "1w", "", "h"])
def test_bad_durations_say_what_to_write(text: str) -> None:
    with pytest.raises(CliError) as caught:
        duration(text, "--every")
    assert caught.value.message == f"--every {text!r} is not a duration"
    assert "1h" in (caught.value.hint or "")


def test_times_without_a_zone_are_local() -> None:
    assert moment("2026-12-01T08:00+00:00", "--start") == datetime(2026, 12, 1, 8, tzinfo=UTC)
    local = moment("2026-12-01T08:00", "--start")
    assert local.tzinfo is not None and local == datetime(2026, 12, 1, 8).astimezone(UTC)
    with pytest.raises(CliError, match="is not a time"):
        moment("yesterday", "--start")


def test_overlap_policies_by_name() -> None:
    assert overlap_policy("skip") == ScheduleOverlapPolicy.SKIP
    assert overlap_policy("buffer_one") == ScheduleOverlapPolicy.BUFFER_ONE
    assert {overlap_policy(n).name.lower() for n in OVERLAPS} == set(OVERLAPS)
    with pytest.raises(ValueError, match="unknown overlap policy 'sometimes'"):
        overlap_policy("sometimes")


def test_when_and_goal_ids() -> None:
    assert describe_when(["0 8 * * *"], timedelta(hours=1)) == "cron 0 8 * * *; every 1h"
    assert describe_when([], timedelta(seconds=90)) == "every 90s"
    assert describe_when([], timedelta(milliseconds=500)) == "every 0.5s"
    assert goal_id_prefix("sched-tea-1a2b") == "goal-sched-tea-1a2b"
    assert goal_id_prefix("daily") == "goal-sched-daily"
