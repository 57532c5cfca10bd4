"""``agents.bounded_query.ask`` lets a caller's cancellation through even when the answer lands
in the same moment (Python 3.11's ``asyncio.wait_for`` returns the answer then and loses the
cancellation: a follower polling in a loop, cancelled by the review prompt on Ctrl-C, went on
polling and the command never exited). The stand-in handle is asyncio only: what is tested is
the cancellation, not Temporal (tests/workflow/test_state_query.py asks real workflows)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agents.bounded_query import ask


class Answering:
    """Answers a query when the test sets ``answer``."""

    def __init__(self) -> None:
        self.answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def query(self, name: str, *args: Any, result_type: type[int]) -> int:
        return await self.answer


async def test_a_cancel_as_the_answer_lands_is_not_lost() -> None:
    handle = Answering()
    asking = asyncio.ensure_future(ask(handle, "state", int, wait_s=5))  # type: ignore[arg-type]
    await asyncio.sleep(0)  # it waits for the answer now
    handle.answer.set_result(7)
    asking.cancel()  # in the same moment
    with pytest.raises(asyncio.CancelledError):
        await asking


async def test_an_unanswered_query_times_out() -> None:
    handle = Answering()
    with pytest.raises(TimeoutError):
        await ask(handle, "state", int, wait_s=0.05)  # type: ignore[arg-type]


async def test_an_answer_in_time_is_returned() -> None:
    handle = Answering()
    handle.answer.set_result(3)
    assert await ask(handle, "state", int, wait_s=5) == 3  # type: ignore[arg-type]
