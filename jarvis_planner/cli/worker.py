"""`jarvis worker`: a worker in the foreground."""

from __future__ import annotations

import typer


def worker(build_id: str = typer.Option(
        None, "--build-id",
        help="This worker's build id in its deployment (default JARVIS_BUILD_ID, else derived "
             "from the installed code); see docs/versioning.md")) -> None:
    """Run a worker in the foreground: the plan and goal workflows and one activity per tool.
    Logs one line per goal stage and per step attempt (JSON lines with JARVIS_LOG_FORMAT=json).
    Serves Prometheus metrics when JARVIS_METRICS_PORT is set (docs/operations.md)."""
    import asyncio
    import logging

    from activities import default_registry
    from agents import log_setup
    from agents.connection import TemporalUnreachable, connect_with_retry
    from agents.metrics_endpoint import MetricsUnavailable, start_metrics
    from agents.worker import run_worker
    from jarvis_planner.cli.errors import CliError
    from planner import redaction
    from planner.settings import load_settings

    settings = load_settings()
    if build_id:
        settings = settings.model_copy(update={"build_id": build_id})
    log_setup.configure(settings)
    redaction.install(settings)
    registry = default_registry()
    log = logging.getLogger("jarvis.worker")
    try:
        metrics = start_metrics(settings)  # before the first client: it sets the SDK runtime
    except MetricsUnavailable as exc:
        raise CliError(str(exc)) from exc

    async def _main() -> None:
        try:
            client = await connect_with_retry(settings)
        except TemporalUnreachable as exc:
            raise CliError(str(exc), "start the server with `jarvis up --no-worker`") from exc
        log.info("worker: %d tools, task queue '%s', server %s; Ctrl-C to stop", len(registry),
                 settings.task_queue, settings.temporal_address)
        if metrics is not None:
            log.info("metrics: %s", metrics.url)
        await run_worker(client, settings, registry)

    asyncio.run(_main())
