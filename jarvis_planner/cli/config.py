"""`jarvis config set|get|unset|list`: the settings file of the data dir (config.toml, or
``JARVIS_CONFIG``), the one way to change settings of the embedded stack for good. Environment
variables still win over it; a running worker keeps what it read at start (`jarvis up
--restart` restarts it)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

app = typer.Typer(help="Read and change settings in the data dir's config.toml.",
                  no_args_is_help=True)

SECRET_WORDS = ("key", "token", "secret", "password")


def _field(key: str) -> Any:
    from jarvis_planner.cli.errors import CliError
    from planner.settings import Settings

    name = key.lower().removeprefix("jarvis_")
    field = Settings.model_fields.get(name)
    if field is None or name == "data_dir":
        import difflib

        near = difflib.get_close_matches(name, list(Settings.model_fields), n=1)
        raise CliError(f"unknown setting {key!r}" + (f"; did you mean {near[0]!r}?" if near
                                                      else ""),
                       "`jarvis config list` shows every setting", code=2)
    return name, field


def _parse(name: str, field: Any, raw: str) -> Any:
    """``raw`` as the setting's type: JSON for lists, objects, numbers and booleans."""
    from pydantic import TypeAdapter, ValidationError

    from jarvis_planner.cli.errors import CliError

    adapter: TypeAdapter[Any] = TypeAdapter(field.annotation)
    for candidate in (raw, _json_or_none(raw)):
        if candidate is None:
            continue
        try:
            return adapter.validate_python(candidate) if not isinstance(candidate, str) \
                else adapter.validate_strings(candidate)
        except (ValidationError, ValueError):
            continue
    raise CliError(f"{raw!r} is not a valid value for {name} ({field.annotation})",
                   "lists and objects are JSON, e.g. '[\"read-only\"]'", code=2)


def _json_or_none(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _shown(name: str, value: Any) -> str:
    if value and any(word in name for word in SECRET_WORDS):
        return "***"
    return json.dumps(value, default=str) if not isinstance(value, str) else value


@app.command("set")
def set_(key: Annotated[str, typer.Argument(help="Setting, e.g. llm_base_url.")],
         value: Annotated[str, typer.Argument(help="Its value (JSON for lists and objects).")]
         ) -> None:
    """Write a setting to config.toml (workers read it when they start)."""
    from jarvis_planner.cli.config_file import config_path, read_config, write_config
    from jarvis_planner.cli.console import console

    name, field = _field(key)
    parsed = _parse(name, field, value)
    data = read_config()
    data[name] = json.loads(json.dumps(parsed, default=str))
    write_config(data)
    console.print(f"{name} = {_shown(name, parsed)}  (in {config_path()})", highlight=False)
    console.print("a running worker keeps its settings: `jarvis up --restart` restarts it",
                  style="dim", highlight=False)


@app.command()
def unset(key: Annotated[str, typer.Argument(help="Setting to remove from config.toml.")]
          ) -> None:
    """Remove a setting from config.toml (its default applies again)."""
    from jarvis_planner.cli.config_file import config_path, read_config, write_config
    from jarvis_planner.cli.console import console

    name, _ = _field(key)
    data = read_config()
    if data.pop(name, None) is None:
        console.print(f"{name} is not set in {config_path()}", highlight=False)
        return
    write_config(data)
    console.print(f"removed {name} from {config_path()}", highlight=False)


@app.command()
def get(key: Annotated[str, typer.Argument(help="Setting to show.")]) -> None:
    """Show a setting's effective value and where it comes from."""
    from jarvis_planner.cli.console import console

    name, _ = _field(key)
    value, source = _effective()[name]
    console.print(f"{name} = {_shown(name, value)}  ({source})", highlight=False)


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
          ) -> None:
    """Every setting, its effective value and its source (environment, config.toml, default);
    secrets are masked."""
    from rich.table import Table

    from jarvis_planner.cli.console import console

    rows = {name: {"value": _shown(name, v), "source": src}
            for name, (v, src) in _effective().items()}
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("setting", "value", "source")
    for name, row in rows.items():
        table.add_row(name, row["value"], row["source"])
    console.print(table)


def _effective() -> dict[str, tuple[Any, str]]:
    import os

    from jarvis_planner.cli.config_file import config_path, read_config
    from planner.settings import Settings, load_settings

    settings = load_settings()
    stored = read_config()
    out = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if f"JARVIS_{name.upper()}" in os.environ:
            source = f"environment JARVIS_{name.upper()}"
        elif name in stored:
            source = str(config_path())
        else:
            source = "default"
        out[name] = (value.model_dump() if hasattr(value, "model_dump") else value, source)
    return out
