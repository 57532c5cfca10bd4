"""Scanning model text: strings, brackets and fences, so JSON can be found inside prose."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from planner.parsing.keys import _PY_LITERALS, MAX_NESTING, WRAPPER_KEYS

Tail = Literal["value", "nested", "key", "string", "word", "comma", "colon", "open"]


_PLAN_LEVEL = frozenset({"steps", *WRAPPER_KEYS})


@dataclass
class _Segment:
    """One JSON-like block: from an opening bracket to its match, or to the end of its region."""

    start: int
    end: int
    closed: bool
    stack: list[str] = field(default_factory=list)  # brackets still open at ``end``
    keys: list[str | None] = field(default_factory=list)  # the key each one was opened under
    tail: Tail = "value"  # what the block ends in, when it is not closed
    single_quotes: bool = False
    py_literals: set[str] = field(default_factory=set)
    comments: bool = False
    trailing_commas: bool = False
    too_deep: bool = False  # stopped at ``end``: brackets nested deeper than MAX_NESTING
    max_depth: int = 0  # the deepest nesting of brackets seen

    @property
    def closers(self) -> str:
        return "".join("}" if c == "{" else "]" for c in reversed(self.stack))

    @property
    def completable(self) -> bool:
        """Cut off right after a complete step (or top-level value): only closing brackets of
        the plan, its step list or its wrappers are missing."""
        return self.tail == "value"


_WORD_END = set(" \t\r\n,:{}[]\"'/")


class _Scanner:
    """A JSON(-ish) tokenizer: enough to find where a block ends and what it contains."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.i, self.end = text, start, end
        self.seg = _Segment(start=start, end=end, closed=False)
        self.last: Tail = "open"
        self.key: str | None = None

    def run(self) -> _Segment:
        text, seg = self.text, self.seg
        while self.i < self.end:
            ch = text[self.i]
            if ch.isspace():
                self.i += 1
            elif ch in "\"'":
                if not self._string(ch):
                    return self._cut("string")
            elif ch == "/" and text.startswith(("//", "/*"), self.i):
                self._comment()
            elif ch in "{[":
                if len(seg.stack) >= MAX_NESTING:
                    seg.end, seg.too_deep = self.i, True
                    return self._cut("nested")
                seg.stack.append(ch)
                seg.max_depth = max(seg.max_depth, len(seg.stack))
                seg.keys.append(self.key if self.last == "colon" else None)
                self.last = "open"
                self.i += 1
            elif ch in "}]":
                if self.last == "comma":
                    seg.trailing_commas = True
                if seg.stack:
                    seg.stack.pop()
                    seg.keys.pop()
                self.last = "value"
                self.i += 1
                if not seg.stack:
                    seg.end, seg.closed = self.i, True
                    return seg
            elif ch == ",":
                self.last = "comma"
                self.i += 1
            elif ch == ":":
                self.last = "colon"
                self.i += 1
            elif not self._word():
                return self._cut("word")
        return self._cut(self.last)

    def _expects_key(self) -> bool:
        return bool(self.seg.stack) and self.seg.stack[-1] == "{" and self.last in (
            "open", "comma")

    def _string(self, quote: str) -> bool:
        if quote == "'":
            self.seg.single_quotes = True
        is_key = self._expects_key()
        text, j = self.text, self.i + 1
        while (j := text.find(quote, j, self.end)) >= 0:
            backslashes = 0
            while j - 1 - backslashes > self.i and text[j - 1 - backslashes] == "\\":
                backslashes += 1
            if backslashes % 2 == 0:  # not escaped
                if is_key:
                    self.key = text[self.i + 1:j]
                self.i = j + 1
                self.last = "key" if is_key else "value"
                return True
            j += 1
        return False

    def _comment(self) -> None:
        self.seg.comments = True
        if self.text.startswith("//", self.i):
            stop = self.text.find("\n", self.i, self.end)
        else:
            stop = self.text.find("*/", self.i + 2, self.end)
            stop = stop + 2 if stop >= 0 else -1
        self.i = stop if stop >= 0 else self.end

    def _word(self) -> bool:
        is_key = self._expects_key()
        j = self.i + 1  # at least one character: a stray '/' or other punctuation
        while j < self.end and self.text[j] not in _WORD_END:
            j += 1
        word = self.text[self.i:j]
        if word in _PY_LITERALS:
            self.seg.py_literals.add(word)
        if is_key:
            self.key = word
        self.i = j
        self.last = "key" if is_key else "value"
        return j < self.end

    def _cut(self, tail: Tail) -> _Segment:
        if tail == "value" and any(k not in _PLAN_LEVEL for k in self.seg.keys[1:]):
            tail = "nested"
        self.seg.tail = tail
        return self.seg


@dataclass(frozen=True)
class _Region:
    start: int
    end: int
    fenced: bool


def _regions(text: str) -> list[_Region]:
    """The text split at Markdown fence lines (```` ``` ```` or ```` ```json ````)."""
    regions: list[_Region] = []
    pos, begin, fenced = 0, 0, False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            regions.append(_Region(begin, pos, fenced))
            fenced, begin = not fenced, pos + len(line)
        pos += len(line)
    regions.append(_Region(begin, len(text), fenced))
    return [r for r in regions if text[r.start:r.end].strip()]


def _fence_lines(text: str) -> Iterator[tuple[int, int]]:
    pos = 0
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            yield pos, pos + len(line)
        pos += len(line)
