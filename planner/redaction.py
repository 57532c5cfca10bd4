"""Secrets kept out of logs: a logging filter that masks known secret values (the LLM key, the
web token, the approval and payload keys) and things that look like credentials (bearer tokens,
``sk-...`` keys, ``api_key=...`` / ``password: ...`` pairs) in every record it sees, message and
arguments included. Installed on the root logger's handlers by `jarvis worker` and `jarvis serve`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from planner.settings import Settings

MASK = "[redacted]"
PATTERNS = (
    re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"),
    re.compile(r"(?i)\b((?:api[_-]?key|token|secret|password|passwd|authorization)"
               r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]{4,}"),
)


def known_secrets(settings: Settings) -> list[str]:
    values = [settings.llm_api_key, settings.web_token, settings.approval_key,
              *settings.payload_keys.values()]
    return [v for v in values if v and len(v) >= 6]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern in PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted(set(secrets), key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info),
                                     self.secrets)
            record.exc_info = None
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


def install(settings: Settings, *, extra: Iterable[str] = (),
            loggers: Iterable[str] = ("",)) -> None:
    """Mask secrets (the settings' and ``extra``) in everything the handlers of ``loggers``
    write (the root logger's by default; uvicorn configures its own)."""
    filt = RedactingFilter([*known_secrets(settings), *extra])
    for name in loggers:
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(filt)
