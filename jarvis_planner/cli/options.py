"""Options several commands share (typer only: `jarvis --help` stays fast)."""

from __future__ import annotations

from typing import Annotated

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Print it as JSON (for scripts).")]
IdArg = Annotated[str, typer.Argument(metavar="ID", help="A goal id or a plan run id (from "
                                                         "`jarvis list`).")]
