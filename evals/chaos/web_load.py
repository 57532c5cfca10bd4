"""A bounded loopback load test of the web API: N concurrent clients for T seconds listing goals,
reading one, and submitting dry-run goals that a shipped template plans (no LLM), against the
app on a real uvicorn with a real worker and dev server. Reports requests by status, latency
percentiles, and server errors (which must be 0: overload answers 429, never 5xx)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from activities import default_registry
from agents.client import JarvisClient
from agents.connection import connect_with_retry
from agents.devserver import free_port, start_dev_server, stop_process
from agents.worker import create_worker
from evals.chaos.report import percentiles
from jarvis_planner.web.app import UvicornServer, create_app, server_config
from planner.settings import Settings

GOAL = "remind me to stretch in 5 seconds"  # a shipped template: planned offline


async def web_load(folder: Path, clients: int = 8, seconds: float = 5.0) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_dev_server(folder / "temporal.sqlite", port, log_file=folder / "server.log")
    token = secrets.token_urlsafe(24)
    settings = Settings(data_dir=folder / "data", temporal_address=f"127.0.0.1:{port}",
                        task_queue="web-load", embedding_backend="hashing", web_token=token)
    try:
        client = await connect_with_retry(settings)
        async with create_worker(client, settings, default_registry()):
            app = create_app(settings, JarvisClient(client, settings))
            web_port = free_port()
            uv = UvicornServer(server_config(app, "127.0.0.1", web_port, "warning"),
                               handle_signals=False)
            task = asyncio.create_task(uv.serve())
            while not uv.started:
                if task.done():
                    raise RuntimeError(f"uvicorn did not start: {task.exception()!r}")
                await asyncio.sleep(0.02)
            try:
                return await _hammer(f"http://127.0.0.1:{web_port}", token, clients, seconds)
            finally:
                uv.should_exit = True
                await asyncio.wait_for(task, 15)
    finally:
        stop_process(server)


async def _hammer(url: str, token: str, clients: int, seconds: float) -> dict[str, Any]:
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {token}"}
    end = time.monotonic() + seconds

    async def one(n: int) -> None:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
            goal_id = None
            k = 0
            while time.monotonic() < end:
                k += 1
                t0 = time.monotonic()
                try:
                    if k % 5 == 1:
                        resp = await http.post("/api/goals", json={"goal": GOAL, "dry_run": True})
                        if resp.status_code == 201:
                            goal_id = resp.json()["id"]
                    elif goal_id and k % 2:
                        resp = await http.get(f"/api/goals/{goal_id}")
                    else:
                        resp = await http.get("/api/goals", params={"limit": 20})
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    continue
                latencies.append(time.monotonic() - t0)
                statuses[resp.status_code] += 1
                if resp.status_code == 429:
                    await asyncio.sleep(float(resp.headers.get("retry-after", "1")))

    await asyncio.gather(*(one(n) for n in range(clients)))
    return {"clients": clients, "seconds": seconds, "requests": sum(statuses.values()),
            "statuses": dict(sorted(statuses.items())),
            "server_errors": sum(n for s, n in statuses.items() if s >= 500),
            "transport_errors": dict(errors),
            "latency_s": percentiles(latencies)}
