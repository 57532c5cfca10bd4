"""Rows of plain text laid out when drawn: a table where the console has room for every column
and a readable last one (a step's detail, a goal, a description); else, as in an 80-column
terminal or a pipe, a line per row with its last cell indented under it, nothing cut mid-word.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

# a table only when its last column gets this many characters (or its longest line, if shorter)
LAST_COLUMN_ROOM = 30
INDENT = 4


@dataclass(frozen=True)
class Column:
    """``fact``: how a cell reads on a row's line, away from its header (``2`` attempts:
    ``2 attempts``); ``no_wrap``: never folded in the table (ids, to copy whole)."""

    name: str
    fact: Callable[[str], str] | None = None
    no_wrap: bool = False


@dataclass
class Rows:
    """``rows``: one cell per column, plain text (never read as markup), styled or not;
    ``room``: the least a table leaves its last column (unless all of it fits in less)."""

    title: str
    columns: Sequence[Column]
    rows: list[list[Text]] = field(default_factory=list)
    room: int = LAST_COLUMN_ROOM

    def add(self, *cells: str | Text) -> None:
        self.rows.append([c if isinstance(c, Text) else Text(c) for c in cells])

    def fits(self, width: int) -> bool:
        widest = [max([len(col.name)] + [len(line) for row in self.rows
                                         for line in row[k].plain.splitlines()])
                  for k, col in enumerate(self.columns)]
        room = width - sum(widest[:-1]) - (3 * len(self.columns) + 1)  # borders and padding
        return room >= min(self.room, widest[-1])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.fits(options.max_width):
            yield self.table()
            return
        yield Text(self.title, style="table.title")
        for row in self.rows:
            for line in self._lines(row, options.max_width):
                yield line.text if not line.indented else _indented(
                    line.text, console, None if console.soft_wrap else options.max_width)

    def table(self) -> Table:
        table = Table(title=Text(self.title), title_justify="left")
        for col in self.columns:
            table.add_column(col.name, no_wrap=col.no_wrap)
        for row in self.rows:
            table.add_row(*row)
        return table

    def _lines(self, row: list[Text], width: int) -> list[_Line]:
        """The row's cells but the last as facts on one line (the first in bold); its last
        cell indented under it. A first cell too long to share its line (a goal id) gets one
        of its own, whole, and the other facts go under it."""
        facts = [self._fact(col, cell) for col, cell in zip(self.columns[1:-1], row[1:-1],
                                                           strict=True)]
        facts = [f for f in facts if f.plain]
        first = row[0].copy()
        first.stylize("bold")
        line = Text(" · ").join([first, *facts])
        if len(line) > width and facts:
            out = [_Line(first, False), _Line(Text(" · ").join(facts), True)]
        else:
            out = [_Line(line, False)]
        return out + ([_Line(row[-1], True)] if row[-1].plain else [])

    @staticmethod
    def _fact(col: Column, cell: Text) -> Text:
        if col.fact is None or not cell.plain:
            return cell
        return Text(col.fact(cell.plain), style=cell.style)


@dataclass(frozen=True)
class _Line:
    text: Text
    indented: bool


def _indented(text: Text, console: Console, width: int | None) -> Text:
    """``text`` indented, wrapped to ``width`` with its wrapped lines indented too; ``None``:
    where lines are never wrapped (a pipe: soft wrap), so none is cut at the console's width
    either: only its own lines, each indented."""
    lines = (text.split("\n") if width is None
             else text.wrap(console, max(1, width - INDENT)))
    return Text("\n").join(Text(" " * INDENT) + line for line in lines)
