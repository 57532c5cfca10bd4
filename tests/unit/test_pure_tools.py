"""Pure tools: what may declare itself pure, the process table workflows read, one call."""

from __future__ import annotations

import asyncio

import pytest

from activities import default_registry
from activities.execution import execute_call, tool_runtime
from planner.contracts.plan_run import RefAt, ToolCall
from planner.pure_tools import PureToolClash, call_pure, install, installed
from planner.settings import Settings
from planner.step_io import InvalidToolArguments
from planner.tools import Risk, ToolContext, ToolRegistry, tool_from_function


def twice(n: int) -> int:
    return 2 * n


def test_only_plain_functions_without_effects_may_be_pure() -> None:
    async def fetch(url: str) -> str:
        return url

    def with_context(path: str, ctx: ToolContext) -> str:
        return path

    with pytest.raises(TypeError, match="fetch cannot be pure: it is async"):
        tool_from_function(fetch, pure=True)
    with pytest.raises(TypeError, match="takes a ToolContext \\('ctx'\\)"):
        tool_from_function(with_context, pure=True)
    with pytest.raises(TypeError, match="is side-effecting"):
        tool_from_function(twice, pure=True, risk=Risk.SIDE_EFFECTING)
    assert tool_from_function(twice, pure=True).pure
    assert default_registry()["calc"].pure and not default_registry()["read_file"].pure


def test_the_table_refuses_another_function_under_a_pure_name() -> None:
    def other(n: int) -> int:
        return 3 * n

    mine, theirs = ToolRegistry(), ToolRegistry()
    mine.register(tool_from_function(twice, name="twice_unit", pure=True))
    theirs.register(tool_from_function(other, name="twice_unit", pure=True))
    install(mine)
    install(mine)  # the same function again (a second worker in one process): fine
    with pytest.raises(PureToolClash, match=r"'twice_unit' is already installed.*twice"):
        install(theirs)
    found = installed("twice_unit")
    assert found is not None and found.fn is twice
    assert installed("read_file") is None


def test_a_pure_call_matches_the_activity_path(tmp_path: object) -> None:
    registry = default_registry()
    calc = registry["calc"]
    runtime = tool_runtime(Settings(data_dir=tmp_path), registry)  # type: ignore[arg-type]
    for args, refs in [({"expression": "2 ** 10"}, []),
                       ({"expression": "x + 1", "variables": {"x": 41}}, []),
                       ({"expression": 42}, [RefAt(path=["expression"], ref="${n.value}")])]:
        call = ToolCall(step_id="s", tool="calc", args=args, refs=refs)
        by_activity = asyncio.run(execute_call(runtime, call, 1))
        assert call_pure(calc, call) == (by_activity.output, by_activity.conversions)
        if refs:
            assert by_activity.conversions == ["expression: ${n.value} = 42 (number, passed "
                                               "as text)"]
    with pytest.raises(InvalidToolArguments, match="'calc': expression: Field required"):
        call_pure(calc, ToolCall(step_id="s", tool="calc", args={}))
