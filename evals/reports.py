"""Report writing shared by the eval scripts: one JSON file (everything) and one Markdown file
(what a person reads) per run, in one folder (default ``eval-reports/``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

DEFAULT_OUT = Path("eval-reports")


def to_jsonable(data: Any) -> Any:
    """Pydantic models (also inside lists and dicts) as JSON-compatible data."""
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, Mapping):
        return {str(k): to_jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [to_jsonable(v) for v in data]
    return data


def write_report(out: Path, stem: str, data: Any, markdown: str) -> tuple[Path, Path]:
    """Write ``<out>/<stem>.json`` and ``<out>/<stem>.md``; return both paths."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(to_jsonable(data), indent=1, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    md_path.write_text(markdown if markdown.endswith("\n") else markdown + "\n",
                       encoding="utf-8")
    return json_path, md_path


def md_cell(value: Any) -> str:
    """A value as a Markdown table cell (pipes escaped, one line)."""
    text = fmt(value) if isinstance(value, float) or value is None else str(value)
    return " ".join(text.replace("|", "\\|").split())


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]],
             align: str | None = None) -> list[str]:
    """A Markdown table; ``align`` has one letter per column: ``l`` or ``r`` (default: left)."""
    align = align or "l" * len(header)
    lines = ["| " + " | ".join(md_cell(h) for h in header) + " |",
             "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return lines


def text_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table for the terminal."""
    cells = [[md_cell(c) for c in header], *[[md_cell(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fmt(value: float | None, digits: int = 3) -> str:
    """A score for display: ``0.875``, or ``n/a`` for None."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def pct(part: int, whole: int) -> str:
    """``12 (40%)``; just the count when ``whole`` is 0."""
    return f"{part} ({100 * part / whole:.0f}%)" if whole else str(part)


def ratio(total: float, count: int, digits: int = 1) -> str:
    """``total / count`` for display (``n/a`` when count is 0)."""
    return f"{total / count:.{digits}f}" if count else "n/a"


__all__ = ["DEFAULT_OUT", "fmt", "md_cell", "md_table", "pct", "ratio", "text_table",
           "to_jsonable", "write_report"]
