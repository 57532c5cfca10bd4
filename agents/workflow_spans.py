"""Marks in a goal's trace from workflow code: a zero-duration span per stage change.

Only when the worker traces (temporalio's ``TracingInterceptor``, agents/tracing.py, registers
its extern function) and the goal was started by a traced client (its trace is in the
workflow's headers); otherwise nothing, and nothing of OpenTelemetry is imported. The span is
made by the interceptor outside the workflow and never while replaying, so marks are neither
duplicated by a replay nor part of the workflow's history (no command, no determinism at
stake)."""

from __future__ import annotations

from temporalio import workflow

_TRACING_EXTERN = "__temporal_opentelemetry_completed_span"


def mark(name: str, attributes: dict[str, str | int | float | bool]) -> None:
    if _TRACING_EXTERN not in workflow.extern_functions():
        return
    # the tracing worker loaded it already; passed through, the sandbox does not re-import it
    with workflow.unsafe.imports_passed_through():
        from temporalio.contrib.opentelemetry import workflow as traced
    traced.completed_span(name, attributes=attributes)
