"""Notify: write a message to the outbox file, and POST it to a webhook when one is set."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from pydantic import BaseModel

from activities.errors import ToolError
from planner.tools import Risk, ToolContext, ToolRegistry, tool_from_function


class Notified(BaseModel):
    outbox: str
    webhook_status: int | None


async def notify(message: str, ctx: ToolContext, title: str = "JARVIS",
                 webhook_url: str | None = None) -> Notified:
    """Send a notification: appended to <data dir>/outbox.jsonl and POSTed to the webhook
    (the argument, or the JARVIS_WEBHOOK_URL setting) when there is one."""
    record = {"title": title, "message": message, "at": time.time()}
    outbox = Path(ctx.data_dir) / "outbox.jsonl"
    url = webhook_url or ctx.webhook_url
    status = None
    if url:
        try:
            async with httpx.AsyncClient(timeout=15) as client:
                response = await client.post(url, json=record)
        except httpx.HTTPError as exc:
            raise ToolError(f"webhook {url} unreachable: {exc}") from exc
        if response.status_code >= 400:
            raise ToolError(f"webhook {url} returned {response.status_code}")
        status = response.status_code
    # written after the webhook succeeded, so a retried attempt leaves a single record
    outbox.parent.mkdir(parents=True, exist_ok=True)
    with outbox.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({**record, "webhook_status": status}) + "\n")
    return Notified(outbox=str(outbox), webhook_status=status)


def register(registry: ToolRegistry) -> None:
    registry.register(tool_from_function(notify, risk=Risk.SIDE_EFFECTING, idempotent=False,
                                         timeout_s=30))
