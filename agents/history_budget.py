"""The history budget: a run or goal whose history grows large continues as new.

Temporal refuses a history past 51,200 events or 50 MB, and slows down well before. A plan of
thousands of steps, many retries or a long loop would get there, so the step driver asks
:func:`start_allowance` before starting steps: past the budget
(``ExecutePlanInput.history_events_limit``, settings' ``JARVIS_HISTORY_EVENTS_LIMIT``, or
Temporal's own suggestion) no more steps start; once the running ones finished, the workflow
continues as new with a :class:`RunResume` (state, outputs, event log). The workflow id stays,
so queries, ``jarvis goal ID`` and results (which follow the run chain) keep working.
Deterministic: the history length comes from the workflow task being processed.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from agents.step_driver import StepDriver
    from planner.contracts.events import EventLog
    from planner.contracts.plan_run import RunResume

# History events one step adds, at most: scheduled, started, completed and the workflow task
# (scheduled, started, completed) that hears of it; local activities and timers take fewer.
EVENTS_PER_STEP = 6
# Events kept free for the end of a run (its last workflow task, the continue-as-new)
RESERVE = 20
# Events carried to the next run: a follower further behind resynchronises from the state
CARRIED_EVENTS = 2_000


def start_allowance(limit: int | None, running: int) -> int | None:
    """How many more steps may start in this run (None: no budget, the run was recorded
    before it or has no limit)."""
    if limit is None:
        return None
    info = workflow.info()
    if info.is_continue_as_new_suggested():
        return 0
    free = limit - RESERVE - info.get_current_history_length()
    return max(0, free // EVENTS_PER_STEP - running)


def run_resume(driver: StepDriver, log: EventLog) -> RunResume:
    """What the next run needs to go on where ``driver`` paused."""
    before = driver.inp.resume.continued if driver.inp.resume is not None else 0
    return RunResume(state=driver.state, outputs=driver.outputs,
                     over_budget=driver.over_budget, continued=before + 1,
                     log=log.snapshot(CARRIED_EVENTS))


def log_continue(kind: str, resume: RunResume) -> None:
    """A line in the worker's log when a workflow continues as new (not during replay)."""
    info = workflow.info()
    done = sum(1 for s in resume.state.steps if s.status.finished)
    workflow.logger.info(
        "%s %s continues as new after %d history events (%d of %d steps finished, run %d)",
        kind, info.workflow_id, info.get_current_history_length(), done,
        len(resume.state.steps), resume.continued + 1,
        extra={"jarvis": {"event": "continue_as_new", "workflow_id": info.workflow_id,
                          "history_events": info.get_current_history_length()}})
