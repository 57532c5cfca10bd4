"""Notify: write a message to the outbox file, and POST it to a webhook when one is set."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from activities.errors import ToolError
from activities.net.exchange import exchange, with_idempotency_key
from planner.tools import Risk, ToolContext, ToolRegistry, tool_from_function

WEBHOOK_TIMEOUT_S = 15.0
WEBHOOK_MAX_BYTES = 64_000  # the answer's body is not used: read a little, then drop it


class Notified(BaseModel):
    outbox: str
    webhook_status: int | None


def _recorded(outbox: Path, key: str) -> dict[str, Any] | None:
    """The outbox record an earlier attempt of this step wrote, if any."""
    if not outbox.exists():
        return None
    with outbox.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("idempotency_key") == key:
                return record
    return None


async def notify(message: str, ctx: ToolContext, title: str = "JARVIS",
                 webhook_url: str | None = None) -> Notified:
    """Send a notification: appended to <data dir>/outbox.jsonl and POSTed to the webhook
    (the argument, or the JARVIS_WEBHOOK_URL setting) when there is one."""
    outbox = Path(ctx.data_dir) / "outbox.jsonl"
    key = ctx.idempotency_key
    if key and (done := _recorded(outbox, key)) is not None:
        # an earlier attempt delivered and recorded it (then its result was lost): not again
        return Notified(outbox=str(outbox), webhook_status=done.get("webhook_status"))
    record: dict[str, Any] = {"title": title, "message": message, "at": time.time()}
    if key:
        record["idempotency_key"] = key
    url = webhook_url or ctx.webhook_url
    status = None
    if url:
        # the egress policy applies (a local webhook must be allowed); no redirects followed
        response = await exchange("POST", url, allow=ctx.egress_allow,
                                  timeout_s=WEBHOOK_TIMEOUT_S, max_bytes=WEBHOOK_MAX_BYTES,
                                  too_large="truncate", follow_redirects=False, json_body=record,
                                  headers=with_idempotency_key(None, "POST", key))
        if response.status >= 400:
            raise ToolError(f"webhook {url} returned {response.status}")
        status = response.status
    # written after the webhook succeeded, so a retried attempt leaves a single record
    outbox.parent.mkdir(parents=True, exist_ok=True)
    with outbox.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({**record, "webhook_status": status}) + "\n")
    return Notified(outbox=str(outbox), webhook_status=status)


def register(registry: ToolRegistry) -> None:
    # Not declared idempotent: a retry after a crash writes no second outbox record (the record
    # carries the step's key), and a retry after a delivered webhook whose record was not yet
    # written POSTs again with the same Idempotency-Key header, but only a receiver that honours
    # that header drops the duplicate; JARVIS cannot know that of an arbitrary webhook.
    registry.register(tool_from_function(notify, risk=Risk.SIDE_EFFECTING, idempotent=False,
                                         timeout_s=30))
