"""`jarvis cancel RUN_ID`: cancel a running plan."""

from __future__ import annotations

from typing import Annotated

import typer


def cancel(run_id: Annotated[str, typer.Argument(help="Run id.")]) -> None:
    """Cancel a running plan (running steps are cancelled, nothing new starts)."""
    import asyncio

    from temporalio.service import RPCError

    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.plan_runs import missing
    from jarvis_planner.cli.session import connect_or_fail
    from planner.settings import load_settings

    settings = load_settings()

    async def _go() -> None:
        jarvis = await connect_or_fail(settings)
        try:
            await jarvis.cancel_plan(run_id)
        except RPCError as exc:
            raise missing(run_id, exc) from exc

    asyncio.run(_go())
    console.print(f"cancellation requested for {run_id}")
