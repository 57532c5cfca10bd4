"""The shape of a payload handle: what the history keeps instead of a large output.

``{"$jarvis_payload": sha256, "bytes": n, "preview": "..."}`` (plus ``"path"`` when it points
into the stored value). The store itself lives in :mod:`activities.payloads`."""

from __future__ import annotations

from typing import Any, Final

HANDLE_KEY: Final = "$jarvis_payload"


def is_handle(value: Any) -> bool:
    return isinstance(value, dict) and HANDLE_KEY in value
