"""Web wording for messages written for the terminal: the page shows no `jarvis ...` commands.

Hints, goal messages and validation problems are written once, for the CLI (``jarvis tools lists
them``); the web app's errors and views pass them through :func:`web_wording`, which replaces the
known CLI hints with what a person on the page can do, and drops any other clause that names a
backticked ``jarvis`` command."""

from __future__ import annotations

import re

# (CLI wording, web wording); the first match of each is replaced, in this order
_PHRASES: tuple[tuple[str, str], ...] = (
    (" (`jarvis tools` lists them)", ""),
    ("start it with `jarvis up`",
     "ask whoever runs this app to start it"),
    ("; `jarvis templates list` shows the goals that work offline",
     "; goals like the examples on the start page work offline"),
    ("; a person approves it with `jarvis approve GOAL_ID` (or the web app)",
     "; a person approves it in the review on this page"),
    ("`jarvis schema` prints the plan JSON Schema",
     "the API docs (/docs) show the plan's JSON Schema"),
    ("(submit the goal again to plan anew)", "(Retry plans it anew)"),
)
# the worker's own note on whose settings these are (activities/planning.py): the page says
# who can change them instead
_WORKER_NOTE = re.compile(r"\s*\(This is what the worker pid \d+ on \S+ read when it "
                          r"started:.*?\.\)", re.S)
# any other clause naming a backticked jarvis command: "; `jarvis x` does y", "(`jarvis x` ...)"
_CLAUSE = re.compile(r"\s*\([^()`]*`jarvis [^`]*`[^()]*\)"
                     r"|[;,]\s*[^;,()`]*`jarvis [^`]*`[^;,()]*"
                     r"|^[^;,()`]*`jarvis [^`]*`[^;,()]*[;,]?\s*")


def web_wording(text: str) -> str:
    """``text`` with its CLI hints in web wording (unchanged when it has none)."""
    if "`jarvis " not in text and "(submit the goal again" not in text:
        return text
    text = _WORKER_NOTE.sub(" (the worker reads its settings when it starts: whoever runs "
                            "this app changes them and restarts it)", text)
    for cli, web in _PHRASES:
        text = text.replace(cli, web)
    return _CLAUSE.sub("", text).strip()
