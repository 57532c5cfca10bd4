"""Listing a workspace folder without following links out of it.

Folders are opened with ``dir_fd`` and ``O_NOFOLLOW`` and entries examined with ``lstat``; a
link is listed only when it leads somewhere inside the workspace (walked by
``activities.workspace.locate``), with what it leads to, and never descended into.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from activities.errors import ToolInputError
from activities.workspace import DIR_FLAGS, locate


@dataclass(frozen=True)
class Found:
    parts: tuple[str, ...]  # names below the workspace root
    mode: int
    size: int  # bytes of a regular file, else 0


def _matches(parts: tuple[str, ...], wanted: list[str], recursive: bool) -> bool:
    """Glob semantics: each pattern segment matches one name ('*' never crosses a '/'); a
    recursive listing matches the last segments at any depth."""
    if len(parts) < len(wanted) or (not recursive and len(parts) != len(wanted)):
        return False
    return all(fnmatchcase(p, w) for p, w in zip(parts[-len(wanted):], wanted, strict=True))


def _through_link(workspace: Path, parts: tuple[str, ...]) -> os.stat_result | None:
    """What the link at ``parts`` leads to, when that is inside the workspace."""
    try:
        with locate(workspace, "/".join(parts)) as loc:
            return os.stat(loc.name, dir_fd=loc.dir_fd, follow_symlinks=False)
    except (ToolInputError, OSError):
        return None


def _valid(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # not UTF-8 on disk: no tool could name it
        return False
    return True


def walk_folder(fd: int, base: tuple[str, ...], wanted: list[str], recursive: bool,
                workspace: Path) -> list[Found]:
    """The entries of the open folder ``fd`` (at ``base`` below the root) whose path below it
    matches the pattern segments ``wanted``; all depths when ``recursive``."""
    found: list[Found] = []
    todo: list[tuple[int, tuple[str, ...]]] = [(os.dup(fd), ())]
    try:
        while todo:
            folder, rel = todo.pop()
            try:
                for name in os.listdir(folder):
                    parts = (*rel, name)
                    try:
                        st: os.stat_result | None = os.lstat(name, dir_fd=folder)
                    except FileNotFoundError:
                        continue
                    link = st is not None and stat.S_ISLNK(st.st_mode)
                    if link:
                        st = _through_link(workspace, (*base, *parts))
                    if st is None or not _valid(name):
                        continue
                    if _matches(parts, wanted, recursive):
                        size = st.st_size if stat.S_ISREG(st.st_mode) else 0
                        found.append(Found((*base, *parts), st.st_mode, size))
                    deeper = recursive or (len(parts) < len(wanted)
                                           and fnmatchcase(name, wanted[len(parts) - 1]))
                    if deeper and stat.S_ISDIR(st.st_mode) and not link:
                        try:
                            todo.append((os.open(name, DIR_FLAGS, dir_fd=folder), parts))
                        except OSError:
                            continue  # replaced or removed meanwhile
            finally:
                os.close(folder)
    finally:
        for folder, _ in todo:
            os.close(folder)
    return found
