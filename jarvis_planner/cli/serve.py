"""`jarvis serve`: the chat web app and its JSON API (uvicorn), with a worker when none polls."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Annotated

import typer

from jarvis_planner.cli.errors import CliError

if TYPE_CHECKING:
    from jarvis_planner.web.tokens import AdminToken
    from planner.settings import Settings

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _check_port(host: str, port: int) -> None:
    """Fail with a clear message before uvicorn would (it logs and exits on a busy port)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CliError(f"cannot resolve host {host!r}: {exc.strerror}",
                       "use an address such as 127.0.0.1 or 0.0.0.0") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}",
                           "choose another port with --port") from exc


def _token(settings: Settings) -> AdminToken:
    from jarvis_planner.web.tokens import TokenError, admin_token

    try:
        return admin_token(settings)
    except TokenError as exc:
        raise CliError(exc.message, exc.hint or None) from exc


def _say_how_to_log_in(token: AdminToken, url: str, hosts: list[str]) -> None:
    from jarvis_planner.cli.console import console

    if token.created:
        console.print(f"[bold]web token[/] (shown this once; kept in {token.path}):",
                      highlight=False)
        console.print(token.token, highlight=False, soft_wrap=True)
        console.print(f"log in with: {url}/#token={token.token}", highlight=False,
                      soft_wrap=True)
    elif token.path is not None:
        console.print(f"web token in {token.path}", highlight=False)
    else:
        console.print("web token from JARVIS_WEB_TOKEN", highlight=False)
    console.print(f"[dim]answers to host names {', '.join(hosts)} (JARVIS_WEB_ALLOWED_HOSTS); "
                  "`jarvis users add NAME` adds people[/]", highlight=False)


async def _serve(settings: Settings, token: AdminToken, host: str, port: int,
                 log_level: str) -> None:
    # imported here: the rest of the CLI does not need FastAPI / uvicorn to start
    from agents import log_setup
    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.session import session
    from jarvis_planner.web.app import UvicornServer, create_app, server_config, temporal_ui_base
    from jarvis_planner.web.security import allowed_hosts
    from planner import redaction

    numeric = 5 if log_level == "trace" else int(logging.getLevelName(
        (log_level if log_level in LOG_LEVELS else "info").upper()))
    handler = log_setup.configure(settings, level=numeric)
    async with AsyncExitStack() as stack:
        jarvis, _ = await session(settings, stack)
        app = create_app(settings, jarvis, bind_host=host, token=token)
        level = log_level if log_level in LOG_LEVELS else "info"
        server = UvicornServer(server_config(app, host, port, level))
        # uvicorn has configured its loggers now: its own lines in our handler and format (ours
        # are a line per request, per goal stage and step of the worker here if any); its
        # access log stays off (it shows query strings; on with --log-level debug), and tokens
        # and keys stay out of what any of them write
        log_setup.adopt(handler, ("uvicorn", "uvicorn.error"))
        redaction.install(settings, extra=[token.token],
                          loggers=("", "uvicorn.access"))
        shown = ("localhost" if host in ("127.0.0.1", "0.0.0.0", "::")
                 else f"[{host}]" if ":" in host else host)
        url = f"http://{shown}:{port}"
        console.print(f"[green]JARVIS chat[/] on {url}  (API docs: /docs, "
                      f"Temporal UI: {temporal_ui_base(settings)}); Ctrl-C to stop",
                      highlight=False)
        _say_how_to_log_in(token, url, sorted(allowed_hosts(settings.web_allowed_hosts, host)))
        await server.serve()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface; "
                                           "requests must still name an allowed host, see "
                                           "JARVIS_WEB_ALLOWED_HOSTS).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the chat web app and its JSON API (a worker runs here when none polls). Every
    API call needs a token: the first start makes one and prints it (once)."""
    from planner.settings import load_settings

    settings = load_settings()
    _check_port(host, port)
    token = _token(settings)
    asyncio.run(_serve(settings, token, host, port, log_level))


if __name__ == "__main__":  # `python -m jarvis_planner.cli.serve`: this command alone
    single = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    single.command()(serve)
    code = 0
    try:
        single(standalone_mode=False)
    except CliError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        code = exc.code
    except KeyboardInterrupt:
        code = 130
    if "agents.tracing" in sys.modules:  # a client was made: export the spans still buffered
        from agents.tracing import flush

        flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip teardown: the Temporal SDK's threads can abort it (sdk-python #300)
