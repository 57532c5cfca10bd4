"""Tool specifications: what a tool is (name, schemas, risk, retry, timeout) and the registry
that names them. Pure: running tools and loading plugins live in ``activities``."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypeVar, get_type_hints

from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model

from planner.retry import RetrySpec

ACTIVITY_PREFIX = "tool."
# Tools that may run as Temporal local activities unless they say otherwise: read-only,
# idempotent and at most this long per attempt (see Tool.runs_local).
LOCAL_MAX_TIMEOUT_S = 30.0


class Risk(StrEnum):
    READ_ONLY = "read-only"
    SIDE_EFFECTING = "side-effecting"
    DANGEROUS = "dangerous"


@dataclass(frozen=True)
class ToolContext:
    """What a tool may need from its environment; injected when a parameter is typed with it."""

    workspace: Any  # pathlib.Path; Any keeps this module free of settings imports
    data_dir: Any
    webhook_url: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # Hosts and CIDRs that tools opening connections may reach although they are loopback,
    # private or link-local (the egress policy, activities/net/egress.py); empty: public only.
    egress_allow: tuple[str, ...] = ()
    # The most bytes of a response body an HTTP tool reads (JARVIS_HTTP_MAX_BYTES).
    http_max_bytes: int = 10_000_000
    # Per call: the logical identity of this step's side effect (workflow id, run id, step id),
    # the same on every attempt; side-effecting tools honour it so a retry after a crash does
    # not repeat the effect. None outside a step (direct tool calls in tests and the CLI).
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Compensation:
    """How a tool's effect is undone when its goal is abandoned: the compensating tool and its
    arguments, each taken from the step's output (``"output.path"``) or resolved arguments
    (``"args.path"``). The compensating call runs under the step's own id (and so its
    idempotency key), so it can find what the step recorded about its effect."""

    tool: str
    args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    fn: Callable[..., Any]
    args_model: type[BaseModel]
    output_schema: dict[str, Any] | None = None
    risk: Risk = Risk.READ_ONLY
    idempotent: bool = True
    timeout_s: float = 60.0
    retry: RetrySpec = field(default_factory=RetrySpec)
    kind: Literal["activity", "timer"] = "activity"
    context_param: str | None = None
    # May this tool run as a local activity (in the workflow's worker, no task-queue round trip:
    # ~3-6 ms a step instead of ~20-50 ms)? None: yes when read-only, idempotent and short
    # (timeout_s <= LOCAL_MAX_TIMEOUT_S). A local attempt can run again if the worker dies
    # before its result is recorded, so only opt in tools that are safe to repeat.
    local_ok: bool | None = None
    # The Temporal activity name when it is not ``tool.<name>`` (an MCP server's tool:
    # ``mcp.<server>.<tool>``); where the tool comes from, for people (``jarvis tools``)
    activity: str | None = None
    source: str = ""
    # The output schema of one step from its arguments, where they say more than
    # ``output_schema`` (the llm tool's extract: the step's own json_schema); None: the tool's
    step_output: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None
    # how a step of this tool is undone when its goal is abandoned (None: it is not)
    compensation: Compensation | None = None
    # a tool that only compensates others: never offered to the planner, refused in plans
    internal: bool = False
    # a pure tool: a plain (not async) function of its arguments alone, deterministic, no I/O,
    # no clock or randomness, bounded in time and memory (calc). Its steps may run inside the
    # workflow itself, with no activity (agents/plan_runner.py): it is workflow code, so a
    # change to what it returns is a workflow change (docs/versioning.md)
    pure: bool = False

    def output_schema_of(self, args: dict[str, Any]) -> dict[str, Any] | None:
        """What a step with ``args`` outputs, as precisely as its arguments tell."""
        if self.step_output is not None:
            found = self.step_output(args)
            if found is not None:
                return found
        return self.output_schema

    @property
    def runs_local(self) -> bool:
        """Whether steps using this tool run as local activities (same name and retry policy)."""
        if self.kind != "activity":
            return False
        if self.local_ok is not None:
            # never a tool that is not idempotent: a local attempt repeats when its worker dies
            # before the result is recorded
            return self.local_ok and self.idempotent
        return (self.risk is Risk.READ_ONLY and self.idempotent
                and self.timeout_s <= LOCAL_MAX_TIMEOUT_S)

    @property
    def activity_name(self) -> str:
        """The Temporal activity name: a durable contract, never rename."""
        return self.activity or ACTIVITY_PREFIX + self.name

    @property
    def args_schema(self) -> dict[str, Any]:
        """The arguments' JSON schema (computed once per model: shared, never mutate it)."""
        return args_schema_of(self.args_model)

    def parse(self, args: dict[str, Any]) -> BaseModel:
        """Validate ``args`` against the tool's argument model (raises pydantic.ValidationError)."""
        return self.args_model.model_validate(args)

    async def invoke(self, args: dict[str, Any], ctx: ToolContext) -> Any:
        """Validate ``args`` and call the tool."""
        return await self.call(self.parse(args), ctx)

    async def call(self, parsed: BaseModel, ctx: ToolContext | None) -> Any:
        """Call the tool with already validated arguments; return JSON-compatible data.
        ``ctx`` may be None only for a tool without a context parameter."""
        kwargs = self.kwargs(parsed)
        if self.context_param:
            kwargs[self.context_param] = ctx
        if self.is_async:
            result = await self.fn(**kwargs)
        else:
            result = await asyncio.to_thread(self.fn, **kwargs)
        return to_jsonable(result)

    @functools.cached_property
    def is_async(self) -> bool:
        """Whether ``fn`` is a coroutine function (asked once: every call needs it)."""
        return inspect.iscoroutinefunction(self.fn)

    @staticmethod
    def kwargs(parsed: BaseModel) -> dict[str, Any]:
        """The function's keyword arguments from validated ``parsed`` (its extra fields too)."""
        kwargs = {name: getattr(parsed, name) for name in type(parsed).model_fields}
        kwargs.update(parsed.model_extra or {})
        return kwargs

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "risk": self.risk.value,
            "idempotent": self.idempotent,
            "timeout_s": self.timeout_s,
            "retry": self.retry.model_dump(),
            "kind": self.kind,
            "local": self.runs_local,
            "pure": self.pure,
            "activity": self.activity_name,
            "source": self.source,
            "args_schema": self.args_schema,
            "output_schema": self.output_schema,
        }


@functools.lru_cache(maxsize=4096)
def args_schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema, computed once (pydantic builds it anew at every call: ~0.7 ms,
    twice per step when a plan is validated). Shared: callers copy before changing it."""
    return model.model_json_schema()


_ANY: TypeAdapter[Any] = TypeAdapter(Any)  # built once: a TypeAdapter costs ~13 us to make


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return _ANY.dump_python(value, mode="json")


class DuplicateToolError(ValueError):
    pass


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}
        # tool sources that could not be loaded (an MCP server down at start): source -> why
        self.unavailable: dict[str, str] = {}

    def register(self, tool: Tool, *, replace: bool = False) -> Tool:
        if tool.name in self._tools and not replace:
            raise DuplicateToolError(
                f"tool '{tool.name}' is already registered; pass replace=True to override it"
            )
        self._tools[tool.name] = tool
        return tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __getitem__(self, name: str) -> Tool:
        return self._tools[name]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(sorted(self._tools.values(), key=lambda t: t.name))

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return sorted(self._tools)


F = TypeVar("F", bound=Callable[..., Any])


def tool_from_function(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    risk: Risk = Risk.READ_ONLY,
    idempotent: bool | None = None,
    timeout_s: float = 60.0,
    retry: RetrySpec | None = None,
    kind: Literal["activity", "timer"] = "activity",
    local_ok: bool | None = None,
    pure: bool = False,
) -> Tool:
    """Build a :class:`Tool`: args model from the signature, output schema from the return type.
    ``pure``: see :attr:`Tool.pure` (a plain function, read-only, no ToolContext)."""
    hints = get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    context_param = None
    for pname, param in inspect.signature(fn).parameters.items():
        annotation = hints.get(pname, Any)
        if annotation is ToolContext:
            context_param = pname
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {fn.__name__}: *args/**kwargs are not supported")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[pname] = (annotation, default)
    tool_name = name or fn.__name__
    if pure:
        _check_pure(tool_name, fn, context_param, risk, kind)
    doc = inspect.getdoc(fn) or ""
    args_model = create_model(
        f"{_camel(tool_name)}Args",
        __config__=ConfigDict(extra="forbid"),
        __doc__=doc or None,
        **fields,
    )
    returns = hints.get("return", Any)
    output_schema = None
    if returns not in (Any, None, type(None)):
        output_schema = TypeAdapter(returns).json_schema()
    return Tool(
        name=tool_name,
        description=description or doc.split("\n\n")[0].strip() or tool_name,
        fn=fn,
        args_model=args_model,
        output_schema=output_schema,
        risk=risk,
        idempotent=risk is Risk.READ_ONLY if idempotent is None else idempotent,
        timeout_s=timeout_s,
        retry=retry or RetrySpec(),
        kind=kind,
        context_param=context_param,
        local_ok=local_ok,
        pure=pure,
    )


def _check_pure(name: str, fn: Callable[..., Any], context_param: str | None, risk: Risk,
                kind: str) -> None:
    """A pure tool runs inside workflow code: no awaiting, no environment, no effects."""
    why = None
    if inspect.iscoroutinefunction(fn):
        why = "it is async (a pure tool is a plain function: it awaits nothing)"
    elif context_param is not None:
        why = f"it takes a ToolContext ('{context_param}'): a pure tool uses its arguments only"
    elif risk is not Risk.READ_ONLY:
        why = f"it is {risk.value} (a pure tool has no effect)"
    elif kind != "activity":
        why = f"it is a {kind}"
    if why:
        raise TypeError(f"tool {name} cannot be pure: {why}")


def tool(
    registry: ToolRegistry,
    *,
    name: str | None = None,
    description: str | None = None,
    risk: Risk = Risk.READ_ONLY,
    idempotent: bool | None = None,
    timeout_s: float = 60.0,
    retry: RetrySpec | None = None,
    local_ok: bool | None = None,
    pure: bool = False,
) -> Callable[[F], F]:
    """Decorator: register a typed function as a tool in ``registry``."""

    def decorate(fn: F) -> F:
        registry.register(
            tool_from_function(
                fn,
                name=name,
                description=description,
                risk=risk,
                idempotent=idempotent,
                timeout_s=timeout_s,
                retry=retry,
                local_ok=local_ok,
                pure=pure,
            )
        )
        return fn

    return decorate


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_")) or "Tool"
