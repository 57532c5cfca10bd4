"""Errors tools raise. Retry posture is decided by the class, in one place."""

from __future__ import annotations


class ToolError(Exception):
    """A tool failed in a way a retry may fix (network blip, 5xx, busy resource)."""

    retryable = True


class ToolInputError(ToolError):
    """A tool was called with input it can never accept (bad path, bad expression): no retry."""

    retryable = False


class ToolRefused(ToolError):
    """A tool refuses to run (policy: dangerous tool without approval): no retry."""

    retryable = False
