"""Provider errors translated into one retry posture, in one place.

408/409/429/5xx, timeouts and connection failures are retryable, with the server's ``retry-after``
as the next delay; every other status is a mistake no retry can fix. Nothing here retries: the
caller (a Temporal activity) raises, and Temporal's retry policy decides, so each attempt is
visible in the workflow history.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping

import openai

from planner.contracts.names import (
    NON_RETRYABLE_LLM_ERRORS,
    RETRYABLE_LLM_ERRORS,
    LLMErrorKind,
)

# The kinds are durable error types (retry policies list them): defined in the contracts.
RETRYABLE_KINDS = RETRYABLE_LLM_ERRORS
NON_RETRYABLE_KINDS: list[str] = list(NON_RETRYABLE_LLM_ERRORS)

_HINTS: dict[str, str] = {
    "RateLimited": "rate limited: slow down or raise the provider's limits",
    "ServerError": "the endpoint failed on its side",
    "Timeout": "no answer in time; raise JARVIS_LLM_TIMEOUT_S for slow (local) models",
    "ConnectionError": "could not connect; is the server running? check JARVIS_LLM_BASE_URL",
    "Conflict": "conflict at the endpoint",
    "AuthenticationFailed": "the endpoint refused the key: check JARVIS_LLM_API_KEY",
    "PermissionDenied": "the key may not use this model or endpoint: check JARVIS_LLM_API_KEY "
                        "and the account's access",
    "BadRequest": "the endpoint rejected the request; if it is about response_format or tools, "
                  "set JARVIS_LLM_STRUCTURED_MODE to 'tools' or 'json'",
    "ModelNotFound": "set JARVIS_LLM_MODEL to a model this endpoint serves, and check "
                     "JARVIS_LLM_BASE_URL (OpenAI-compatible servers usually end in /v1)",
    "UnprocessableEntity": "the endpoint could not process the request; if it is about "
                           "response_format or tools, set JARVIS_LLM_STRUCTURED_MODE",
    "NotConfigured": "set JARVIS_LLM_BASE_URL (e.g. a local Ollama server) or JARVIS_LLM_API_KEY",
    "Unknown": "unexpected failure talking to the endpoint",
}

_BY_STATUS: dict[int, LLMErrorKind] = {
    400: "BadRequest", 401: "AuthenticationFailed", 403: "PermissionDenied",
    404: "ModelNotFound", 408: "Timeout", 409: "Conflict", 422: "UnprocessableEntity",
    429: "RateLimited",
}


class LLMError(Exception):
    """A failed LLM call with its retry posture. ``str()`` says what, whether a retry can fix
    it (``retryable``: whether Temporal's retry policy tries again is the policy's business,
    so the message never promises it), where and what to do."""

    def __init__(self, kind: LLMErrorKind, detail: str, *, status: int | None = None,
                 retry_after_s: float | None = None, endpoint: str | None = None,
                 model: str | None = None, retryable: bool | None = None) -> None:
        self.kind: LLMErrorKind = kind
        self.detail = detail
        self.status = status
        self.retry_after_s = retry_after_s
        self.endpoint = endpoint
        self.model = model
        self.retryable = kind in RETRYABLE_KINDS if retryable is None else retryable
        super().__init__(self._message())

    def _message(self) -> str:
        where = f" from {self.endpoint}" if self.endpoint else ""
        model = f" (model '{self.model}')" if self.model else ""
        status = f"HTTP {self.status}: " if self.status is not None else ""
        after = f" Retry after {self.retry_after_s:g}s." if self.retry_after_s is not None else ""
        hint = _HINTS[self.kind]
        posture = "retryable" if self.retryable else "not retryable"
        return (f"{self.kind} ({posture}){where}{model}: {status}{self.detail.rstrip('.')}. "
                f"{hint[0].upper()}{hint[1:]}.{after}")


def classify(exc: BaseException, *, model: str | None = None) -> LLMError:
    """Translate an ``openai`` exception (or anything else) into an :class:`LLMError`."""
    if isinstance(exc, LLMError):
        return exc
    endpoint = _endpoint(exc)
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("Timeout", "request timed out", endpoint=endpoint, model=model)
    if isinstance(exc, openai.APIConnectionError):
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        return LLMError("ConnectionError", f"connection failed{cause}", endpoint=endpoint,
                        model=model)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        kind = _BY_STATUS.get(status) or ("ServerError" if status >= 500 else "Unknown")
        return LLMError(kind, _detail(exc), status=status, endpoint=endpoint, model=model,
                        retry_after_s=retry_after(exc.response.headers))
    if isinstance(exc, openai.APIResponseValidationError):  # a garbled answer: maybe transient
        return LLMError("Unknown", f"malformed response: {exc.message}", endpoint=endpoint,
                        model=model, retryable=True)
    return LLMError("Unknown", f"{type(exc).__name__}: {exc}", endpoint=endpoint, model=model,
                    retryable=False)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        return max(0.0, seconds) if math.isfinite(seconds) else None
    return _http_date_delay(headers.get("retry-after"))


def _http_date_delay(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_tz(value)
        when = email.utils.mktime_tz(parsed) if parsed else None
    except (TypeError, ValueError, OverflowError):
        return None
    return None if when is None else max(0.0, when - time.time())


def _endpoint(exc: BaseException) -> str | None:
    return str(exc.request.url) if isinstance(exc, openai.APIError) else None


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return str(body["message"])
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return exc.message
