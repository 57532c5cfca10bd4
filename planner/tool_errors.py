"""Errors tools raise. Retry posture is decided by the class, in one place. In the domain so
pure tools (planner/pure_tools.py), which run in workflow code, raise the same ones."""

from __future__ import annotations


class ToolError(Exception):
    """A tool failed in a way a retry may fix (network blip, 5xx, busy resource)."""

    retryable = True

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s  # the server asked us to wait this long


class ToolInputError(ToolError):
    """A tool was called with input it can never accept (bad path, bad expression): no retry."""

    retryable = False


class ToolRefused(ToolError):
    """A tool refuses to run (policy: dangerous tool without approval): no retry."""

    retryable = False
