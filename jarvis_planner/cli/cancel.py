"""`jarvis cancel ID`: cancel a running plan run or goal."""

from __future__ import annotations

from jarvis_planner.cli.options import IdArg


def cancel(wf_id: IdArg) -> None:
    """Cancel a running plan or goal (running steps are cancelled, nothing new starts). Exit 1
    if it had already finished."""
    import asyncio

    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.lookup import identify, snapshot
    from jarvis_planner.cli.session import connect_or_fail
    from planner.settings import load_settings

    async def _go() -> str:
        jarvis = await connect_or_fail(load_settings())
        found = await identify(jarvis, wf_id)
        what = f"{'goal' if found.kind == 'goal' else 'run'} {wf_id}"
        if not found.running:  # its outcome: a closed workflow answers without a worker
            snap = await snapshot(jarvis, wf_id)
            raise CliError(f"{what} already finished: {snap.outcome}; nothing to cancel",
                           f"`jarvis status {wf_id}` shows it")
        await jarvis.cancel(wf_id)
        return what

    what = asyncio.run(_go())
    console.print(f"cancellation requested for {what}", highlight=False)
