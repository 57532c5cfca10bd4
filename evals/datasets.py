"""Locate the shared datasets folder (never copied into the repo).

Search order: ``$JARVIS_DATASETS`` when set (and only it: a wrong override is an error, not a
reason to read other data), else ``/work/shared/datasets``, else ``<repo>/../shared/datasets``
(CI clones the repo next to a ``shared/`` folder).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "JARVIS_DATASETS"
DEFAULT_DIR = Path("/work/shared/datasets")
REPO_DIR = Path(__file__).resolve().parent.parent


class DatasetNotFound(FileNotFoundError):
    """The datasets folder, or a file in it, is missing."""


def candidate_dirs() -> list[Path]:
    env = os.environ.get(ENV_VAR)
    if env:
        return [Path(env).expanduser()]
    return [DEFAULT_DIR, REPO_DIR.parent / "shared" / "datasets"]


def datasets_dir() -> Path:
    """The first existing datasets folder; raises DatasetNotFound listing what was tried."""
    tried = candidate_dirs()
    for folder in tried:
        if folder.is_dir():
            return folder
    how = (f"${ENV_VAR} points to {tried[0]}, which is not a folder"
           if os.environ.get(ENV_VAR) else
           "tried " + ", ".join(str(p) for p in tried))
    raise DatasetNotFound(
        f"datasets folder not found ({how}); set {ENV_VAR} to the folder holding e.g. "
        "nestful/data/executable/executable-data.json, or clone the repo next to shared/datasets"
    )


def dataset_file(*parts: str) -> Path:
    """A file inside the datasets folder; raises DatasetNotFound when it is missing."""
    root = datasets_dir()
    path = root.joinpath(*parts)
    if not path.is_file():
        raise DatasetNotFound(f"{path} does not exist (datasets folder: {root})")
    return path
