"""Every query a client asks a workflow is bounded in time by the client itself.

A query waits for a worker to answer it. With no worker polling, or when the workflow closes as
the query arrives (a worker letting the finished run go can drop it), the answer may never
come: the ``rpc_timeout`` of the call did not hold (asked for 3 s, it returned after 12.5 s in
one probe), and without it the call hung until the web client gave up. So every ``state`` and
``events`` query goes through :func:`ask`, which stops waiting after ``wait_s`` with
``TimeoutError``; what the caller then does (look at the workflow again, report no answer,
count the goal as not waiting) is its own choice.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from temporalio.client import WorkflowHandle, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError

T = TypeVar("T")
QUERY_WAIT_S = 5.0  # the default: a worker answers a query in milliseconds when it answers
# every way a query goes unanswered: no answer in time, no worker or no workflow (RPCError),
# the workflow's handler failed, or the workflow was not in a state to answer
UNANSWERED = (TimeoutError, RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError)


async def ask(handle: WorkflowHandle[Any, Any], query: str, result_type: type[T],
              arg: Any = None, *, wait_s: float = QUERY_WAIT_S) -> T:
    """``query``'s answer from ``handle``'s workflow (with ``arg`` if not None), or
    ``TimeoutError`` after ``wait_s`` seconds. RPC and query failures pass through as the SDK
    raises them (``UNANSWERED`` names them all)."""
    # asyncio.timeout, not wait_for: Python 3.11's wait_for returns the answer when the caller
    # is cancelled in the moment the answer lands, losing the cancellation (a follower polling
    # in a loop then never stops); a timeout scope lets the cancellation through
    async with asyncio.timeout(wait_s):
        if arg is None:
            answer: T = await handle.query(query, result_type=result_type)
        else:
            answer = await handle.query(query, arg, result_type=result_type)
    return answer
