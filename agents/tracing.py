"""OpenTelemetry traces, off unless asked for: ``JARVIS_OTEL_ENDPOINT`` (an OTLP/HTTP base URL,
spans go to ``<endpoint>/v1/traces``) or ``JARVIS_OTEL_CONSOLE=true`` (spans on stderr).

When on, every client connected by :func:`agents.connection.connect_with_retry` carries
temporalio's ``TracingInterceptor``, and so does every worker built on such a client (the
interceptor serves both sides): starting a goal opens its trace (``StartWorkflow:jarvis.Goal``),
the workflow adds its spans (``RunWorkflow``, one ``StartActivity`` per activity), each activity
runs in its ``RunActivity`` span, and ``activities.spans`` adds the LLM calls and tool attempts
under it. The interceptor's workflow spans are replay-safe: they are created, already ended,
outside the workflow (an extern function, the same with or without the sandbox) and only when
the workflow is not replaying, so a worker restart or a cache eviction adds no duplicates.

Off, nothing here is imported by anyone, no tracer provider is set and no interceptor is
installed. OpenTelemetry is imported only inside these functions.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from activities import spans
from planner.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from temporalio.contrib.opentelemetry import TracingInterceptor

log = logging.getLogger(__name__)

TRACER_NAME = "jarvis"
TRACES_PATH = "/v1/traces"

_installed: tuple[TracerProvider, TracingInterceptor] | None = None


def enabled(settings: Settings) -> bool:
    return bool(settings.otel_endpoint) or settings.otel_console


def interceptor_for(settings: Settings) -> TracingInterceptor | None:
    """The tracing interceptor of this process when the settings turn traces on (the provider
    and its exporter are built once per process and set as OpenTelemetry's global one), else
    None."""
    if not enabled(settings):
        return None
    if _installed is not None:
        return _installed[1]
    provider = provider_for(settings)
    from opentelemetry import trace

    trace.set_tracer_provider(provider)
    log.info("traces: exporting to %s", settings.otel_endpoint or "the console")
    return install(provider)


def provider_for(settings: Settings) -> TracerProvider:
    """A tracer provider exporting over OTLP/HTTP (batched) and/or to the console."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    provider = TracerProvider(resource=Resource.create(
        {"service.name": settings.otel_service_name}))
    if settings.otel_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(
            OTLPSpanExporter(endpoint=traces_url(settings.otel_endpoint))))
    if settings.otel_console:
        # stderr: a command's stdout stays its output (`--json` stays parseable)
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    return provider


def traces_url(endpoint: str) -> str:
    """``http://host:4318`` -> ``http://host:4318/v1/traces`` (a full URL is kept)."""
    base = endpoint.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


def install(provider: TracerProvider) -> TracingInterceptor:
    """Trace with ``provider`` in this process: the interceptor for clients (and the workers
    built on them) and the LLM and tool spans of ``activities.spans``. Tests call it with a
    provider of their own (an in-memory exporter) and :func:`uninstall` after."""
    global _installed
    tracer = provider.get_tracer(TRACER_NAME)
    interceptor = _interceptor_class()(tracer)
    spans.use_tracer(tracer)
    _installed = (provider, interceptor)
    return interceptor


def uninstall() -> None:
    global _installed
    spans.use_tracer(None)
    _installed = None


def flush(timeout_s: float = 5.0) -> None:
    """Export the spans still buffered (a worker stopping, a CLI command ending: the CLI skips
    interpreter teardown, so OpenTelemetry's own exit hook would not run)."""
    if _installed is not None and not _installed[0].force_flush(int(timeout_s * 1000)):
        log.warning("traces: some spans were not exported within %.0fs", timeout_s)


def _interceptor_class() -> type[TracingInterceptor]:
    """temporalio's interceptor, except for queries: clients follow a goal by querying it
    every fraction of a second, and each query would be a trace of its own (a client span and,
    since the query then carries a trace header, a worker span). Without the header the
    worker makes no query span either."""
    from temporalio.client import OutboundInterceptor, QueryWorkflowInput
    from temporalio.contrib.opentelemetry import TracingInterceptor

    class UntracedQueries(OutboundInterceptor):
        def __init__(self, traced: OutboundInterceptor, plain: OutboundInterceptor) -> None:
            super().__init__(traced)
            self._plain = plain

        async def query_workflow(self, input: QueryWorkflowInput) -> Any:
            return await self._plain.query_workflow(input)

    class GoalTracing(TracingInterceptor):
        def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
            return UntracedQueries(super().intercept_client(next), next)

    return GoalTracing
