"""Secret files in the data dir (the approval key, the web token): created once, exclusively,
mode 0600, never through a symlink; read by every process that needs them, including one that
comes while the creator is still writing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path


class SecretFileError(RuntimeError):
    """A secret file cannot be created or read, or holds no valid secret."""


def ensure_secret(path: Path, make: Callable[[], str], valid: Callable[[str], bool],
                  what: str) -> tuple[str, bool]:
    """The secret in ``path`` (whitespace stripped), made with ``make`` when the file does not
    exist; ``(secret, created)``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return read_secret(path, valid, what), False
    with os.fdopen(fd, "w") as fh:
        fh.write(make() + "\n")
    return read_secret(path, valid, what), True


def read_secret(path: Path, valid: Callable[[str], bool], what: str) -> str:
    for _ in range(50):  # another process may have created it and be writing it right now
        try:
            text = path.read_text().strip()
        except OSError as exc:
            raise SecretFileError(f"cannot read the {what} {path}: {exc}") from exc
        if valid(text):
            return text
        time.sleep(0.01)
    raise SecretFileError(f"{path} does not hold a valid {what} (empty, truncated or "
                          "malformed); delete it to make a new one")
