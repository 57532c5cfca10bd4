"""The chat web app (`jarvis serve`): one page and a small JSON API over ``JarvisClient``.

``create_app`` is loaded on first use, so ``jarvis_planner.web.tokens`` (read by `jarvis users`)
comes without the web stack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jarvis_planner.web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from jarvis_planner.web.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
