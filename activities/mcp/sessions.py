"""Sessions with MCP servers: one per server in a worker process, opened on first use and
re-opened after it broke (a server killed or restarted: the call that saw it fails as a
retryable step error, and the step's next attempt opens a new session).

An ``mcp.Client`` is an anyio context: it must be left in the task that entered it, so each
session lives in an owner task of its own that holds it open until it is closed or fails;
activities (other tasks) call tools through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult
from mcp.types import Tool as McpTool

from planner.mcp_servers import McpServer

log = logging.getLogger(__name__)


class McpUnavailable(Exception):
    """The server could not be reached, or its session broke (worth another attempt)."""


def client_for(config: McpServer) -> Client:
    """An unopened client for ``config`` (stdio: the command runs as a child process)."""
    if config.command is not None:
        return Client(StdioServerParameters(command=config.command, args=config.args,
                                            env={**config.env}),
                      mode="legacy")
    assert config.url is not None  # McpServer demands one of them
    http = httpx2.AsyncClient(headers=config.headers,
                              timeout=httpx2.Timeout(config.connect_timeout_s,
                                                     read=config.timeout_s + 5))
    return Client(streamable_http_client(config.url, http_client=http), mode="legacy")


@contextlib.asynccontextmanager
async def opened(config: McpServer) -> AsyncIterator[Client]:
    """A session for the length of a ``with``, opened within the connect timeout."""
    client = client_for(config)
    async with asyncio.timeout(config.connect_timeout_s):
        await client.__aenter__()
    try:
        yield client
    finally:
        await client.__aexit__(None, None, None)


async def list_tools(config: McpServer) -> list[McpTool]:
    """The server's tools (every page), within its connect timeout."""
    async with opened(config) as client, asyncio.timeout(config.connect_timeout_s):
        return list((await client.list_tools()).tools)


@dataclass
class _Session:
    client: Client
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def alive(self) -> bool:
        return self.task is not None and not self.task.done() and not self.stop.is_set()


class McpSessions:
    """The open sessions of this process, one per configured server."""

    def __init__(self, servers: Mapping[str, McpServer]) -> None:
        self.servers = dict(servers)
        self._open: dict[str, _Session] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def call(self, server: str, tool: str, args: dict[str, Any]) -> CallToolResult:
        """Call ``tool`` on ``server``; a transport failure or a timeout drops the session and
        raises :class:`McpUnavailable`."""
        config = self.servers[server]
        session = await self._session(server, config)
        try:
            async with asyncio.timeout(config.timeout_s):
                return await session.client.call_tool(tool, args,
                                                      read_timeout_seconds=config.timeout_s)
        except TimeoutError:
            self._drop(server, session)
            raise McpUnavailable(f"MCP server '{server}' did not answer {tool} within "
                                 f"{config.timeout_s:g} s") from None
        except Exception as exc:  # the transport or session broke under the call
            self._drop(server, session)
            raise McpUnavailable(f"MCP server '{server}' failed during {tool}: "
                                 f"{type(exc).__name__}: {exc}") from exc

    async def _session(self, server: str, config: McpServer) -> _Session:
        lock = self._locks.setdefault(server, asyncio.Lock())
        async with lock:
            current = self._open.get(server)
            if current is not None and current.alive:
                return current
            session = await self._start(server, config)
            self._open[server] = session
            return session

    async def _start(self, server: str, config: McpServer) -> _Session:
        ready: asyncio.Future[_Session] = asyncio.get_running_loop().create_future()

        async def own() -> None:
            session: _Session | None = None
            try:
                async with opened(config) as client:
                    session = _Session(client)
                    session.task = asyncio.current_task()
                    ready.set_result(session)
                    await session.stop.wait()
            except BaseException as exc:
                if not ready.done():
                    ready.set_exception(McpUnavailable(
                        f"cannot open a session with MCP server '{server}': "
                        f"{type(exc).__name__}: {exc}"))
                elif not isinstance(exc, asyncio.CancelledError):
                    log.info("MCP server '%s': session ended (%s); the next call opens another",
                             server, type(exc).__name__)
            finally:
                if session is not None:
                    session.stop.set()

        task = asyncio.get_running_loop().create_task(own(), name=f"mcp-session-{server}")
        try:
            return await ready
        except BaseException:
            task.cancel()
            raise

    def _drop(self, server: str, session: _Session) -> None:
        session.stop.set()  # its owner task leaves the client (closing the transport)
        if self._open.get(server) is session:
            del self._open[server]

    async def close(self) -> None:
        for server, session in list(self._open.items()):
            self._drop(server, session)
            if session.task is not None:
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(session.task, 5)
