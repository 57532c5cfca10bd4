"""`jarvis mcp`: JARVIS as an MCP server (stdio, or streamable HTTP with --port), with a worker
in this process when none polls. The server's code is ``jarvis_planner.mcp_server``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from planner.settings import Settings


async def _serve(settings: Settings, host: str, port: int | None) -> None:
    # imported here: `jarvis --help` starts without the mcp SDK, Temporal or the web stack
    from contextlib import AsyncExitStack

    from jarvis_planner.cli.console import err_console
    from jarvis_planner.cli.session import connect_or_fail, ensure_worker
    from jarvis_planner.mcp_server.tools import build_server
    from jarvis_planner.mcp_server.transport import http_app, http_identity, stdio_identity

    async with AsyncExitStack() as stack:
        jarvis = await connect_or_fail(settings)
        await ensure_worker(stack, jarvis)  # its note goes to stderr: stdout is the protocol
        if port is None:
            await build_server(jarvis, stdio_identity).run_stdio_async()
            return
        import uvicorn

        from jarvis_planner.web.server import UvicornServer

        app = http_app(build_server(jarvis, http_identity), settings, host)
        server = UvicornServer(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                              lifespan="on", timeout_graceful_shutdown=3))
        shown = f"[{host}]" if ":" in host else host
        err_console.print(f"JARVIS MCP server on http://{shown}:{port}/mcp (Authorization: "
                          "Bearer <web token>); Ctrl-C to stop", highlight=False)
        await server.serve()


def mcp(
    port: Annotated[int | None, typer.Option(
        help="Serve streamable HTTP at http://HOST:PORT/mcp (a token is required) instead "
             "of stdio.")] = None,
    host: Annotated[str, typer.Option(
        help="Address to listen on with --port; requests must name an allowed host "
             "(JARVIS_WEB_ALLOWED_HOSTS).")] = "127.0.0.1",
) -> None:
    """Serve JARVIS to MCP clients (a desktop assistant, an IDE, another agent): plan, run,
    read, approve, reject and cancel goals. Stdio by default; goals wait for review as any
    other (dangerous steps: approve them with `jarvis approve` or the web app)."""
    import asyncio

    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.web.tokens import TokenError, admin_token
    from planner import redaction
    from planner.settings import load_settings

    settings = load_settings()
    redaction.install(settings)
    if port is not None:
        from jarvis_planner.cli.serve import _check_port

        _check_port(host, port)
        try:
            admin_token(settings)  # made now when missing: clients need it
        except TokenError as exc:
            raise CliError(exc.message, exc.hint or None) from exc
    asyncio.run(_serve(settings, host, port))
