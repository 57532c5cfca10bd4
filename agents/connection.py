"""Connecting to Temporal, naming workflows, and telling live workers from dead ones."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import socket
import uuid
from collections.abc import Sequence

from temporalio.client import Client, Interceptor
from temporalio.converter import PayloadCodec
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

from agents import tracing
from agents.payload_json import data_converter
from planner.settings import Settings


class TemporalUnreachable(ConnectionError):
    pass


_core_logs_forwarded = False


def forward_core_logs(metrics: PrometheusConfig | None = None) -> None:
    """The SDK core (Rust) writes its warnings to stderr in its own coloured format, in the
    middle of what a command prints; forward them to the Python logger ``temporalio.core``
    instead (the CLI keeps it quiet, `jarvis worker` and `jarvis serve` log it in their format).
    Done once per process, before its first client; ``metrics`` (the worker's Prometheus
    endpoint, agents/metrics_endpoint.py) must come with that first call."""
    global _core_logs_forwarded
    if _core_logs_forwarded:
        if metrics is not None:
            raise RuntimeError("the metrics endpoint must be set up before the process's "
                               "first Temporal client")
        return
    runtime = Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core"))),
        metrics=metrics))
    _core_logs_forwarded = True
    Runtime.set_default(runtime, error_if_already_set=False)


async def connect(address: str, namespace: str = "default",
                  codec: PayloadCodec | None = None,
                  interceptors: Sequence[Interceptor] = ()) -> Client:
    """A client with JARVIS's data converter (pydantic models as JSON, without the fields at
    their defaults: agents/payload_json.py) and, when given, a payload codec (e.g. encryption,
    agents/codec.py) and interceptors (tracing, agents/tracing.py); workers built on this
    client use the same converter and interceptors."""
    forward_core_logs()
    converter = data_converter
    if codec is not None:
        converter = dataclasses.replace(converter, payload_codec=codec)
    return await Client.connect(address, namespace=namespace, data_converter=converter,
                                interceptors=interceptors)


async def connect_with_retry(settings: Settings) -> Client:
    """Connect to Temporal, retrying briefly (tenacity: Temporal is not in charge here yet);
    payloads are encrypted when the settings name a payload key."""
    codec = None
    if settings.payload_key_id:
        from agents.codec import codec_from_settings  # loads cryptography only when asked

        codec = codec_from_settings(settings)
    tracer = tracing.interceptor_for(settings)  # None unless traces are turned on
    interceptors = [tracer] if tracer is not None else []
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(settings.connect_timeout_s), wait=wait_fixed(0.5),
            retry=retry_if_exception_type((RuntimeError, OSError, asyncio.TimeoutError)),
            reraise=True,
        ):
            with attempt:
                return await asyncio.wait_for(
                    connect(settings.temporal_address, settings.temporal_namespace, codec,
                            interceptors),
                    timeout=max(settings.connect_timeout_s, 1.0))
    except (TimeoutError, RuntimeError, OSError) as exc:
        raise TemporalUnreachable(
            f"Temporal server at {settings.temporal_address} is unreachable ({_short(exc)}); "
            "start one with `jarvis up` or set JARVIS_TEMPORAL_ADDRESS"
        ) from exc
    raise AssertionError("unreachable")  # pragma: no cover


def new_run_id(goal: str, prefix: str = "plan", *, readable: bool = True) -> str:
    """A unique workflow id: ``<prefix>-<slug of the goal>-<8 hex>``; without the slug when not
    ``readable`` (payloads are encrypted: ids are stored in the clear)."""
    if not readable:
        return f"{prefix}-{uuid.uuid4().hex}"
    slug = re.sub(r"[^a-z0-9]+", "-", goal.lower()).strip("-")[:40] or prefix
    return f"{prefix}-{slug}-{uuid.uuid4().hex[:8]}"


def alive(identity: str) -> bool:
    """Temporal lists a poller for minutes after its worker died. A poller whose identity is
    ``<pid>@<this host>`` (the SDK's default) counts only while that process is alive."""
    pid, _, host = identity.rpartition("@")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: trust the server
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _short(exc: BaseException) -> str:
    found = re.search(r'message: "([^"]+)"', str(exc))
    return found.group(1) if found else (str(exc).splitlines() or [type(exc).__name__])[0][:120]
