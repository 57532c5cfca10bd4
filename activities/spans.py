"""The spans of an LLM call and of a tool call, for OpenTelemetry traces.

Tracing is off until ``agents.tracing`` hands a tracer to :func:`use_tracer`; until then every
span here is a shared no-op object and nothing of OpenTelemetry is imported. When on, the spans
are children of the activity's span (the Temporal tracing interceptor makes it current), so
they land in the trace of the goal that ran the activity.

LLM spans follow the OpenTelemetry GenAI semantic conventions (``gen_ai.*``); tool spans use
``gen_ai.tool.name`` plus JARVIS's own ``jarvis.*`` attributes (step, attempt, outcome).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from planner.redaction import redact

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

_tracer: Tracer | None = None

# The provider name of any OpenAI-compatible endpoint (the wire protocol is OpenAI's).
GEN_AI_PROVIDER = "openai"


def use_tracer(tracer: Tracer | None) -> None:
    """Turn these spans on (a tracer) or off (None); agents.tracing calls it."""
    global _tracer
    _tracer = tracer


def enabled() -> bool:
    return _tracer is not None


class LLMSpan:
    """The span of one chat completion; a no-op without a span."""

    def __init__(self, span: Span | None = None) -> None:
        self._span = span

    def answered(self, *, response_model: str | None, input_tokens: int | None,
                 output_tokens: int | None, finish_reasons: Sequence[str | None]) -> None:
        if self._span is None:
            return
        attributes: dict[str, Any] = {
            "gen_ai.response.finish_reasons": [r or "unknown" for r in finish_reasons]}
        if response_model:
            attributes["gen_ai.response.model"] = response_model
        if input_tokens is not None:
            attributes["gen_ai.usage.input_tokens"] = input_tokens
        if output_tokens is not None:
            attributes["gen_ai.usage.output_tokens"] = output_tokens
        self._span.set_attributes(attributes)

    def failed(self, error_type: str, message: str) -> None:
        if self._span is not None:
            _fail(self._span, error_type, message)


_NO_LLM_SPAN = LLMSpan()


@contextmanager
def llm_span(model: str, base_url: str | None, operation: str = "chat") -> Iterator[LLMSpan]:
    """``chat <model>``: a CLIENT span around one call to an OpenAI-compatible endpoint."""
    if _tracer is None:
        yield _NO_LLM_SPAN
        return
    from opentelemetry.trace import SpanKind

    attributes: dict[str, Any] = {
        "gen_ai.operation.name": operation, "gen_ai.system": GEN_AI_PROVIDER,
        "gen_ai.provider.name": GEN_AI_PROVIDER, "gen_ai.request.model": model}
    host = urlsplit(base_url).hostname if base_url else "api.openai.com"
    if host:
        attributes["server.address"] = host
    with _tracer.start_as_current_span(f"{operation} {model}", kind=SpanKind.CLIENT,
                                       attributes=attributes, record_exception=False,
                                       set_status_on_exception=False) as span:
        yield LLMSpan(span)


@contextmanager
def tool_span(tool: str, step_id: str, attempt: int,
              workflow_id: str | None = None) -> Iterator[None]:
    """``execute_tool <tool>``: one attempt of a plan step's tool call. Its outcome comes from
    how the block ends: ``succeeded``, ``cancelled``, or ``failed`` with the error's ``type``
    and ``retryable`` (a ``StepFailure``) as ``error.type`` and ``jarvis.retryable``."""
    if _tracer is None:
        yield
        return
    from opentelemetry.trace import SpanKind

    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool,
        "jarvis.tool": tool, "jarvis.step": step_id, "jarvis.attempt": attempt}
    if workflow_id:
        attributes["jarvis.workflow_id"] = workflow_id
    with _tracer.start_as_current_span(f"execute_tool {tool}", kind=SpanKind.INTERNAL,
                                       attributes=attributes, record_exception=False,
                                       set_status_on_exception=False) as span:
        try:
            yield
        except asyncio.CancelledError:
            span.set_attribute("jarvis.outcome", "cancelled")
            raise
        except Exception as exc:
            retryable = getattr(exc, "retryable", None)
            span.set_attribute("jarvis.outcome", "failed")
            if isinstance(retryable, bool):
                span.set_attribute("jarvis.retryable", retryable)
            _fail(span, str(getattr(exc, "type", None) or type(exc).__name__), str(exc))
            raise
        span.set_attribute("jarvis.outcome", "succeeded")


def _fail(span: Span, error_type: str, message: str) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR, redact(f"{error_type}: {message}")[:500]))
