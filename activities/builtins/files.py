"""Files confined to the workspace directory: read, write, list."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from activities.errors import ToolInputError
from planner.tools import Risk, ToolContext, ToolRegistry, tool_from_function

MAX_READ_BYTES = 5_000_000


class FileText(BaseModel):
    path: str
    text: str
    bytes: int


class FileWritten(BaseModel):
    path: str
    bytes: int


class FileEntry(BaseModel):
    path: str
    is_dir: bool
    bytes: int


class FileList(BaseModel):
    entries: list[FileEntry]
    count: int


def confine(workspace: Path, relative: str) -> Path:
    """Resolve ``relative`` inside ``workspace``; refuse anything that escapes it."""
    root = Path(workspace).resolve()
    candidate = Path(relative)
    if candidate.is_absolute():
        raise ToolInputError(
            f"path {relative!r} is absolute; use a path relative to the workspace {root}"
        )
    resolved = (root / candidate).resolve()
    if resolved != root and root not in resolved.parents:
        raise ToolInputError(f"path {relative!r} escapes the workspace {root}")
    return resolved


def read_file(path: str, ctx: ToolContext) -> FileText:
    """Read a UTF-8 text file from the workspace."""
    target = confine(ctx.workspace, path)
    if not target.is_file():
        raise ToolInputError(f"no file {path!r} in the workspace")
    size = target.stat().st_size
    if size > MAX_READ_BYTES:
        raise ToolInputError(f"{path!r} is {size} bytes; the limit is {MAX_READ_BYTES}")
    return FileText(path=path, text=target.read_text(encoding="utf-8", errors="replace"),
                    bytes=size)


def write_file(
    path: str, text: str, ctx: ToolContext, mode: Literal["overwrite", "append"] = "overwrite"
) -> FileWritten:
    """Write (or append) UTF-8 text to a file in the workspace, creating folders as needed."""
    target = confine(ctx.workspace, path)
    if target.is_dir():
        raise ToolInputError(f"{path!r} is a directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode == "append":
        with target.open("a", encoding="utf-8") as fh:
            fh.write(text)
    else:
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    return FileWritten(path=path, bytes=target.stat().st_size)


def list_files(ctx: ToolContext, path: str = ".", pattern: str = "*",
               recursive: bool = False) -> FileList:
    """List files in a workspace folder (glob pattern, optionally recursive)."""
    folder = confine(ctx.workspace, path)
    if not folder.is_dir():
        raise ToolInputError(f"no folder {path!r} in the workspace")
    if pattern.startswith("/") or ".." in Path(pattern).parts:
        raise ToolInputError(f"pattern {pattern!r} may not be absolute or contain '..'")
    root = Path(ctx.workspace).resolve()
    found = folder.rglob(pattern) if recursive else folder.glob(pattern)
    inside = (p for p in sorted(found) if p.resolve() == root or root in p.resolve().parents)
    entries = [
        FileEntry(path=str(p.relative_to(root)), is_dir=p.is_dir(),
                  bytes=p.stat().st_size if p.is_file() else 0)
        for p in inside
    ]
    return FileList(entries=entries, count=len(entries))


def register(registry: ToolRegistry) -> None:
    registry.register(tool_from_function(read_file, timeout_s=30))
    registry.register(tool_from_function(list_files, timeout_s=30))
    registry.register(tool_from_function(write_file, risk=Risk.SIDE_EFFECTING,
                                         idempotent=True, timeout_s=30))
