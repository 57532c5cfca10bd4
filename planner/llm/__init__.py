"""Calling an OpenAI-compatible LLM: config, structured output, usage and the retry posture.

No retries happen here: callers run inside Temporal activities, which own retries.
"""

from planner.llm.client import LLMConfig, StructuredMode, make_client
from planner.llm.errors import NON_RETRYABLE_KINDS, LLMError, LLMErrorKind, classify
from planner.llm.structured import (
    Mode,
    StructuredResult,
    TextResult,
    complete_structured,
    complete_text,
    forget_working_modes,
)
from planner.llm.usage import Usage

__all__ = [
    "NON_RETRYABLE_KINDS",
    "LLMConfig",
    "LLMError",
    "LLMErrorKind",
    "Mode",
    "StructuredMode",
    "StructuredResult",
    "TextResult",
    "Usage",
    "classify",
    "complete_structured",
    "complete_text",
    "forget_working_modes",
    "make_client",
]
