"""The key that signs a person's approval of a dangerous step (``planner.approval``).

``JARVIS_APPROVAL_KEY`` (hex, at least 32 bytes) when set; else ``<data dir>/approval.key``,
created at first use with 32 random bytes, mode 0600, exclusively (two processes starting at
once end with the same key). Workers and the clients that approve (CLI, web app, Python API)
must read the same key: on one machine they share the data dir; across machines set
``JARVIS_APPROVAL_KEY`` on each (docs/security.md). Temporal never sees it.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from planner.settings import Settings

KEY_BYTES = 32
FILE_NAME = "approval.key"


class ApprovalKeyError(RuntimeError):
    """The approval key is malformed or cannot be read."""


def approval_key(settings: Settings) -> bytes:
    if settings.approval_key:
        try:
            key = bytes.fromhex(settings.approval_key.strip())
        except ValueError as exc:
            raise ApprovalKeyError("JARVIS_APPROVAL_KEY must be hex (e.g. `python -c 'import "
                                   "secrets; print(secrets.token_hex(32))'`)") from exc
        if len(key) < KEY_BYTES:
            raise ApprovalKeyError(f"JARVIS_APPROVAL_KEY must hold at least {KEY_BYTES} bytes "
                                   f"({2 * KEY_BYTES} hex digits); it has {len(key)}")
        return key
    return _key_file(Path(settings.data_dir) / FILE_NAME)


def _key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(KEY_BYTES) + "\n")
    return _read(path)


def _read(path: Path) -> bytes:
    for _ in range(50):  # another process may have created it and be writing it right now
        try:
            text = path.read_text().strip()
        except OSError as exc:
            raise ApprovalKeyError(f"cannot read the approval key {path}: {exc}") from exc
        if len(text) >= 2 * KEY_BYTES:
            try:
                return bytes.fromhex(text)
            except ValueError as exc:
                raise ApprovalKeyError(f"{path} is not a hex key; delete it to make a new "
                                       "one (approvals signed with it stop working)") from exc
        time.sleep(0.01)
    raise ApprovalKeyError(f"{path} is empty or truncated; delete it to make a new one")
