"""The tool registry: tools from typed functions, the @tool decorator, entry-point plugins."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from activities import default_registry, load_plugins
from planner.retry import RetrySpec
from planner.tools import (
    ACTIVITY_PREFIX,
    DuplicateToolError,
    Risk,
    ToolContext,
    ToolRegistry,
    tool,
    tool_from_function,
)

CTX = ToolContext(workspace=Path("."), data_dir=Path("."))


class Forecast(BaseModel):
    city: str
    celsius: float


def make_registry() -> ToolRegistry:
    registry = ToolRegistry()

    @tool(registry)
    def forecast(
        city: Annotated[str, Field(min_length=2, description="City name")],
        days: Annotated[int, Field(ge=1, le=14)] = 3,
        units: Literal["c", "f"] = "c",
    ) -> Forecast:
        """Weather forecast for a city.

        Longer explanation that is not part of the short description.
        """
        return Forecast(city=city, celsius=21.5 + days)

    @tool(registry, name="save_it", risk=Risk.SIDE_EFFECTING, timeout_s=5,
          retry=RetrySpec(max_attempts=7))
    async def save(text: str, ctx: ToolContext) -> dict[str, str]:
        """Save some text."""
        return {"saved": text, "workspace": str(ctx.workspace)}

    @tool(registry, risk=Risk.DANGEROUS)
    def nuke(target: str) -> None:
        """Dangerous thing."""

    @tool(registry)
    def untyped(x, y=1):  # type: ignore[no-untyped-def]
        return x

    return registry


def test_args_model_from_signature() -> None:
    t = make_registry()["forecast"]
    schema = t.args_schema
    assert schema["required"] == ["city"]
    props = schema["properties"]
    assert props["city"]["type"] == "string"
    assert props["city"]["minLength"] == 2
    assert props["city"]["description"] == "City name"
    assert props["days"] == {"default": 3, "maximum": 14, "minimum": 1, "title": "Days",
                             "type": "integer"}
    assert props["units"]["enum"] == ["c", "f"]
    assert props["units"]["default"] == "c"
    assert schema["additionalProperties"] is False
    assert t.args_model.__name__ == "ForecastArgs"


def test_args_model_validates_constraints_and_extras() -> None:
    model = make_registry()["forecast"].args_model
    assert model.model_validate({"city": "Oslo"}).model_dump() == {
        "city": "Oslo", "days": 3, "units": "c"}
    for bad in ({}, {"city": "O"}, {"city": "Oslo", "days": 0}, {"city": "Oslo", "days": 15},
                {"city": "Oslo", "units": "k"}, {"city": "Oslo", "extra": 1}):
        with pytest.raises(ValidationError):
            model.model_validate(bad)


def test_output_schema_from_return_annotation() -> None:
    registry = make_registry()
    assert registry["forecast"].output_schema == Forecast.model_json_schema()
    assert registry["save_it"].output_schema == {
        "type": "object", "additionalProperties": {"type": "string"}}
    assert registry["nuke"].output_schema is None  # -> None
    assert registry["untyped"].output_schema is None  # no annotation


def test_description_from_docstring() -> None:
    registry = make_registry()
    assert registry["forecast"].description == "Weather forecast for a city."
    assert registry["save_it"].description == "Save some text."
    assert registry["untyped"].description == "untyped"  # no docstring: the name
    explicit = tool_from_function(lambda: 1, name="one", description="The number one.")
    assert explicit.description == "The number one."


def test_risk_idempotent_and_policy_defaults() -> None:
    registry = make_registry()
    forecast, save, nuke = registry["forecast"], registry["save_it"], registry["nuke"]
    assert forecast.risk is Risk.READ_ONLY and forecast.idempotent is True
    assert save.risk is Risk.SIDE_EFFECTING and save.idempotent is False
    assert nuke.risk is Risk.DANGEROUS and nuke.idempotent is False
    assert forecast.timeout_s == 60.0 and forecast.retry == RetrySpec()
    assert save.timeout_s == 5 and save.retry.max_attempts == 7
    assert forecast.kind == "activity"
    overridden = tool_from_function(lambda: 1, name="x", risk=Risk.SIDE_EFFECTING,
                                    idempotent=True)
    assert overridden.idempotent is True


def test_tool_context_is_injected_not_an_argument() -> None:
    save = make_registry()["save_it"]
    assert save.context_param == "ctx"
    assert set(save.args_schema["properties"]) == {"text"}
    assert save.args_schema["required"] == ["text"]
    with pytest.raises(ValidationError):
        save.args_model.model_validate({"text": "a", "ctx": {}})


async def test_invoke_injects_context_and_jsonifies() -> None:
    registry = make_registry()
    assert await registry["save_it"].invoke({"text": "hi"}, CTX) == {
        "saved": "hi", "workspace": "."}
    assert await registry["forecast"].invoke({"city": "Oslo", "days": 2}, CTX) == {
        "city": "Oslo", "celsius": 23.5}
    with pytest.raises(ValidationError):
        await registry["forecast"].invoke({"city": "Oslo", "days": "many"}, CTX)


def test_activity_name_and_describe() -> None:
    registry = make_registry()
    save = registry["save_it"]
    assert ACTIVITY_PREFIX == "tool."
    assert save.activity_name == "tool.save_it"
    described = save.describe()
    assert described["activity"] == "tool.save_it"
    assert described["risk"] == "side-effecting"
    assert described["args_schema"] == save.args_schema
    assert described["retry"]["max_attempts"] == 7


def test_duplicate_registration_is_an_error() -> None:
    registry = make_registry()
    again = tool_from_function(lambda text: text, name="forecast")
    with pytest.raises(DuplicateToolError, match="already registered"):
        registry.register(again)
    with pytest.raises(DuplicateToolError):

        @tool(registry)
        def forecast() -> None:
            """Same name through the decorator."""

    registry.register(again, replace=True)
    assert registry["forecast"] is again


def test_registry_container_protocol() -> None:
    registry = make_registry()
    assert registry.names() == ["forecast", "nuke", "save_it", "untyped"]
    assert [t.name for t in registry] == registry.names()
    assert len(registry) == 4
    assert "forecast" in registry and "nope" not in registry
    assert registry.get("nope") is None
    with pytest.raises(KeyError):
        registry["nope"]


def test_varargs_are_rejected() -> None:
    def bad(*names: str) -> None: ...

    with pytest.raises(TypeError, match=r"\*args"):
        tool_from_function(bad)


# --- entry points -----------------------------------------------------------------------------


def test_builtins_come_through_the_installed_entry_point() -> None:
    registry = ToolRegistry()
    loaded = load_plugins(registry)
    assert "builtins" in loaded
    assert {"http_request", "fetch_page", "read_file", "write_file", "list_files", "calc",
            "notes_append", "notes_search", "notify", "wait", "shell"} <= set(registry.names())
    # loading twice is harmless: the plugin's duplicates are skipped
    assert "builtins" in load_plugins(registry)


def test_default_registry() -> None:
    registry = default_registry()
    assert registry["shell"].risk is Risk.DANGEROUS
    assert registry["wait"].kind == "timer"
    assert default_registry(plugins=False).names() == registry.names()


@pytest.fixture
def plugin_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """A real (unpacked) distribution on sys.path declaring a ``jarvis.tools`` entry point."""
    suffix = uuid.uuid4().hex[:8]
    module, tool_name = f"jarvis_test_plugin_{suffix}", f"shout_{suffix}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(f'''
        from planner.tools import Risk, ToolRegistry, tool_from_function


        def shout(text: str, times: int = 1) -> str:
            """Upper-case the text."""
            return (text.upper() + " ") * times


        def register(registry: ToolRegistry) -> None:
            registry.register(tool_from_function(shout, name="{tool_name}",
                                                 risk=Risk.SIDE_EFFECTING))
    '''))
    dist = tmp_path / f"jarvis_test_plugin_{suffix}-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: jarvis-test-plugin-{suffix}\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text(f"[jarvis.tools]\nshout = {module}:register\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield module, tool_name
    sys.modules.pop(module, None)


async def test_entry_point_plugin_registers_its_tool(plugin_dist: tuple[str, str]) -> None:
    _module, tool_name = plugin_dist
    registry = ToolRegistry()
    loaded = load_plugins(registry)
    assert "shout" in loaded and "builtins" in loaded
    plugin_tool = registry[tool_name]
    assert plugin_tool.risk is Risk.SIDE_EFFECTING
    assert plugin_tool.activity_name == f"tool.{tool_name}"
    assert plugin_tool.args_schema["required"] == ["text"]
    assert await plugin_tool.invoke({"text": "hi", "times": 2}, CTX) == "HI HI "
    assert tool_name in default_registry().names()
    assert tool_name not in default_registry(plugins=False).names()


def test_entry_point_group_is_configurable(plugin_dist: tuple[str, str]) -> None:
    registry = ToolRegistry()
    assert load_plugins(registry, group="jarvis.no-such-group") == []
    assert len(registry) == 0
