"""The provider's usage report as our :class:`~planner.contracts.usage.Usage`."""

from __future__ import annotations

from openai.types import CompletionUsage

from planner.contracts.usage import Usage


def usage_from_openai(usage: CompletionUsage | None) -> Usage:
    """One call's usage; an endpoint that reports none counts as zero tokens."""
    if usage is None:
        return Usage(calls=1)
    # Some OpenAI-compatible servers omit or null fields; the client does not validate them.
    prompt = getattr(usage, "prompt_tokens", None) or 0
    completion = getattr(usage, "completion_tokens", None) or 0
    total = getattr(usage, "total_tokens", None) or prompt + completion
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total, calls=1)
