"""`jarvis timeline ID`: a Gantt picture (SVG, optionally PNG) of a plan run or a goal's run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def timeline(
    wf_id: Annotated[str, typer.Argument(metavar="ID",
                                         help="A plan run id (plan-…) or a goal id (goal-…).")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Where to write the SVG (default: <data dir>/timelines/<ID>.svg); "
                            "a .png name writes the PNG there and the SVG beside it.")] = None,
    png: Annotated[bool, typer.Option(
        "--png", help="Also write a PNG beside the SVG (needs `pip install resvg-py`).")] = False,
) -> None:
    """Draw a timeline (Gantt chart) of a run's steps: when each ran, for how long, its status."""
    import asyncio
    import time

    from jarvis_planner.cli.console import err_console
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.session import connect_or_fail
    from jarvis_planner.cli.timelines import Found, default_path, find
    from jarvis_planner.gantt import PngUnavailable, render_png, render_svg, system_fonts_found
    from planner.settings import load_settings

    settings = load_settings()

    async def _go() -> Found:
        return await find(await connect_or_fail(settings), wf_id)

    found = asyncio.run(_go())
    svg_path = out or default_path(settings, wf_id)
    png_path = svg_path.with_suffix(".png") if png else None
    if svg_path.suffix.lower() == ".png":
        png_path, svg_path = svg_path, svg_path.with_suffix(".svg")
    svg = render_svg(found.state, title=found.title, subtitle=found.subtitle,
                     now=time.time() if found.partial else None)
    _write(svg_path, svg.encode())
    print(svg_path)
    if found.partial:
        err_console.print(f"[yellow]note:[/] {wf_id} is still running: the timeline is partial "
                          "(running steps end at the time of this drawing)", highlight=False)
    if png_path is None:
        return
    try:
        data = render_png(svg)
    except PngUnavailable as exc:
        raise CliError(str(exc), "pip install resvg-py") from exc
    if not system_fonts_found():
        err_console.print("[yellow]warning:[/] no system font found: the PNG has no text (on "
                          "Debian: apt-get install fonts-dejavu-core)", highlight=False)
    _write(png_path, data)
    print(png_path)


def _write(path: Path, data: bytes) -> None:
    from jarvis_planner.cli.errors import CliError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}",
                       "choose another file with --out") from exc

