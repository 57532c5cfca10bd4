"""Errors tools raise (the base classes are the domain's: planner/tool_errors.py). Retry posture
is decided by the class, in one place."""

from __future__ import annotations

from planner.tool_errors import ToolError, ToolInputError, ToolRefused


class EgressRefused(ToolRefused):
    """The egress policy refuses a connection (internal address, scheme, userinfo, port): no
    retry. Its own type name reaches the step state; ``non_retryable`` carries the posture."""

    retryable = False


__all__ = ["EgressRefused", "ToolError", "ToolInputError", "ToolRefused"]
