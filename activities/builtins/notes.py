"""Notes kept in the data dir: append one, search them."""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

from pydantic import BaseModel

from planner.tools import Risk, ToolContext, ToolRegistry, tool_from_function


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
    note = Note(text=text, tags=tags or [], created_at=time.time())
    key = ctx.idempotency_key
    record = {**note.model_dump(), **({"key": key} if key else {})}
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
    fd = os.open(_notes_file(ctx), os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "r+b") as fh:
        # one writer at a time, so "is this step's note there yet?" and the append are one act:
        # a retry after a crash that followed the write finds the note and adds nothing
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        lines = fh.read().splitlines()
        if key is None or not any(_has_key(raw, key) for raw in lines):
            fh.write(line)  # one write of one line, O_APPEND
            fh.flush()
            lines.append(line)
        return NoteAdded(count=len(lines))


def _has_key(raw: bytes, key: str) -> bool:
    if key.encode() not in raw:
        return False
    try:
        return bool(json.loads(raw).get("key") == key)
    except ValueError:
        return False


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
    # idempotent: a retried step (same idempotency key) finds its note and appends nothing
    registry.register(tool_from_function(notes_append, risk=Risk.SIDE_EFFECTING,
                                         idempotent=True, timeout_s=10))
    registry.register(tool_from_function(notes_search, timeout_s=10))
