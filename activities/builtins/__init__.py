"""Built-in tools. Registered through the ``jarvis.tools`` entry point like any plugin."""

from __future__ import annotations

from activities.builtins import calc, files, http, llm, notes, notify, shell, wait
from planner.tools import ToolRegistry

MODULES = (http, files, calc, notes, notify, wait, shell, llm)


def register(registry: ToolRegistry) -> None:
    for module in MODULES:
        module.register(registry)
