"""`jarvis worker`: a worker in the foreground."""

from __future__ import annotations


def worker() -> None:
    """Run a worker in the foreground: the plan and goal workflows and one activity per tool."""
    import asyncio
    import logging

    from activities import default_registry
    from agents.connection import TemporalUnreachable, connect_with_retry
    from agents.worker import run_worker
    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.errors import CliError
    from planner import redaction
    from planner.settings import load_settings

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("temporalio").setLevel(logging.INFO)
    settings = load_settings()
    redaction.install(settings)
    registry = default_registry()

    async def _main() -> None:
        try:
            client = await connect_with_retry(settings)
        except TemporalUnreachable as exc:
            raise CliError(str(exc), "start the server with `jarvis up --no-worker`") from exc
        console.print(f"worker: {len(registry)} tools, task queue '{settings.task_queue}', "
                      f"server {settings.temporal_address}; Ctrl-C to stop")
        await run_worker(client, settings, registry)

    asyncio.run(_main())
