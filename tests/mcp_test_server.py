"""An MCP server for the MCP-tools tests, over streamable HTTP: ``python -m tests.mcp_test_server
PORT GATE_DIR``. Its tools: ``lookup`` (read-only, with an output schema: structured content),
``erase`` (destructive), ``broken`` (always an error: ``isError``), ``echo`` (no output
schema) and ``slow_lookup`` (read-only; writes ``GATE_DIR/entered`` and waits until
``GATE_DIR/open`` exists, so a test can kill the server in the middle of a call)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel


class City(BaseModel):
    city: str
    population: int
    country: str


POPULATIONS = {"Lyon": (522_000, "France"), "Porto": (232_000, "Portugal")}


def build(gate: Path) -> MCPServer:
    server: MCPServer = MCPServer(name="jarvis-test-mcp")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True))
    def lookup(city: str) -> City:
        """The population of a city."""
        population, country = POPULATIONS[city]
        return City(city=city, population=population, country=country)

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True))
    def slow_lookup(city: str) -> City:
        """The population of a city, slowly (waits for the test's gate)."""
        (gate / "entered").write_text(city)
        while not (gate / "open").exists():
            time.sleep(0.05)
        population, country = POPULATIONS[city]
        return City(city=city, population=population, country=country)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True))
    def erase(name: str) -> str:
        """Erase a record for good."""
        (gate / f"erased-{name}").write_text(name)
        return f"erased {name}"

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def broken(reason: str) -> str:
        """Always fails."""
        raise ValueError(f"broken on purpose: {reason}")

    @server.tool(structured_output=False)
    def echo(text: str) -> str:
        """Say it back."""
        return text

    return server


if __name__ == "__main__":
    port, gate_dir = int(sys.argv[1]), Path(sys.argv[2])
    build(gate_dir).run(transport="streamable-http", host="127.0.0.1", port=port)
