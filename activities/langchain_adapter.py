"""LangChain tools as JARVIS tools: ``tool_from_langchain`` and ``register_langchain_tools``.

The args model comes from the tool's ``args_schema`` (a pydantic model, or a JSON schema dict
turned into one) with ``extra="forbid"``, so bad arguments fail as a pydantic ValidationError
before the tool runs. The tool runs through ``await lc_tool.ainvoke(args)``; a LangChain
``ToolException`` becomes a (retryable) :class:`~activities.errors.ToolError`. The tool's own
``handle_tool_error``/``handle_validation_error`` are switched off: a durable plan must see a
failure as a failure, not as an error message returned as the step's output.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from functools import reduce
from typing import Annotated, Any, Literal, cast, get_type_hints

from langchain_core.tools import BaseTool, ToolException
from langchain_core.tools import Tool as SimpleTool
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model
from pydantic.v1 import BaseModel as BaseModelV1
from pydantic.v1 import ValidationError as ValidationErrorV1

from activities.errors import ToolError, ToolInputError
from planner.retry import RetrySpec
from planner.tools import Risk, Tool, ToolRegistry

_SINGLE_INPUT = {"type": "object", "properties": {"tool_input": {"type": "string"}},
                 "required": ["tool_input"]}


def tool_from_langchain(
    lc_tool: BaseTool,
    *,
    risk: Risk = Risk.READ_ONLY,
    idempotent: bool | None = None,
    timeout_s: float = 60.0,
    retry: RetrySpec | None = None,
    name: str | None = None,
) -> Tool:
    """Wrap a LangChain tool (``@tool`` function, StructuredTool, BaseTool subclass) as a Tool."""
    tool_name = name or lc_tool.name
    runnable = lc_tool.model_copy(update={"handle_tool_error": False,
                                          "handle_validation_error": False})
    args_model, plain = _args_model(lc_tool, f"{_camel(tool_name)}Args")
    aliases = {k: f.alias for k, f in args_model.model_fields.items() if f.alias}
    # JSON-schema properties that are optional without a default: absent, not null, when unset
    omit_if_none = {k for k, f in args_model.model_fields.items()
                    if plain and not f.is_required() and f.default is None}

    async def run(**kwargs: Any) -> Any:
        payload = {
            aliases.get(k, k): _to_plain(v) if plain else v
            for k, v in kwargs.items() if not (v is None and k in omit_if_none)
        }
        try:
            return await runnable.ainvoke(payload)
        except ToolException as exc:
            raise ToolError(str(exc) or type(exc).__name__) from exc
        except ValidationErrorV1 as exc:
            raise ToolInputError(f"invalid arguments for tool '{tool_name}': {exc}") from exc

    run.__name__ = run.__qualname__ = f"run_{tool_name}"
    return Tool(
        name=tool_name,
        description=(lc_tool.description or tool_name).strip(),
        fn=run,
        args_model=args_model,
        output_schema=_output_schema(lc_tool),
        risk=risk,
        idempotent=risk is Risk.READ_ONLY if idempotent is None else idempotent,
        timeout_s=timeout_s,
        retry=retry or RetrySpec(),
    )


def register_langchain_tools(
    registry: ToolRegistry,
    tools: Iterable[BaseTool],
    *,
    risk: Risk = Risk.READ_ONLY,
    idempotent: bool | None = None,
    timeout_s: float = 60.0,
    retry: RetrySpec | None = None,
    replace: bool = False,
) -> list[Tool]:
    """Register every LangChain tool in ``tools`` with the same policy; return the Tools."""
    return [
        registry.register(tool_from_langchain(t, risk=risk, idempotent=idempotent,
                                              timeout_s=timeout_s, retry=retry),
                          replace=replace)
        for t in tools
    ]


def _args_model(lc_tool: BaseTool, model_name: str) -> tuple[type[BaseModel], bool]:
    """The args model, and whether the tool wants plain JSON values (a JSON-schema tool)."""
    schema: Any = lc_tool.args_schema
    if schema is None:
        schema = _SINGLE_INPUT if isinstance(lc_tool, SimpleTool) else lc_tool.get_input_schema()
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        call_schema = lc_tool.tool_call_schema  # without injected args (InjectedToolArg)
        if (isinstance(call_schema, type) and issubclass(call_schema, BaseModel)
                and call_schema.model_fields.keys() != schema.model_fields.keys()):
            # a fresh model: LangChain patches the subset model's model_json_schema
            fields: dict[str, Any] = {k: (f.annotation, f) for k, f in schema.model_fields.items()
                                      if k in call_schema.model_fields}
            config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
            return create_model(model_name, __config__=config, __doc__=schema.__doc__,
                                **fields), False
        namespace = {"model_config": ConfigDict(extra="forbid"), "__doc__": schema.__doc__,
                     "__module__": schema.__module__}
        return cast(type[BaseModel], type(model_name, (schema,), namespace)), False
    if isinstance(schema, type) and issubclass(schema, BaseModelV1):
        schema = schema.schema()
    if not isinstance(schema, Mapping):
        raise TypeError(f"tool {lc_tool.name}: unsupported args_schema {schema!r}")
    return model_from_json_schema(schema, model_name), True


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.replace("-", "_").split("_")) or "Tool"


def _to_plain(value: Any) -> Any:
    return TypeAdapter(Any).dump_python(value, mode="json", by_alias=True, exclude_unset=True)


def _output_schema(lc_tool: BaseTool) -> dict[str, Any] | None:
    """The JSON schema of the function's return annotation, when there is a usable one."""
    if lc_tool.response_format != "content":
        return None
    fn = getattr(lc_tool, "coroutine", None) or getattr(lc_tool, "func", None) or lc_tool._run
    try:
        returns = get_type_hints(fn).get("return", Any)
        if returns in (Any, None, type(None)):
            return None
        return TypeAdapter(returns).json_schema()
    except Exception:  # unresolvable annotation or a type without a JSON schema
        return None


# --- JSON schema -> pydantic ------------------------------------------------------------------

_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool,
                          "null": type(None), "array": list[Any], "object": dict[str, Any]}
_CONSTRAINTS = {"minimum": "ge", "maximum": "le", "exclusiveMinimum": "gt",
                "exclusiveMaximum": "lt", "minLength": "min_length", "maxLength": "max_length",
                "pattern": "pattern", "minItems": "min_length", "maxItems": "max_length"}


def model_from_json_schema(schema: Mapping[str, Any], name: str) -> type[BaseModel]:
    """A pydantic model for an object JSON schema (top level forbids extra properties)."""
    defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    return _object_model(schema, name, defs, (), forbid=True)


def _object_model(schema: Mapping[str, Any], name: str, defs: Mapping[str, Any],
                  seen: tuple[str, ...], *, forbid: bool) -> type[BaseModel]:
    required = set(schema.get("required", []))
    fields: dict[str, Any] = {}
    for i, (prop, sub) in enumerate(schema.get("properties", {}).items()):
        sub = sub if isinstance(sub, Mapping) else {}
        annotation = _annotation(sub, name + _camel(str(prop)), defs, seen)
        default = sub.get("default", ... if prop in required else None)
        safe = prop.isidentifier() and not prop.startswith("_") and not hasattr(BaseModel, prop)
        field = Field(default, description=sub.get("description"),
                      alias=None if safe else prop)
        fields[prop if safe else f"field_{i}"] = (annotation, field)
    forbidden = forbid or schema.get("additionalProperties") is False
    config = ConfigDict(extra="forbid" if forbidden else "allow", populate_by_name=True)
    return cast(type[BaseModel], create_model(
        name, __config__=config, __doc__=schema.get("description"), **fields))


def _annotation(schema: Any, name: str, defs: Mapping[str, Any], seen: tuple[str, ...]) -> Any:
    if not isinstance(schema, Mapping):
        return Any
    if "$ref" in schema:
        ref = str(schema["$ref"]).rsplit("/", 1)[-1]
        if ref in seen or ref not in defs:  # recursive or unknown: accept anything
            return Any
        return _annotation(defs[ref], ref, defs, (*seen, ref))
    if "enum" in schema or "const" in schema:
        values = tuple(schema["enum"]) if "enum" in schema else (schema["const"],)
        return _constrained(cast(Any, Literal)[values], schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return _union([_annotation(s, name, defs, seen) for s in schema[key]])
    if len(schema.get("allOf", ())) == 1:
        return _annotation(schema["allOf"][0], name, defs, seen)
    kind = schema.get("type")
    if isinstance(kind, list):
        return _union([_annotation({**schema, "type": k}, name, defs, seen) for k in kind])
    if kind == "object" and "properties" in schema:
        return _object_model(schema, name, defs, seen, forbid=False)
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return dict[str, _annotation(schema["additionalProperties"], name, defs, seen)]  # type: ignore[misc]
    if kind == "array" and "items" in schema:
        return _constrained(list[_annotation(schema["items"], name, defs, seen)], schema)  # type: ignore[misc]
    return _constrained(_TYPES.get(str(kind), Any), schema)


def _constrained(annotation: Any, schema: Mapping[str, Any]) -> Any:
    constraints = {_CONSTRAINTS[k]: v for k, v in schema.items() if k in _CONSTRAINTS}
    return Annotated[annotation, Field(**constraints)] if constraints else annotation


def _union(options: list[Any]) -> Any:
    return reduce(operator.or_, options) if options else Any


__all__ = ["model_from_json_schema", "register_langchain_tools", "tool_from_langchain"]
