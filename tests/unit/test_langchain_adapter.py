"""LangChain tools wrapped as JARVIS tools, run through ``execute_call`` like any tool."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from langchain_core.tools import BaseTool, InjectedToolArg, StructuredTool, ToolException, tool
from langchain_core.tools import Tool as SimpleTool
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic.v1 import BaseModel as BaseModelV1
from pydantic.v1 import Field as FieldV1

from activities import default_registry
from activities.errors import ToolError
from activities.execution import StepFailure, ToolRuntime, execute_call, tool_runtime
from activities.langchain_adapter import (
    model_from_json_schema,
    register_langchain_tools,
    tool_from_langchain,
)
from planner.contracts.plan_run import ToolCall
from planner.retry import RetrySpec
from planner.settings import Settings
from planner.tools import DuplicateToolError, Risk, ToolContext, ToolRegistry
from tests.http_fixtures import LocalHTTPServer, http_server

__all__ = ["http_server"]

pytestmark = pytest.mark.timeout(60)

CTX = ToolContext(workspace=Path("."), data_dir=Path("."))


# --- LangChain tools under test ---------------------------------------------------------------


@tool
async def multiply(a: int, b: Annotated[int, "second factor"] = 2) -> int:
    """Multiply two integers."""
    return a * b


@tool
def flaky_lookup(key: str) -> dict[str, str]:
    """Look a key up in a backend that may be down."""
    if key == "down":
        raise ToolException("backend unavailable, try later")
    if key == "bug":
        raise RuntimeError("unexpected")
    return {"key": key, "value": key[::-1]}


class SearchArgs(BaseModel):
    query: str = Field(description="What to look for", min_length=2)
    limit: int = Field(3, ge=1, le=10)
    tags: list[str] = Field(default_factory=list)

    @field_validator("query")
    @classmethod
    def no_shouting(cls, value: str) -> str:
        if value.isupper():
            raise ValueError("no shouting")
        return value


def _search(query: str, limit: int = 3, tags: list[str] | None = None) -> dict[str, Any]:
    return {"query": query, "hits": [f"{query}-{i}" for i in range(limit)], "tags": tags or []}


search = StructuredTool.from_function(_search, name="search", description="Search the index.",
                                      args_schema=SearchArgs)


def _weather(**kwargs: Any) -> dict[str, Any]:
    return {"received": kwargs}


weather = StructuredTool(
    name="weather",
    description="Weather for a city (JSON schema args).",
    func=_weather,
    args_schema={
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2, "description": "City"},
            "units": {"enum": ["c", "f"], "default": "c"},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
            "at": {"type": "object", "properties": {"lat": {"type": "number"},
                                                    "lon": {"type": "number"}},
                   "required": ["lat", "lon"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "from": {"type": "string"},
            "note": {"type": ["string", "null"]},
        },
        "required": ["city"],
    },
)


class ShoutTool(BaseTool):
    name: str = "shout"
    description: str = "Upper-case a text."

    def _run(self, text: str) -> str:
        return text.upper()


echo = SimpleTool(name="echo", description="Echo a string.", func=lambda s: f"echo: {s}")


async def _fetch_status(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    if response.status_code >= 500:
        raise ToolException(f"{url} returned {response.status_code}")
    return {"status": response.status_code, "body": response.json()}


fetch_status = StructuredTool.from_function(coroutine=_fetch_status, name="fetch_status",
                                            description="GET a JSON url.")


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def runtime(tmp_path: Path) -> ToolRuntime:
    registry = default_registry(plugins=False)
    register_langchain_tools(registry, [multiply, flaky_lookup, search, weather, ShoutTool(),
                                        echo])
    registry.register(tool_from_langchain(fetch_status, risk=Risk.SIDE_EFFECTING))
    data = tmp_path / "data"
    return tool_runtime(Settings(data_dir=data, workspace=data / "workspace"), registry)


async def run(runtime: ToolRuntime, tool_name: str, args: dict[str, Any]) -> Any:
    return (await execute_call(runtime, ToolCall(step_id="s", tool=tool_name, args=args),
                               1)).output


async def fails(runtime: ToolRuntime, tool_name: str, args: dict[str, Any]) -> StepFailure:
    with pytest.raises(StepFailure) as info:
        await run(runtime, tool_name, args)
    return info.value


# --- @tool function ---------------------------------------------------------------------------


def test_tool_decorator_function_metadata() -> None:
    t = tool_from_langchain(multiply)
    assert t.name == "multiply"
    assert t.activity_name == "tool.multiply"
    assert t.description == "Multiply two integers."
    assert t.risk is Risk.READ_ONLY and t.idempotent is True
    assert t.timeout_s == 60 and t.retry == RetrySpec()
    assert t.kind == "activity" and t.context_param is None
    schema = t.args_schema
    assert schema["required"] == ["a"]
    assert schema["properties"]["a"]["type"] == "integer"
    assert schema["properties"]["b"]["default"] == 2
    assert schema["additionalProperties"] is False
    assert t.output_schema == {"type": "integer"}


async def test_tool_decorator_function_runs(runtime: ToolRuntime) -> None:
    assert await run(runtime, "multiply", {"a": 6, "b": 7}) == 42
    assert await run(runtime, "multiply", {"a": 6}) == 12
    assert await run(runtime, "multiply", {"a": "3"}) == 6  # lax coercion, like any tool
    assert await run(runtime, "flaky_lookup", {"key": "abc"}) == {"key": "abc", "value": "cba"}


@pytest.mark.parametrize("args", [{}, {"a": "many"}, {"a": 1, "c": 2}, {"a": 1.5}])
async def test_bad_args_are_permanent_invalid_arguments(runtime: ToolRuntime,
                                                        args: dict[str, Any]) -> None:
    failure = await fails(runtime, "multiply", args)
    assert failure.type == "InvalidArguments"
    assert failure.retryable is False
    assert "multiply" in str(failure)


async def test_tool_exception_is_a_retryable_tool_error(runtime: ToolRuntime) -> None:
    failure = await fails(runtime, "flaky_lookup", {"key": "down"})
    assert failure.type == "ToolError"
    assert failure.retryable is True
    assert "backend unavailable" in str(failure)


async def test_other_exceptions_are_left_to_the_retry_policy(runtime: ToolRuntime) -> None:
    failure = await fails(runtime, "flaky_lookup", {"key": "bug"})
    assert failure.type == "RuntimeError"
    assert failure.retryable is True


async def test_handle_tool_error_does_not_hide_failures() -> None:
    handled = flaky_lookup.model_copy(update={"handle_tool_error": True,
                                              "handle_validation_error": True})
    # LangChain itself would turn the failure into output...
    assert await handled.ainvoke({"key": "down"}) == "backend unavailable, try later"
    # ...the adapter keeps it a failure, and leaves the original tool alone
    wrapped = tool_from_langchain(handled, name="handled")
    with pytest.raises(ToolError, match="backend unavailable"):
        await wrapped.invoke({"key": "down"}, CTX)
    with pytest.raises(ValidationError):
        await wrapped.invoke({"key": 1}, CTX)
    assert handled.handle_tool_error is True


# --- StructuredTool with a pydantic args_schema -----------------------------------------------


def test_structured_tool_schema() -> None:
    t = tool_from_langchain(search, risk=Risk.SIDE_EFFECTING, timeout_s=5,
                            retry=RetrySpec(max_attempts=5))
    assert t.description == "Search the index."
    assert t.risk is Risk.SIDE_EFFECTING and t.idempotent is False
    assert t.timeout_s == 5 and t.retry.max_attempts == 5
    props = t.args_schema["properties"]
    assert props["query"]["description"] == "What to look for"
    assert props["query"]["minLength"] == 2
    assert props["limit"]["maximum"] == 10
    assert t.args_schema["required"] == ["query"]
    assert t.args_schema["additionalProperties"] is False
    assert issubclass(t.args_model, SearchArgs)  # keeps the schema's validators


async def test_structured_tool_runs(runtime: ToolRuntime) -> None:
    assert await run(runtime, "search", {"query": "jarvis", "limit": 2, "tags": ["a"]}) == {
        "query": "jarvis", "hits": ["jarvis-0", "jarvis-1"], "tags": ["a"]}
    assert (await run(runtime, "search", {"query": "jarvis"}))["hits"] == [
        "jarvis-0", "jarvis-1", "jarvis-2"]


@pytest.mark.parametrize(("args", "problem"), [
    ({"query": "x"}, "query"),
    ({"query": "jarvis", "limit": 11}, "limit"),
    ({"query": "JARVIS"}, "no shouting"),
    ({"query": "jarvis", "unknown": True}, "unknown"),
    ({"limit": 2}, "query"),
])
async def test_structured_tool_bad_args(runtime: ToolRuntime, args: dict[str, Any],
                                        problem: str) -> None:
    failure = await fails(runtime, "search", args)
    assert failure.type == "InvalidArguments"
    assert failure.retryable is False
    assert problem in str(failure)


# --- JSON-schema args, BaseTool subclasses, single-input tools --------------------------------


async def test_json_schema_tool(runtime: ToolRuntime) -> None:
    t = runtime.registry["weather"]
    assert t.args_schema["required"] == ["city"]
    assert t.args_schema["additionalProperties"] is False
    assert t.output_schema == {"type": "object", "additionalProperties": True}  # -> dict
    assert runtime.registry["echo"].output_schema is None  # a lambda: nothing to go by
    out = await run(runtime, "weather", {"city": "Oslo", "days": 2, "from": "home",
                                         "at": {"lat": 59.9, "lon": 10.7, "alt": 3}})
    # unset optional properties stay absent; nested objects arrive as plain JSON
    assert out == {"received": {"city": "Oslo", "units": "c", "days": 2, "from": "home",
                                "at": {"lat": 59.9, "lon": 10.7, "alt": 3}}}
    assert (await run(runtime, "weather", {"city": "Oslo", "note": None}))["received"] == {
        "city": "Oslo", "units": "c"}
    for bad in ({}, {"city": "O"}, {"city": "Oslo", "units": "k"}, {"city": "Oslo", "days": 9},
                {"city": "Oslo", "at": {"lat": 1}}, {"city": "Oslo", "tags": [1, {}]},
                {"city": "Oslo", "x": 1}):
        failure = await fails(runtime, "weather", bad)
        assert failure.type == "InvalidArguments" and failure.retryable is False, bad


def test_model_from_json_schema_refs_and_unions() -> None:
    model = model_from_json_schema({
        "type": "object",
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "integer"}},
                            "required": ["x"], "additionalProperties": False}},
        "properties": {
            "p": {"$ref": "#/$defs/Point"},
            "either": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
            "scores": {"type": "object", "additionalProperties": {"type": "number"}},
            "level": {"const": 3},
        },
        "required": ["p"],
    }, "Demo")
    ok = model.model_validate({"p": {"x": 1}, "either": "s", "scores": {"a": 1}, "level": 3})
    assert ok.model_dump(exclude_unset=True) == {
        "p": {"x": 1}, "either": "s", "scores": {"a": 1.0}, "level": 3}
    for bad in ({}, {"p": {"x": 1, "y": 2}}, {"p": {"x": 1}, "either": []},
                {"p": {"x": 1}, "scores": {"a": "b"}}, {"p": {"x": 1}, "level": 4}):
        with pytest.raises(ValueError):
            model.model_validate(bad)


async def test_base_tool_subclass_and_single_input_tool(runtime: ToolRuntime) -> None:
    shout = runtime.registry["shout"]
    assert shout.args_schema["required"] == ["text"]
    assert shout.output_schema == {"type": "string"}
    assert await run(runtime, "shout", {"text": "hi"}) == "HI"
    assert await run(runtime, "echo", {"tool_input": "hello"}) == "echo: hello"
    failure = await fails(runtime, "echo", {"text": "hello"})
    assert failure.type == "InvalidArguments"


async def test_async_tool_against_a_local_server(runtime: ToolRuntime,
                                                 http_server: LocalHTTPServer) -> None:
    http_server.json("/ok", {"fine": True})
    flaky = http_server.flaky("/flaky", failures=1)
    assert await run(runtime, "fetch_status", {"url": http_server.url("/ok")}) == {
        "status": 200, "body": {"fine": True}}
    failure = await fails(runtime, "fetch_status", {"url": http_server.url("/flaky")})
    assert failure.type == "ToolError" and failure.retryable is True
    assert "503" in str(failure)
    assert (await run(runtime, "fetch_status", {"url": http_server.url("/flaky")}))["body"] == {
        "ok": True}
    assert flaky.calls == 2


@tool
def greet(name: str, caller: Annotated[str, InjectedToolArg] = "jarvis") -> str:
    """Greet someone (the caller is injected by the runtime, not chosen by the planner)."""
    return f"{caller} greets {name}"


class LegacyArgs(BaseModelV1):
    count: int = FieldV1(..., ge=1)
    label: str = "item"


legacy = StructuredTool.from_function(lambda count, label="item": [label] * count,
                                      name="legacy", description="pydantic v1 args",
                                      args_schema=LegacyArgs)


async def test_injected_args_are_not_planner_arguments() -> None:
    t = tool_from_langchain(greet)
    assert list(t.args_schema["properties"]) == ["name"]
    assert t.args_schema["additionalProperties"] is False
    assert await t.invoke({"name": "Ada"}, CTX) == "jarvis greets Ada"
    with pytest.raises(ValidationError):
        await t.invoke({"name": "Ada", "caller": "mallory"}, CTX)


async def test_pydantic_v1_args_schema() -> None:
    t = tool_from_langchain(legacy)
    assert t.args_schema["required"] == ["count"]
    assert t.args_schema["properties"]["count"]["minimum"] == 1
    assert await t.invoke({"count": 2}, CTX) == ["item", "item"]
    with pytest.raises(ValidationError):
        await t.invoke({"count": 0}, CTX)


# --- registration -----------------------------------------------------------------------------


def test_register_langchain_tools() -> None:
    registry = ToolRegistry()
    tools = register_langchain_tools(registry, [multiply, search], risk=Risk.SIDE_EFFECTING,
                                     idempotent=True, timeout_s=9)
    assert [t.name for t in tools] == ["multiply", "search"]
    assert registry.names() == ["multiply", "search"]
    assert all(t.risk is Risk.SIDE_EFFECTING and t.idempotent and t.timeout_s == 9
               for t in registry)
    with pytest.raises(DuplicateToolError):
        register_langchain_tools(registry, [multiply])
    register_langchain_tools(registry, [multiply], replace=True, timeout_s=1)
    assert registry["multiply"].timeout_s == 1
    renamed = registry.register(tool_from_langchain(multiply, name="times"))
    assert renamed.activity_name == "tool.times"
    assert renamed.args_model.__name__ == "TimesArgs"
