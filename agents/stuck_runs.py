"""A running goal or run whose workflow task fails on every attempt is stuck: the server retries
the task, and until its cause is fixed no worker can answer the ``state`` query (it waits while
an attempt runs; between attempts the server refuses it: "Workflow Task in failed state"). What
the client says instead: which failure, in which function, and what to do.

The causes seen here: workflow code that held its thread for 2 s (the SDK's deadlock detector:
a tool registered ``pure=True`` that is slow, since pure steps run inside the workflow), a
nondeterminism error (workflow code changed under a running workflow), or a bug in workflow
code.
"""

from __future__ import annotations

import re
from typing import Any

from temporalio.api.enums.v1 import WorkflowTaskFailedCause
from temporalio.client import WorkflowHandle

DEADLOCK = "TMPRL1101"  # the SDK's code for "workflow didn't yield within 2 second(s)"
NONDETERMINISM = "TMPRL1100"
_CAUSE = WorkflowTaskFailedCause
WORKER_CAUSES = (_CAUSE.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                 _CAUSE.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR)
_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


class Stuck(RuntimeError):
    """A running goal or run whose workflow task fails on every attempt."""


async def stuck(handle: WorkflowHandle[Any, Any], attempt: int) -> Stuck | None:
    """The error to raise for ``handle``'s workflow if its task's last outcome in the history is
    a failure (the server records the first of a row of failed attempts; ``attempt``: the
    pending task's attempt), naming the failure, where, and what to do; else None."""
    failure: Any = None
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_task_failed_event_attributes"):
            failed = event.workflow_task_failed_event_attributes
            # the worker's failures; not the server's own (a command that raced a new
            # signal, a reset), which the next attempt gets past
            failure = failed.failure if failed.cause in WORKER_CAUSES else None
        elif (event.HasField("workflow_task_completed_event_attributes")
              or event.HasField("workflow_task_timed_out_event_attributes")):
            failure = None
    if failure is None:
        return None
    message = failure.message
    where = _frame(failure.stack_trace, innermost_first=DEADLOCK in message)
    return Stuck(f"{handle.id} is stuck: its workflow task has failed {max(attempt - 1, 1)} "
                 f"time(s) and is retried, so no worker can answer for it; the last failure"
                 f"{f', in {where}' if where else ''}: {message.rstrip('.')}. "
                 f"{_advice(message)} (the worker's log has the whole traceback, and a worker "
                 "restarted with the fix picks the task up)")


def _frame(trace: str, *, innermost_first: bool) -> str:
    """The innermost frame of a failure's stack trace as ``function (file:line)``. A deadlock's
    trace lists the frames innermost first; an exception's, outermost first."""
    frames = _FRAME.findall(trace)
    if not frames:
        return ""
    path, line, function = frames[0] if innermost_first else frames[-1]
    return f"{function} ({path}:{line})"


def _advice(message: str) -> str:
    if DEADLOCK in message:
        return ("Workflow code held its thread for 2 s: a tool registered pure=True must be "
                "quick, since its steps run inside the workflow; register a slow one without "
                "pure=True (this run's step then fails as not installed on the worker, new runs "
                "call it as an activity), or cancel the run")
    if NONDETERMINISM in message:
        return ("The workflow code changed under this running workflow: run the worker "
                "version that started it (docs/versioning.md), or cancel the run")
    return "A bug in workflow code: fix it and restart the worker"
