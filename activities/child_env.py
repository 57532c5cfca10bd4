"""The environment a tool's child process gets: an allow-list, never the worker's secrets."""

from __future__ import annotations

import os
from collections.abc import Mapping

# Copied from the worker when set: what programs need to find themselves, speak the locale and
# write temporary files. Everything else (JARVIS_*, *_API_KEY, OPENAI_*, AWS_*, GOOGLE_*, tokens,
# proxies with credentials...) stays in the worker.
ALLOWED = frozenset({"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR", "USER",
                     "LOGNAME", "SHELL"})
ALLOWED_PREFIXES = ("LC_",)


def scrubbed_env(source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed variables of ``source`` (default: ``os.environ``), and a PATH always.

    An allow-list, not a deny-list: a secret under a name nobody thought of does not leak."""
    env = os.environ if source is None else source
    kept = {name: value for name, value in env.items()
            if name in ALLOWED or name.startswith(ALLOWED_PREFIXES)}
    kept.setdefault("PATH", os.defpath)
    return kept
