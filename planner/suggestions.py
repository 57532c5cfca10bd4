"""Which tools a mistaken tool name may have meant: by spelling (``notifyy`` -> notify), by a
shared stem (``calculator`` -> calc) and by meaning (``sleep`` -> wait, ``curl`` ->
http_request): a small table of the words people use for each built-in tool, plus the words of
each tool's own description (so a plugin is found by the words that describe it)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from planner.words import STOP_WORDS

# Words people use for what a built-in tool does (a name missing here still matches by
# spelling and by the words of its description).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "calc": ("calculate", "calculator", "compute", "math", "arithmetic", "evaluate", "eval",
             "sum", "add", "multiply", "expression", "formula"),
    "wait": ("sleep", "delay", "pause", "timer", "later", "schedule"),
    "http_request": ("curl", "http", "request", "api", "get", "post", "rest", "webhook_call",
                     "call_api"),
    "fetch_page": ("browse", "scrape", "webpage", "page", "web", "url", "download", "crawl"),
    "list_files": ("ls", "dir", "glob", "folder", "directory", "files", "find_files"),
    "read_file": ("cat", "open", "load", "read"),
    "write_file": ("save", "store", "write", "echo", "append", "output"),
    "shell": ("bash", "sh", "exec", "execute", "command", "terminal", "run", "subprocess"),
    "notes_append": ("remember", "note", "memo", "jot", "record"),
    "notes_search": ("recall", "search", "lookup", "query", "find"),
    "notify": ("alert", "remind", "reminder", "message", "send", "email", "mail", "sms",
               "notification", "slack", "push", "ping"),
    "llm": ("ask", "chat", "gpt", "summarize", "summarise", "prompt", "ai", "model",
            "classify", "extract", "translate", "generate"),
}
MIN_STEM = 4  # "calculator" and "calc" share "calc"


def _words(text: str) -> list[str]:
    """Lower-case words of a name or sentence (snake_case, kebab-case and camelCase split)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return [w for w in re.split(r"[^a-zA-Z0-9]+", spaced.lower()) if w]


def _related(a: str, b: str) -> bool:
    """The same word, or one a stem of the other (at least MIN_STEM letters)."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= MIN_STEM and long_.startswith(short)


def suggest_tools(name: str, tools: Mapping[str, object], limit: int = 3) -> list[str]:
    """Tool names ``name`` may have meant, best first."""
    close = difflib.get_close_matches(name, list(tools), n=limit, cutoff=0.6)
    wanted = [w for w in _words(name) if w not in STOP_WORDS]
    scores: dict[str, float] = {}
    for tool, spec in tools.items():
        own = _words(tool)
        table = SYNONYMS.get(tool, ())
        described = {w for w in _words(str(getattr(spec, "description", "") or ""))
                     if w not in STOP_WORDS and len(w) >= 3}
        score = 0.0
        for word in wanted:
            if any(_related(word, w) for w in own) or word in table:
                score += 2
            elif any(_related(word, w) for w in table):
                score += 1.5
            elif any(_related(word, w) for w in described):
                score += 1
        if score:
            scores[tool] = score
    best = max(scores.values(), default=0.0)
    by_meaning = sorted((t for t in scores if scores[t] >= best / 2),
                        key=lambda t: (-scores[t], t))
    return _unique([*close, *by_meaning])[:limit]


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
