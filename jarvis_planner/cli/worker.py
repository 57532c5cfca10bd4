"""`jarvis worker`: a worker in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

QueueOpt = Annotated[str | None, typer.Option(
    "--queue", help="the task queue to poll (default JARVIS_TASK_QUEUE, which runs the "
    "workflows); another queue serves only the tools JARVIS_TOOL_QUEUES routes to it")]
ToolsOpt = Annotated[str | None, typer.Option(
    "--tools", help="comma-separated tools this worker serves (default: those routed to its "
    "queue)")]
BuildIdOpt = Annotated[str | None, typer.Option(
    "--build-id", help="This worker's build id in its deployment (default JARVIS_BUILD_ID, "
    "else derived from the installed code); see docs/versioning.md")]


def worker(queue: QueueOpt = None, tools: ToolsOpt = None, build_id: BuildIdOpt = None) -> None:
    """Run a worker in the foreground: the plan and goal workflows and one activity per tool.
    Logs one line per goal stage and per step attempt (JSON lines with JARVIS_LOG_FORMAT=json).
    Serves Prometheus metrics when JARVIS_METRICS_PORT is set (docs/operations.md).
    With --queue Q (not the default queue), only tools: e.g. `jarvis worker --queue privileged`
    with JARVIS_TOOL_QUEUES='{"shell": "privileged"}' runs the shell steps of every goal."""
    import asyncio
    import logging

    from activities import default_registry
    from agents import log_setup
    from agents.connection import TemporalUnreachable, connect_with_retry
    from agents.metrics_endpoint import MetricsUnavailable, start_metrics
    from agents.worker import run_worker
    from agents.worker_queues import WorkerConfigError, served
    from jarvis_planner.cli.errors import CliError
    from planner import redaction
    from planner.settings import load_settings

    settings = load_settings()
    if build_id:
        settings = settings.model_copy(update={"build_id": build_id})
    log_setup.configure(settings)
    redaction.install(settings)
    registry = default_registry(settings=settings)
    log = logging.getLogger("jarvis.worker")
    names = [t.strip() for t in tools.split(",") if t.strip()] if tools else None
    try:
        serve = served(settings, registry, queue, names)
    except WorkerConfigError as exc:
        raise CliError(str(exc), "`jarvis worker --help` shows the options") from exc
    try:
        metrics = start_metrics(settings)  # before the first client: it sets the SDK runtime
    except MetricsUnavailable as exc:
        raise CliError(str(exc)) from exc

    async def _main() -> None:
        try:
            client = await connect_with_retry(settings)
        except TemporalUnreachable as exc:
            raise CliError(str(exc), "start the server with `jarvis up --no-worker`") from exc
        log.info("worker: %d tools, task queue '%s', server %s; Ctrl-C to stop",
                 len(serve.tools), serve.queue, settings.temporal_address)
        if serve.unrouted:
            log.warning("tools %s are served here but JARVIS_TOOL_QUEUES sends their steps to "
                        "other queues", ", ".join(sorted(serve.unrouted)))
        if metrics is not None:
            log.info("metrics: %s", metrics.url)
        await run_worker(client, settings, registry, serve)

    asyncio.run(_main())
