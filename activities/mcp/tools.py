"""An MCP server's tools as JARVIS tools.

Each listed tool becomes ``<server>.<tool>`` (activity ``mcp.<server>.<tool>``): its input
schema is the argument model, its output schema (when the server declares one) the output,
which is the call's structured content; a tool without one outputs ``{"text": ...}``, the
text of its content. Annotations set the policy: ``readOnlyHint`` -> read-only,
``destructiveHint`` -> dangerous, otherwise side-effecting; ``idempotentHint`` (or read-only)
-> idempotent. A call the server answers with ``isError`` fails the step with the server's
message (no retry: the same call fails the same way); a broken session or a timeout is a
retryable failure, and the next attempt opens a new session.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
from collections.abc import Mapping
from typing import Any

from mcp.types import CallToolResult, TextContent
from mcp.types import Tool as McpTool

from activities.errors import ToolError
from activities.langchain_adapter import model_from_json_schema
from activities.mcp.sessions import McpSessions, McpUnavailable, list_tools
from planner.mcp_servers import McpServer, activity_name, tool_name
from planner.retry import RetrySpec
from planner.tools import Risk, Tool, ToolRegistry

log = logging.getLogger(__name__)

TEXT_OUTPUT: dict[str, Any] = {"type": "object", "properties": {"text": {"type": "string"}},
                               "required": ["text"]}
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_ERROR_CHARS = 2_000


class McpToolError(ToolError):
    """The server answered the call with ``isError``: the same call would fail again."""

    retryable = False


def policy_of(tool: McpTool) -> tuple[Risk, bool]:
    """Risk and idempotency from the tool's annotations."""
    notes = tool.annotations
    read_only = notes is not None and notes.read_only_hint is True
    if read_only:
        risk = Risk.READ_ONLY
    elif notes is not None and notes.destructive_hint is True:
        risk = Risk.DANGEROUS
    else:
        risk = Risk.SIDE_EFFECTING
    return risk, read_only or (notes is not None and notes.idempotent_hint is True)


def tool_from_mcp(server: str, config: McpServer, tool: McpTool, sessions: McpSessions) -> Tool:
    name = tool_name(server, tool.name)
    args_model = model_from_json_schema(tool.input_schema, f"Mcp{_camel(server)}"
                                        f"{_camel(tool.name)}Args")
    aliases = {k: f.alias for k, f in args_model.model_fields.items() if f.alias}
    optional = {k for k, f in args_model.model_fields.items()
                if not f.is_required() and f.default is None}
    risk, idempotent = policy_of(tool)

    async def run(**kwargs: Any) -> Any:
        args = {aliases.get(k, k): v for k, v in kwargs.items()
                if not (v is None and k in optional)}
        try:
            result = await sessions.call(server, tool.name, args)
        except McpUnavailable as exc:
            raise ToolError(str(exc)) from None
        return output_of(name, result)

    run.__name__ = run.__qualname__ = f"run_mcp_{server}_{tool.name}"
    return Tool(name=name, description=(tool.description or tool.title or tool.name).strip(),
                fn=run, args_model=args_model,
                output_schema=dict(tool.output_schema) if tool.output_schema else TEXT_OUTPUT,
                risk=risk, idempotent=idempotent, timeout_s=config.timeout_s + 5,
                retry=RetrySpec(), local_ok=False, activity=activity_name(server, tool.name),
                source=f"mcp:{server}")


def output_of(name: str, result: CallToolResult) -> Any:
    """The step's output: structured content, else the text; ``isError`` raises."""
    text = "\n".join(c.text for c in result.content if isinstance(c, TextContent))
    if result.is_error:
        raise McpToolError(f"MCP tool '{name}' failed: {text[:MAX_ERROR_CHARS] or 'no message'}")
    if result.structured_content is not None:
        return result.structured_content
    return {"text": text}


def add_mcp_tools(registry: ToolRegistry, servers: Mapping[str, McpServer]) -> McpSessions:
    """Register the tools of every server that answers (listed at once, each within its
    connect timeout); a server that does not is noted in ``registry.unavailable`` and logged,
    and its tools are absent. Returns the sessions the tools call through."""
    sessions = McpSessions(servers)
    listed = _list_all(servers)
    for server, found in listed.items():
        config = servers[server]
        if isinstance(found, BaseException):
            cause = _innermost(found)
            why = (f"MCP server '{server}' is unreachable ({type(cause).__name__}: {cause}); "
                   f"its tools are not offered: start it, or fix `mcp_servers.{server}` in "
                   "the settings, then restart the worker")
            registry.unavailable[f"mcp:{server}"] = why
            log.warning("%s", why)
            continue
        for tool in found:
            if not config.takes(tool.name):
                continue
            if not _TOOL_NAME.match(tool.name):
                log.warning("MCP server '%s': tool %r skipped (a name of letters, digits, _ "
                            "and - only)", server, tool.name)
                continue
            registry.register(tool_from_mcp(server, config, tool, sessions), replace=True)
    return sessions


def _list_all(servers: Mapping[str, McpServer]) -> dict[str, list[McpTool] | BaseException]:
    """Every server's tools, asked at once in a thread of its own (callers may be inside an
    event loop already)."""
    async def ask() -> dict[str, list[McpTool] | BaseException]:
        names = list(servers)
        found = await asyncio.gather(*(list_tools(servers[n]) for n in names),
                                     return_exceptions=True)
        return dict(zip(names, found, strict=True))

    if not servers:
        return {}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, ask()).result()


def _innermost(exc: BaseException) -> BaseException:
    """The first leaf of an exception group (anyio task groups wrap transport errors)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in re.split(r"[-_.]", name)) or "Tool"
