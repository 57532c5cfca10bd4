"""The key that signs a person's approval of a dangerous step (``planner.approval``).

``JARVIS_APPROVAL_KEY`` (hex, at least 32 bytes) when set; else ``<data dir>/approval.key``,
created at first use with 32 random bytes, mode 0600, exclusively (two processes starting at
once end with the same key). Workers and the clients that approve (CLI, web app, Python API)
must read the same key: on one machine they share the data dir; across machines set
``JARVIS_APPROVAL_KEY`` on each (docs/security.md). Temporal never sees it.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from activities.secret_files import SecretFileError, ensure_secret
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
    try:
        text, _ = ensure_secret(path, lambda: secrets.token_hex(KEY_BYTES), _is_key,
                                "approval key")
    except SecretFileError as exc:
        raise ApprovalKeyError(f"{exc} (approvals signed with the old key stop working)") \
            from exc
    return bytes.fromhex(text)


def _is_key(text: str) -> bool:
    try:
        return len(bytes.fromhex(text)) >= KEY_BYTES
    except ValueError:
        return False
