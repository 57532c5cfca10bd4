"""Notes kept in the data dir: append one, search them.

One note is one JSON line, written with one ``O_APPEND`` write under an exclusive ``flock`` on
the notes file. A note appended by a step carries the step's idempotency key (``"key"``); an
attempt that finds its key already in the file (the worker died after the append, before the
activity completed) appends nothing and answers as the first attempt did.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from activities.effects import locked, read_at, write_all
from planner.tools import Risk, ToolContext, ToolRegistry, tool_from_function

_NOTES_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC


class Note(BaseModel):
    text: str
    tags: list[str]
    created_at: float


class NoteAdded(BaseModel):
    count: int


class NoteHits(BaseModel):
    query: str
    notes: list[Note]
    count: int


def _notes_file(ctx: ToolContext) -> Path:
    path = Path(ctx.data_dir) / "notes.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def notes_append(text: str, ctx: ToolContext, tags: list[str] | None = None) -> NoteAdded:
    """Append a note (with optional tags) to the notes file in the data dir."""
    note: dict[str, Any] = Note(text=text, tags=tags or [], created_at=time.time()).model_dump()
    key = ctx.idempotency_key
    if key is not None:
        note["key"] = key
    fd = os.open(_notes_file(ctx), _NOTES_FLAGS, 0o666)
    try:
        with locked(fd):
            held = read_at(fd, 0, os.fstat(fd).st_size)
            count = held.count(b"\n") + (0 if held.endswith(b"\n") or not held else 1)
            if key is None or not any(_has_key(line, key) for line in held.split(b"\n")):
                # A torn last line (a crash mid-write) gets its own line, never our note's.
                torn = b"" if held.endswith(b"\n") or not held else b"\n"
                write_all(fd, torn + json.dumps(note).encode("utf-8") + b"\n")
                count += 1
            return NoteAdded(count=count)
    finally:
        os.close(fd)


def _has_key(line: bytes, key: str) -> bool:
    if json.dumps(key).encode("utf-8") not in line:  # cheap test first (json.dumps as written)
        return False
    try:
        stored = json.loads(line)
    except ValueError:
        return False
    return isinstance(stored, dict) and stored.get("key") == key


def notes_search(query: str, ctx: ToolContext, limit: int = 10) -> NoteHits:
    """Find notes whose text or tags contain every word of the query (case-insensitive)."""
    words = query.lower().split()
    path = _notes_file(ctx)
    hits: list[Note] = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                note = Note.model_validate(json.loads(line))
            except ValueError:  # a blank or half-written line: not a note
                continue
            hay = (note.text + " " + " ".join(note.tags)).lower()
            if all(w in hay for w in words):
                hits.append(note)
    hits = hits[-limit:][::-1]
    return NoteHits(query=query, notes=hits, count=len(hits))


def register(registry: ToolRegistry) -> None:
    # Idempotent honestly: an attempt that finds its step's key in the file appends nothing.
    # Still a regular activity: side-effecting tools never run local (Tool.runs_local).
    registry.register(tool_from_function(notes_append, risk=Risk.SIDE_EFFECTING,
                                         idempotent=True, timeout_s=10))
    registry.register(tool_from_function(notes_search, timeout_s=10))
