"""`jarvis users add|list|remove`: the people who may use the web app besides the admin (whose
token is JARVIS_WEB_TOKEN or <data dir>/web-token). Tokens are shown once and never stored: the
users file keeps their SHA-256 digests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from jarvis_planner.web.tokens import UserStore

app = typer.Typer(help="Web app users: each has a token; only admins see every goal.",
                  no_args_is_help=True)


@contextlib.contextmanager
def _store() -> Iterator[UserStore]:
    """The users file; its errors as one line and a hint."""
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.web.tokens import TokenError, UserStore
    from planner.settings import load_settings

    try:
        yield UserStore.of(load_settings())
    except TokenError as exc:
        raise CliError(exc.message, exc.hint or None) from exc


@app.command()
def add(name: Annotated[str, typer.Argument(help="User name (lowercase letters, digits, "
                                                 "'.', '_', '-').")],
        admin: Annotated[bool, typer.Option("--admin", help="Sees and decides every goal, "
                                                            "not only their own.")] = False
        ) -> None:
    """Add a user and print their token (once: it is not stored)."""
    from jarvis_planner.cli.console import console

    with _store() as store:
        token = store.add(name, admin=admin)
    console.print(f"added {'admin ' if admin else ''}user [bold]{name}[/] (recorded as "
                  f"web:{name}); their token, shown this once:", highlight=False)
    console.print(token, highlight=False, soft_wrap=True)
    console.print(f"[dim]users file: {store.path}[/]", highlight=False)


@app.command("list")
def list_users() -> None:
    """List the users ("admin", who holds the admin token, is not in the file)."""
    from jarvis_planner.cli.console import console

    with _store() as store:
        users = store.users()
    if not users:
        console.print("no users besides admin; `jarvis users add NAME` adds one")
        return
    for user in sorted(users.values(), key=lambda u: u.name):
        console.print(f"{user.name}{'  (admin)' if user.admin else ''}", highlight=False)


@app.command()
def remove(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Remove a user: their token stops working and their sessions end."""
    from jarvis_planner.cli.console import console

    with _store() as store:
        store.remove(name)
    console.print(f"removed {name}", highlight=False)
