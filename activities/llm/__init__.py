"""Calling an OpenAI-compatible LLM: config, structured output, usage and the retry posture.

No retries happen here: callers run inside Temporal activities, which own retries.
"""

from activities.llm.endpoint import LLMConfig, StructuredMode, make_client, usage_from_openai
from activities.llm.errors import NON_RETRYABLE_KINDS, LLMError, classify
from activities.llm.structured import (
    Mode,
    StructuredResult,
    TextResult,
    complete_structured,
    complete_text,
    forget_working_modes,
)
from planner.contracts.names import LLMErrorKind
from planner.contracts.usage import Usage

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
    "usage_from_openai",
]
