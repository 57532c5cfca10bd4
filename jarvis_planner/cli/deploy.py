"""`jarvis deploy version|set-current`: Worker Versioning (docs/versioning.md)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Worker versions: this code's build id, and which version new goals "
                       "start on (docs/versioning.md).", no_args_is_help=True)


@app.command("version")
def version() -> None:
    """Print the version (deployment.build_id) a worker started here would report."""
    from agents.versioning import worker_version
    from jarvis_planner.cli.console import console
    from planner.settings import load_settings

    console.print(worker_version(load_settings()).to_canonical_string(), highlight=False)


@app.command("set-current")
def set_current(
        build_id: str = typer.Argument(..., help="the build id new goals start on"),
        wait_s: float = typer.Option(0.0, "--wait", help="seconds to wait for a worker of that "
                                     "build id to poll (the server knows a version only then)"),
) -> None:
    """Make BUILD_ID the current version of the deployment (JARVIS_DEPLOYMENT_NAME): new goals
    start on it; pinned goals stay on the version they started on."""
    import asyncio

    from agents.connection import TemporalUnreachable, connect_with_retry
    from agents.versioning import VersioningError, set_current_version
    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.errors import CliError
    from planner.settings import load_settings

    settings = load_settings()

    async def _main() -> None:
        try:
            client = await connect_with_retry(settings)
            await set_current_version(client, settings.deployment_name, build_id, wait_s=wait_s)
        except (TemporalUnreachable, VersioningError) as exc:
            raise CliError(str(exc)) from exc

    asyncio.run(_main())
    console.print(f"{settings.deployment_name}.{build_id} is current: new goals start on it",
                  highlight=False)
