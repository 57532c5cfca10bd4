"""A chaos worker: the usual worker plus the chaos tools (``python -m evals.chaos.worker``,
settings from ``JARVIS_*``). The harness starts and SIGKILLs these."""

from __future__ import annotations

import asyncio
import logging

from activities import default_registry
from agents.connection import connect_with_retry
from agents.worker import run_worker
from evals.chaos import tools
from planner.settings import load_settings


async def main() -> None:
    settings = load_settings()
    registry = default_registry()
    tools.register(registry)
    await run_worker(await connect_with_retry(settings), settings, registry)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
