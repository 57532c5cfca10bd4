"""`jarvis down`: stop what `jarvis up` started."""

from __future__ import annotations


def down() -> None:
    """Stop the worker and dev server that `jarvis up` started (by pid)."""
    from agents.devserver import kill_pid
    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.embedded import pid_file, read_pid
    from planner.settings import load_settings

    settings = load_settings()
    stopped = False
    for name in ("worker", "temporal"):
        path = pid_file(settings, name)
        pid = read_pid(path)
        if pid and kill_pid(pid):
            console.print(f"stopped {name} (pid {pid})")
            stopped = True
        path.unlink(missing_ok=True)
    if not stopped:
        console.print("nothing to stop: `jarvis up` has no running processes in "
                      f"{settings.run_dir}")
