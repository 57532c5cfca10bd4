"""Notes kept in the data dir: append one, search them."""

from __future__ import annotations

import json
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
    path = _notes_file(ctx)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(note.model_dump_json() + "\n")
    with path.open(encoding="utf-8") as fh:
        return NoteAdded(count=sum(1 for _ in fh))


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
    registry.register(tool_from_function(notes_append, risk=Risk.SIDE_EFFECTING,
                                         idempotent=False, timeout_s=10))
    registry.register(tool_from_function(notes_search, timeout_s=10))
