"""A step whose first attempt failed in a local group runs the attempts left on its own, on
the schedule Temporal's retry policy would have kept (agents/plan_runner.py)."""

from __future__ import annotations

from datetime import timedelta

from agents.plan_runner import after_first_attempt, tool_retry_policy
from planner.retry import RetrySpec


def test_the_rest_goes_on_where_the_first_attempt_left_off() -> None:
    rest, wait = after_first_attempt(RetrySpec(max_attempts=4, initial_interval_s=1.0,
                                               backoff=3.0, max_interval_s=30.0), None)
    assert wait == timedelta(seconds=1)  # the wait before the second attempt
    assert rest == RetrySpec(max_attempts=3, initial_interval_s=3.0, backoff=3.0,
                             max_interval_s=30.0)  # then 3 s, 9 s: as 1, 3, 9 s before
    policy = tool_retry_policy(rest)
    assert policy.maximum_attempts == 3 and policy.initial_interval == timedelta(seconds=3)


def test_waits_never_pass_the_maximum_and_a_tools_own_delay_wins() -> None:
    rest, wait = after_first_attempt(RetrySpec(max_attempts=2, initial_interval_s=20.0,
                                               backoff=2.0, max_interval_s=25.0), 7.5)
    assert wait == timedelta(seconds=7.5), "the tool asked for this delay (rate limit)"
    assert (rest.max_attempts, rest.initial_interval_s) == (1, 25.0)
