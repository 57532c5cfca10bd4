"""What a write replaced, kept so the write can be undone when its goal is abandoned.

Before ``write_file`` changes a file under an idempotency key it records, once per key, whether
the file existed and its bytes (``<data_dir>/effects/undo/<sha256(key)>.json``). The first
attempt's record wins: a retry after a crash must not record the step's own bytes as "before".
``undo_write_file`` (the compensation, run under the same key) puts the bytes back or removes
a file the step created, then drops the record.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

MAX_UNDO_BYTES = 5_000_000  # a larger file is not kept: its undo is refused with the reason


def record_path(data_dir: str | Path, key: str) -> Path:
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return Path(data_dir) / "effects" / "undo" / f"{digest}.json"


def record_before(data_dir: str | Path, key: str, path: str, before: bytes | None,
                  size: int) -> None:
    """Record what ``path`` held before the step's write (None: it did not exist), unless a
    record for ``key`` exists already."""
    target = record_path(data_dir, key)
    if target.exists():
        return
    entry: dict[str, Any] = {"key": key, "path": path, "existed": before is not None or size > 0}
    if before is not None:
        entry["data"] = base64.b64encode(before).decode("ascii")
    elif size > MAX_UNDO_BYTES:
        entry["too_large"] = size
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{secrets.token_hex(8)}.tmp")
    tmp.write_text(json.dumps(entry), encoding="utf-8")
    os.replace(tmp, target)


def load_record(data_dir: str | Path, key: str) -> dict[str, Any] | None:
    target = record_path(data_dir, key)
    try:
        found: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return found


def drop_record(data_dir: str | Path, key: str) -> None:
    record_path(data_dir, key).unlink(missing_ok=True)


def before_bytes(entry: dict[str, Any]) -> bytes | None:
    data = entry.get("data")
    return base64.b64decode(data) if isinstance(data, str) else None
