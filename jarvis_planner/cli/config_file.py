"""Reading and writing the settings file (``planner.settings.config_file()``): flat TOML."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from planner.settings import config_file


def config_path() -> Path:
    return config_file()


def read_config() -> dict[str, Any]:
    path = config_path()
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def write_config(data: dict[str, Any]) -> None:
    """Write ``data`` as TOML (one ``key = value`` per line; values as TOML literals), by
    replacing the file, so a reader never sees half of it."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# JARVIS settings (`jarvis config set KEY VALUE`); environment variables win.\n"]
    lines += [f"{key} = {_toml(value)}\n" for key, value in sorted(data.items())]
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(path)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} to TOML")
