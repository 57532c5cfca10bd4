"""The worker's Prometheus endpoint: the Temporal SDK runtime's exporter (its own series:
workflow and activity task latencies, slots, polls, ...) carrying JARVIS's series too
(planner/contracts/metric_series.py), on ``JARVIS_METRICS_HOST:JARVIS_METRICS_PORT/metrics``."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.runtime import PrometheusConfig

from agents.connection import forward_core_logs
from agents.devserver import free_port
from planner.contracts.metric_series import BUCKETS
from planner.settings import Settings


class MetricsUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class MetricsEndpoint:
    host: str
    port: int

    @property
    def url(self) -> str:
        host = "localhost" if self.host in ("0.0.0.0", "::", "127.0.0.1") else self.host
        return f"http://{host}:{self.port}/metrics"


def prometheus_config(host: str, port: int) -> PrometheusConfig:
    """Names exactly as defined (no ``_total`` or unit suffix added: JARVIS's counters already
    end in ``_total``), durations in seconds (Prometheus's convention), JARVIS's buckets."""
    return PrometheusConfig(
        bind_address=f"{host}:{port}", counters_total_suffix=False, unit_suffix=False,
        durations_as_seconds=True,
        histogram_bucket_overrides={name: list(bounds) for name, bounds in BUCKETS.items()})


def start_metrics(settings: Settings) -> MetricsEndpoint | None:
    """Serve /metrics when ``metrics_port`` is set (0: a free port, chosen here so it can be
    reported); None when metrics are off. Call before the process's first Temporal client."""
    if settings.metrics_port is None:
        return None
    endpoint = MetricsEndpoint(settings.metrics_host, settings.metrics_port or free_port())
    try:
        forward_core_logs(metrics=prometheus_config(endpoint.host, endpoint.port))
    except ValueError as exc:  # the exporter could not bind
        raise MetricsUnavailable(
            f"cannot serve metrics on {endpoint.host}:{endpoint.port} ({exc}); set "
            "JARVIS_METRICS_PORT to a free port (0: any free port), or unset it to turn "
            "metrics off") from exc
    return endpoint
