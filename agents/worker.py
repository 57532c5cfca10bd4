"""The Temporal worker: the plan and goal workflows, the planner's activities, one activity per
registered tool."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.runtime import Runtime
from temporalio.service import RPCError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.execution import tool_activities, tool_runtime
from activities.local_chain import local_chain_activity
from activities.local_group import local_group_activity
from activities.memory.seed import open_store
from activities.metrics import ActivityMetrics
from activities.planning import PlannerActivities
from agents import search_attributes, tracing
from agents.approval_gauge import sample_waiting
from agents.gc_tuning import tuned_gc
from agents.goal_workflow import GoalWorkflow
from agents.plan_workflow import ExecutePlanWorkflow
from agents.versioning import VersioningError, adopt_if_first, deployment_config, worker_version
from agents.worker_queues import Served, served
from planner.contracts.names import SEARCH_ATTRIBUTES
from planner.pure_tools import install as install_pure_tools
from planner.settings import Settings
from planner.tools import ToolRegistry

log = logging.getLogger(__name__)


class CheckedUnsandboxedRunner(UnsandboxedWorkflowRunner):
    """Runs workflows without the SDK's sandbox (no per-run module re-import and no restricted
    proxies on every activation: ~20% per step, ~1.5x throughput, docs/performance.md), but
    still validates each workflow definition in the sandbox when the worker starts.

    Determinism does not rest on the sandbox: the workflow code does no I/O and reads no clock
    or randomness (only ``workflow.now()``), its imports are passed through the sandbox anyway,
    and tests replay recorded histories with the sandboxed ``Replayer``."""

    def __init__(self) -> None:
        self._check = SandboxedWorkflowRunner()

    def prepare_workflow(self, defn: workflow._Definition) -> None:
        self._check.prepare_workflow(defn)

    def set_worker_level_failure_exception_types(
            self, types: Sequence[type[BaseException]]) -> None:
        self._check.set_worker_level_failure_exception_types(types)


def workflow_runner(sandboxed: bool) -> WorkflowRunner:
    return SandboxedWorkflowRunner() if sandboxed else CheckedUnsandboxedRunner()


def create_worker(client: Client, settings: Settings, registry: ToolRegistry, *,
                  task_queue: str | None = None,
                  serve: Served | None = None,
                  max_cached_workflows: int = 1000,
                  sandboxed: bool = False,
                  options: Mapping[str, Any] | None = None,
                  replace_activities: Sequence[Callable[..., Any]] = ()) -> Worker:
    """A worker for the plan and goal workflows and every tool (as regular and local
    activities: one registration serves both). ``sandboxed=True`` runs the workflows in the
    SDK's sandbox (slower; see :class:`CheckedUnsandboxedRunner`); ``options`` are more
    ``Worker`` arguments (pollers, slots: the benchmarks try them); ``replace_activities``
    stand in for the activities of the same names (tests register fakes this way). ``serve``
    (agents.worker_queues.served) picks the queue, the tools and whether workflows run here;
    by default the worker serves the task queue's workflows and every tool not routed to
    another queue (``JARVIS_TOOL_QUEUES``)."""
    if serve is None:  # a worker for ``task_queue`` as the workflows' queue
        queue_settings = (settings if task_queue is None
                          else settings.model_copy(update={"task_queue": task_queue}))
        serve = served(queue_settings, registry)
    if serve.workflows:  # pure tools' steps run in the workflows (planner/pure_tools.py)
        install_pure_tools(registry)
    identity = str((options or {}).get("identity") or client.identity)
    runtime = replace(tool_runtime(settings, registry), worker=identity)
    metrics = ActivityMetrics(metric_meter(client), prices=settings.llm_prices)
    tools = [fn for fn in tool_activities(runtime, metrics)
             if _activity_name(fn) in {registry[t].activity_name for t in serve.tools}]
    planner = PlannerActivities(settings, registry,
                                lambda: open_store(settings, registry), metrics=metrics)
    # the workflows' worker also runs chains of its local steps in one local activity
    own = ([*planner.all(), local_chain_activity(runtime, metrics),
            local_group_activity(runtime, metrics)] if serve.workflows else [])
    activities = {_activity_name(fn): fn for fn in [*tools, *own]}
    for fn in replace_activities:
        if _activity_name(fn) not in activities:
            raise ValueError(f"no activity named {_activity_name(fn)!r} to replace")
        activities[_activity_name(fn)] = fn
    return Worker(
        client,
        task_queue=task_queue or serve.queue,
        workflows=[ExecutePlanWorkflow, GoalWorkflow] if serve.workflows else [],
        activities=list(activities.values()),
        max_cached_workflows=max_cached_workflows,
        workflow_runner=workflow_runner(sandboxed),
        # on SIGTERM, let running tool calls finish (compose gives 60 s) before cancelling
        graceful_shutdown_timeout=timedelta(seconds=30),
        **{"deployment_config": deployment_config(settings),
           **_slots(settings, options or {}), **(options or {})},
    )


def _slots(settings: Settings, options: Mapping[str, Any]) -> dict[str, Any]:
    """Workflow-task slots from the settings, unless ``options`` bring a tuner of their own
    (the SDK refuses both)."""
    return {} if "tuner" in options else {
        "max_concurrent_workflow_tasks": settings.workflow_task_slots}


def metric_meter(client: Client) -> MetricMeter:
    """The meter of the client's runtime: exported on the worker's /metrics when metrics are
    on (agents/metrics_endpoint.py), a no-op otherwise."""
    return (client.service_client.config.runtime or Runtime.default()).metric_meter


def _activity_name(fn: Callable[..., Any]) -> str:
    return activity._Definition.must_from_callable(fn).name or fn.__name__


async def _register_search_attributes(client: Client) -> None:
    """Add the Jarvis search attributes the namespace lacks (clients index goals only when all
    are there); without the rights to, say what an operator must run."""
    try:
        added = await search_attributes.register(client)
    except RPCError as exc:
        log.warning("goals will not be indexed for the Temporal UI: cannot register the search "
                    "attributes %s in namespace %s (%s); an operator can run "
                    "deploy/temporal/scripts/create-namespace.sh", ", ".join(SEARCH_ATTRIBUTES),
                    client.namespace, exc.message)
        return
    if added:
        log.info("registered search attributes %s in namespace %s", ", ".join(added),
                 client.namespace)


async def run_worker(client: Client, settings: Settings, registry: ToolRegistry,
                     serve: Served | None = None) -> None:
    """Run until SIGINT/SIGTERM, then shut down cleanly (finishing in-flight tasks and
    exporting the last spans when traces are on). With metrics on, a worker of the workflows
    also counts the goals waiting for approval (agents/approval_gauge.py). The worker is traced
    when ``client`` carries the tracing interceptor (``connect_with_retry`` adds it when the
    settings turn traces on)."""
    serve = serve or served(settings, registry)
    worker = create_worker(client, settings, registry, serve=serve)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await _register_search_attributes(client)
    try:
        async with worker:
            log.info("worker %s polling task queue %s on %s%s", client.identity, serve.queue,
                     settings.temporal_address, "" if serve.workflows
                     else f" (tools only: {', '.join(sorted(serve.tools))})")
            await _join_deployment(client, settings)
            sampler = None
            if settings.metrics_port is not None and serve.workflows:
                sampler = asyncio.create_task(sample_waiting(
                    client, settings.task_queue, metric_meter(client), settings.metrics_sample_s))
            try:
                with tuned_gc():  # everything this worker runs is loaded by now
                    await stop.wait()
            finally:
                if sampler is not None:
                    sampler.cancel()
    finally:
        tracing.flush()  # the spans of the last tasks, before the process ends


async def _join_deployment(client: Client, settings: Settings) -> None:
    version = worker_version(settings)
    if settings.worker_versioning:
        try:
            if await adopt_if_first(client, settings):
                log.info("worker version %s is current: the deployment had none",
                         version.to_canonical_string())
                return
        except VersioningError as exc:
            log.warning("%s", exc)
        log.info("worker version %s (%s); new goals come to it once it is current: "
                 "`jarvis deploy set-current %s`", version.to_canonical_string(),
                 settings.versioning_behavior, version.build_id)
    else:
        log.info("worker version %s (worker versioning off)", version.to_canonical_string())
