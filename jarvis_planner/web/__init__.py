"""The chat web app (`jarvis serve`): one page and a small JSON API over ``JarvisClient``."""

from __future__ import annotations

from jarvis_planner.web.app import create_app

__all__ = ["create_app"]
