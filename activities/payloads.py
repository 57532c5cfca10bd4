"""Keep workflow history small: large outputs go to a payload store; the history keeps a handle.

The store is a folder of content-addressed JSON files (the data dir by default). A shared
filesystem works across machines; an object store can implement the same two methods later.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Protocol

from planner.contracts.handles import HANDLE_KEY, is_handle


class PayloadStore(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, key: str) -> bytes: ...


class FilePayloadStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError(f"bad payload key {key!r}")
        return self.root / key[:2] / f"{key}.json"

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return key

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise LookupError(
                f"payload {key} is missing from {self.root}; workers and clients must share "
                "the data dir (or the same payload store)"
            ) from exc


def compact(value: Any, store: PayloadStore, limit: int) -> Any:
    """``value`` when its JSON is at most ``limit`` bytes, else a handle to the stored JSON."""
    if _surely_within(value, limit):
        return value
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    if len(data) <= limit:
        return value
    key = store.put(data)
    return {HANDLE_KEY: key, "bytes": len(data), "preview": data[:200].decode(errors="ignore")}


# the most bytes the JSON of a float, a bool, None or an int within INT_BOUND takes
SCALAR_JSON_BYTES = 32
INT_BOUND = 10**18
# the most bytes one character of a string takes in JSON (an escape such as \u0000)
CHAR_JSON_BYTES = 6


def _surely_within(value: Any, limit: int) -> bool:
    """Whether ``value``'s JSON is within ``limit`` bytes without writing it: a scalar, or a
    string short enough that even escaping every character would fit."""
    if value is None or isinstance(value, bool | float) or (
            isinstance(value, int) and -INT_BOUND < value < INT_BOUND):
        return limit >= SCALAR_JSON_BYTES
    if isinstance(value, str):
        return CHAR_JSON_BYTES * len(value) + 2 <= limit
    return False


def hydrate(value: Any, store: PayloadStore) -> Any:
    """Replace handles (possibly with a ``path`` into them) by the stored data, recursively."""
    if is_handle(value):
        data = json.loads(store.get(value[HANDLE_KEY]))
        for item in value.get("path", []):
            data = data[item]
        return data
    if isinstance(value, dict):
        return {k: hydrate(v, store) for k, v in value.items()}
    if isinstance(value, list):
        return [hydrate(v, store) for v in value]
    return value


__all__ = ["HANDLE_KEY", "FilePayloadStore", "PayloadStore", "compact", "hydrate", "is_handle"]
