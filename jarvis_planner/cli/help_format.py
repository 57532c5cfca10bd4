"""`--help` as people read it: an option's value named TEXT, INTEGER, NUMBER or PATH (typer's
rich help shows Python types such as ``<str>``), nothing after a flag (it shows ``<bool>``), and
arguments in the usage line as GOAL / [NAME] (it shows ``{goal}``). A ``metavar=`` given on a
parameter still wins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from typer.core import TyperArgument, TyperOption

NAMES = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "bool": "BOOLEAN", "path": "PATH",
         "file": "FILE", "directory": "DIRECTORY", "dir": "DIRECTORY"}


def plain(shown: str) -> str:
    """``<int>`` -> ``INTEGER``; ``<a|b>`` -> ``[a|b]``; ``<list[str]>`` -> ``TEXT...``."""
    inner = shown[1:-1] if shown.startswith("<") and shown.endswith(">") else shown
    more = ""
    if inner.startswith("list[") and inner.endswith("]"):
        inner, more = inner[5:-1], "..."
    if "|" in inner:
        return f"[{inner}]{more}"
    return NAMES.get(inner.lower(), inner.upper()) + more


def _patched(original: Callable[..., str | None]) -> Callable[..., str | None]:
    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if self.metavar is not None and isinstance(self, TyperOption):
            return str(self.metavar)  # (an argument's metavar is its name, shown beside)
        if getattr(self, "is_flag", False) or getattr(self, "count", False):
            return None
        shown = original(self, ctx)
        return plain(shown) if shown else shown

    display_type_rich.__jarvis_help__ = True  # type: ignore[attr-defined]
    return display_type_rich


def _usage_name(self: TyperArgument) -> str:
    name = self.metavar or (self.name or "").upper()
    if self.nargs != 1:
        name += "..."
    return name if self.required else f"[{name}]"


def install() -> None:
    """Patch typer's parameters once (the `jarvis` app only runs in its own process)."""
    for cls in (TyperOption, TyperArgument):
        current = cls.display_type_rich
        if not getattr(current, "__jarvis_help__", False):
            cls.display_type_rich = _patched(current)  # type: ignore[method-assign]
    TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
