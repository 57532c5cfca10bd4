"""A shell command in the workspace. Dangerous: never runs without an approval.

The command gets a scrubbed environment (``activities.child_env``): PATH, HOME, the locale and
a few more, never the worker's API keys or settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import BaseModel

from activities.child_env import scrubbed_env
from activities.errors import ToolError
from planner.retry import RetrySpec
from planner.tools import Risk, ToolContext, ToolRegistry, tool_from_function

MAX_OUTPUT = 100_000


class ShellResult(BaseModel):
    exit_code: int
    stdout: str
    stderr: str


async def shell(command: str, ctx: ToolContext, timeout_s: float = 60.0,
                check: bool = True) -> ShellResult:
    """Run a shell command with the workspace as working directory."""
    workspace = Path(ctx.workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    proc = await asyncio.create_subprocess_shell(
        command, cwd=workspace, env=scrubbed_env(), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError as exc:
        proc.kill()
        raise ToolError(f"command timed out after {timeout_s}s: {command}") from exc
    result = ShellResult(exit_code=proc.returncode or 0,
                         stdout=out.decode(errors="replace")[:MAX_OUTPUT],
                         stderr=err.decode(errors="replace")[:MAX_OUTPUT])
    if check and result.exit_code != 0:
        raise ToolError(f"command exited {result.exit_code}: {result.stderr[-500:]}")
    return result


def register(registry: ToolRegistry) -> None:
    registry.register(tool_from_function(shell, risk=Risk.DANGEROUS, idempotent=False,
                                         timeout_s=600, retry=RetrySpec(max_attempts=1)))
