"""Appends made at most once per idempotency key, through a journal of intents.

A step's attempts share one key (``ToolContext.idempotency_key``: workflow id, run id, step id).
A worker can die after an append and before its activity completes; the retry must not append
again. So, under an exclusive ``flock`` on the file (every appender through these tools takes
it), an append with a key:

1. looks up its journal entry, ``<data_dir>/effects/<sha256(key)>`` (JSON: key, path, device
   and inode of the file, offset, length and sha256 of the data). With none, it
   2. writes the entry atomically (a temporary file, then ``os.replace``) with the offset set
      to the file's current size, and
   3. appends the data with one ``O_APPEND`` write (looping only on a short write).
4. With an entry for the same data and file, it reads the file at ``[offset, offset+length)``:
   the data is there -> the append was made, nothing is written; the file ends inside that
   range with a prefix of the data -> the worker died mid-append, the rest is written; anything
   else (the file was rewritten meanwhile) -> a new entry and a new append.

Without a key (a direct call outside a run) the append is made under the lock, unjournaled.
This covers a killed worker process (the page cache survives it); nothing is fsync'ed, so a
power loss can still lose or repeat an append. Journal entries are small and never pruned yet.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def locked(fd: int) -> Iterator[None]:
    """Hold an exclusive advisory lock on the open file ``fd``."""
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` (one call unless the kernel writes short)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_at(fd: int, offset: int, length: int) -> bytes:
    """Up to ``length`` bytes of ``fd`` from ``offset`` (fewer at the end of the file)."""
    chunks: list[bytes] = []
    while length > 0:
        chunk = os.pread(fd, min(length, 1 << 20), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
        length -= len(chunk)
    return b"".join(chunks)


def _entry_path(journal: Path, key: str) -> Path:
    return journal / hashlib.sha256(key.encode("utf-8")).hexdigest()


def _read_entry(path: Path) -> dict[str, Any] | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return entry if isinstance(entry, dict) else None


def _write_entry(path: Path, entry: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    tmp.write_text(json.dumps(entry, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _missing_part(fd: int, entry: dict[str, Any], data: bytes, size: int) -> bytes | None:
    """What of ``data`` the journaled append at ``entry`` still lacks (b'' when it was made),
    or None when the file no longer shows that append."""
    offset = int(entry["offset"])
    there = read_at(fd, offset, len(data))
    if there == data:
        return b""
    if size == offset + len(there) and data.startswith(there):
        return data[len(there):]
    return None


def append_once(fd: int, data: bytes, *, key: str | None, journal: Path, label: str) -> int:
    """Append ``data`` to the open regular file ``fd`` (opened ``O_RDWR | O_APPEND``) at most
    once for ``key``; return the file's size afterwards. ``label`` names the file in the
    journal (for people reading it)."""
    with locked(fd):
        if key is None:
            write_all(fd, data)
            return os.fstat(fd).st_size
        st = os.fstat(fd)
        digest = hashlib.sha256(data).hexdigest()
        where = _entry_path(journal, key)
        entry = _read_entry(where)
        if (entry is not None and entry.get("sha256") == digest
                and entry.get("file") == [st.st_dev, st.st_ino]):
            missing = _missing_part(fd, entry, data, st.st_size)
            if missing is not None:
                write_all(fd, missing)
                return os.fstat(fd).st_size
        _write_entry(where, {"key": key, "path": label, "file": [st.st_dev, st.st_ino],
                             "offset": st.st_size, "length": len(data), "sha256": digest})
        write_all(fd, data)
        return os.fstat(fd).st_size
