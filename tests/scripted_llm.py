"""pytest fixtures around :mod:`jarvis_planner.testing` (the scripted OpenAI-compatible server)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from activities.llm import forget_working_modes
from jarvis_planner.testing import UNROUTABLE_BASE_URL, ScriptedLLM
from jarvis_planner.testing.scripted_llm import _PROVIDER_ENV


@pytest.fixture
def no_real_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-test form of :func:`forbid_real_llm` (restored after the test)."""
    monkeypatch.setenv("OPENAI_BASE_URL", UNROUTABLE_BASE_URL)
    for name in [*_PROVIDER_ENV, *(k for k in os.environ if k.startswith("JARVIS_LLM_"))]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def scripted_llm() -> Iterator[ScriptedLLM]:
    """A started ScriptedLLM; at teardown, extra calls or unconsumed steps fail the test."""
    forget_working_modes()  # ports get reused: never inherit another test's remembered mode
    with ScriptedLLM() as server:
        yield server
        server.assert_done()


@pytest.fixture
def scripted_llm_factory() -> Iterator[Callable[..., ScriptedLLM]]:
    """Start more scripted servers: ``make(script=None, model=..., embedding_dim=...)``; each
    is stopped and ``assert_done()``-checked at teardown."""
    forget_working_modes()
    servers: list[ScriptedLLM] = []

    def make(*args: Any, **kwargs: Any) -> ScriptedLLM:
        servers.append(ScriptedLLM(*args, **kwargs).start())
        return servers[-1]

    yield make
    for server in servers:
        server.stop()
    problems = [p for s in servers for p in s.problems()]
    if problems:
        raise AssertionError("scripted LLM: script not honoured:\n  " + "\n  ".join(problems))
