"""MCP servers whose tools JARVIS offers (``JARVIS_MCP_SERVERS`` or ``[mcp_servers]`` in
config.toml): how to reach each, and which of its tools to take.

A server is a command started over stdio (``command``, ``args``, ``env``) or a streamable HTTP
URL (``url``, ``headers``). Its tools are named ``<server>.<tool>`` in plans and run as the
activities ``mcp.<server>.<tool>`` (activities/mcp/). ``allow`` (when set) keeps only the tools
it names; ``deny`` drops the tools it names.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from planner.contracts.names import MCP_ACTIVITY_PREFIX

SERVER_NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"  # part of tool and activity names: keep it plain


class McpServer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str | None = Field(None, min_length=1, description="stdio: the program to start")
    args: list[str] = Field(default_factory=list, description="stdio: its arguments")
    env: dict[str, str] = Field(default_factory=dict, description="stdio: more environment")
    url: str | None = Field(None, pattern=r"^https?://", description="streamable HTTP endpoint")
    headers: dict[str, str] = Field(default_factory=dict, description="HTTP: request headers")
    allow: list[str] | None = Field(None, description="only these tools (default: all)")
    deny: list[str] = Field(default_factory=list, description="never these tools")
    timeout_s: float = Field(60.0, gt=0, le=3600, description="one tool call, at most")
    connect_timeout_s: float = Field(10.0, gt=0, le=300,
                                     description="opening a session and listing its tools")

    @model_validator(mode="after")
    def _one_transport(self) -> McpServer:
        if (self.command is None) == (self.url is None):
            raise ValueError("an MCP server needs either `command` (stdio) or `url` (streamable "
                             "HTTP), not both and not neither")
        return self

    def takes(self, tool: str) -> bool:
        """Whether the allow and deny lists keep ``tool``."""
        return (self.allow is None or tool in self.allow) and tool not in self.deny


def tool_name(server: str, tool: str) -> str:
    """The name of an MCP server's tool in plans."""
    return f"{server}.{tool}"


def activity_name(server: str, tool: str) -> str:
    """The Temporal activity that runs it: a durable contract, never rename."""
    return f"{MCP_ACTIVITY_PREFIX}{server}.{tool}"
