"""Logs a person can use, for `jarvis worker` and `jarvis serve`: one line per goal stage, per
step attempt and per web request, each naming its goal or run (and step); readable text by
default, one JSON object a line with ``JARVIS_LOG_FORMAT=json``. HTTP client chatter (httpx,
httpcore and their forks) is kept to warnings; the SDK's traceback for an activity failure our
activities already explain in their own line is dropped (a real bug keeps its traceback).

Code that logs adds its fields as ``extra={"jarvis": {...}}``: the JSON lines carry them, the
text lines carry the message (which names them too).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from planner.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("httpx", "httpcore", "httpx2", "httpcore2", "hpack", "urllib3")  # (openai: httpx2)
FAILED_ACTIVITY = "Completing activity as failed"
# the core's warning when a client stopped waiting for a query it had sent (a CLI that got
# its answer from the workflow's result and left): nothing for a person to act on
ABANDONED_QUERY = "Query not found when attempting to respond"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the record's ``jarvis`` fields,
    the SDK's workflow or activity context, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        fields = getattr(record, "jarvis", None)
        if isinstance(fields, dict):
            out.update(fields)
        for key in ("temporal_workflow", "temporal_activity"):
            context = getattr(record, key, None)
            if isinstance(context, dict):
                out[key] = context
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exception"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str)


class Noise(logging.Filter):
    """Drops the SDK's "Completing activity as failed" record (with its traceback) when the
    activity raised an ApplicationError (our activities raise those for failures they
    understand, after logging a line that names the goal or run, the step and the attempt),
    and the core's warning about a query whose client had stopped waiting."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("temporalio.core"):
            return ABANDONED_QUERY not in str(record.msg)
        if record.name != "temporalio.activity" or not record.exc_info:
            return True
        return not (str(record.msg).startswith(FAILED_ACTIVITY)
                    and isinstance(record.exc_info[1], ApplicationError))


def formatter(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(settings: Settings, *, level: int = logging.INFO,
              stream: TextIO | None = None) -> logging.Handler:
    """Route the root logger to one handler on ``stream`` (stderr) in the configured format
    (the SDK core's warnings come through it too: agents.connection forwards them). Returns the
    handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(settings))
    handler.addFilter(Noise())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("temporalio", "activities"):  # the CLI quiets them for in-process workers
        logging.getLogger(name).setLevel(level)
    # our lines name the goal themselves; the SDK's context stays in the JSON fields
    workflow.logger.workflow_info_on_message = False
    return handler


def adopt(handler: logging.Handler, names: Iterable[str]) -> None:
    """Make loggers that configured their own handlers (uvicorn's) write through ``handler``."""
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
