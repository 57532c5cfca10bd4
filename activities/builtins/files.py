"""Files confined to the workspace directory: read, write, list.

Every path is walked inside the workspace by ``activities.workspace`` (no link is followed by
the kernel, '..' and links may not leave it; NUL bytes, over-long names and lone surrogates are
refused before any system call). Only plain files are read or written: folders, FIFOs, devices
and files with more than one hard link are refused. An overwrite goes to a temporary file
created exclusively (``O_CREAT | O_EXCL | O_NOFOLLOW``, a random name) and renamed over the
target; an append is made at most once per step (``activities.effects``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import secrets
import stat
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from activities.effects import append_once, read_at, write_all
from activities.errors import ToolError, ToolInputError
from activities.folder_listing import walk_folder
from activities.undo_records import (
    MAX_UNDO_BYTES,
    before_bytes,
    drop_record,
    load_record,
    record_before,
)
from activities.workspace import (
    DIR_FLAGS,
    FILE_FLAGS,
    Location,
    check_path,
    locate,
    open_file,
    refuse_odd,
    shown,
)
from planner.tools import Compensation, Risk, ToolContext, ToolRegistry, tool_from_function

MAX_READ_BYTES = 5_000_000
TEMP_ATTEMPTS = 8


class FileText(BaseModel):
    path: str
    text: str
    bytes: int


class FileWritten(BaseModel):
    path: str
    bytes: int


class FileUndone(BaseModel):
    path: str
    action: Literal["restored", "deleted", "already gone"]


class FileEntry(BaseModel):
    path: str
    is_dir: bool
    bytes: int


class FileList(BaseModel):
    entries: list[FileEntry]
    count: int


def read_file(path: str, ctx: ToolContext) -> FileText:
    """Read a UTF-8 text file from the workspace."""
    with locate(ctx.workspace, path) as loc:
        fd = open_file(loc, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        if size > MAX_READ_BYTES:
            raise ToolInputError(f"{path!r} is {size} bytes; the limit is {MAX_READ_BYTES}")
        data = read_at(fd, 0, MAX_READ_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_READ_BYTES:
        raise ToolInputError(f"{path!r} grew past the limit of {MAX_READ_BYTES} bytes")
    return FileText(path=path, text=data.decode("utf-8", errors="replace"), bytes=len(data))


def write_file(
    path: str, text: str, ctx: ToolContext, mode: Literal["overwrite", "append"] = "overwrite"
) -> FileWritten:
    """Write (or append) UTF-8 text to a file in the workspace, creating folders as needed."""
    data = text.encode("utf-8")
    with locate(ctx.workspace, path, make_dirs=True) as loc:
        if ctx.idempotency_key:  # what it held before, once per step: the undo puts it back
            before, size = _current(loc)
            record_before(ctx.data_dir, ctx.idempotency_key, loc.relative, before, size)
        if mode == "append":
            fd = open_file(loc, os.O_RDWR | os.O_APPEND | os.O_CREAT)
            try:
                size = append_once(fd, data, key=ctx.idempotency_key,
                                   journal=Path(ctx.data_dir) / "effects", label=loc.relative)
            finally:
                os.close(fd)
        else:
            size = _replace(loc, data)
    return FileWritten(path=path, bytes=size)


def undo_write_file(path: str, ctx: ToolContext) -> FileUndone:
    """Undo a write_file step (its compensation): put back what the file held before the
    step, or remove the file the step created."""
    key = ctx.idempotency_key
    entry = load_record(ctx.data_dir, key) if key else None
    if entry is None:
        raise ToolInputError(f"no record of what the step's write to {path!r} replaced (it "
                             "wrote nothing, or was undone already); nothing to undo")
    if "too_large" in entry:
        raise ToolInputError(f"{path!r} held {entry['too_large']} bytes before the step, more "
                             f"than the {MAX_UNDO_BYTES} kept for an undo; restore it by hand")
    before = before_bytes(entry)
    with locate(ctx.workspace, entry["path"]) as loc:
        if before is not None:
            _replace(loc, before)
            action: Literal["restored", "deleted", "already gone"] = "restored"
        else:
            try:
                refuse_odd(loc, os.lstat(loc.name, dir_fd=loc.dir_fd))
                os.unlink(loc.name, dir_fd=loc.dir_fd)
                action = "deleted"
            except FileNotFoundError:
                action = "already gone"
    if key:
        drop_record(ctx.data_dir, key)
    return FileUndone(path=path, action=action)


def _current(loc: Location) -> tuple[bytes | None, int]:
    """The bytes at ``loc`` (None: no file, or larger than an undo keeps) and their size."""
    try:
        fd = open_file(loc, os.O_RDONLY)
    except ToolInputError:
        return None, 0  # no file there (odd files are refused by the write itself)
    try:
        size = os.fstat(fd).st_size
        if size > MAX_UNDO_BYTES:
            return None, size
        return read_at(fd, 0, MAX_UNDO_BYTES + 1), size
    finally:
        os.close(fd)


def temp_name() -> str:
    """A fresh, unpredictable name for a temporary file (fixed length: never over NAME_MAX)."""
    return f".jarvis-{secrets.token_hex(8)}.tmp"


def _replace(loc: Location, data: bytes) -> int:
    """Put ``data`` at ``loc`` atomically: an exclusive temporary file renamed over it."""
    if loc.name == ".":
        raise ToolInputError(f"{shown(loc.path)} is a directory")
    with contextlib.suppress(FileNotFoundError):  # a new file
        refuse_odd(loc, os.lstat(loc.name, dir_fd=loc.dir_fd))
    for _ in range(TEMP_ATTEMPTS):
        tmp = temp_name()
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | FILE_FLAGS, 0o666,
                         dir_fd=loc.dir_fd)
            break
        except FileExistsError:
            continue  # taken (or planted): never reuse it, draw another name
    else:
        raise ToolError(f"could not create a temporary file next to {shown(loc.path)}: "
                        f"{TEMP_ATTEMPTS} fresh names were all taken")
    try:
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, loc.name, src_dir_fd=loc.dir_fd, dst_dir_fd=loc.dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=loc.dir_fd)
        raise
    return len(data)


def list_files(ctx: ToolContext, path: str = ".", pattern: str = "*",
               recursive: bool = False) -> FileList:
    """List files in a workspace folder (glob pattern, optionally recursive)."""
    if pattern.startswith("/") or ".." in Path(pattern).parts:
        raise ToolInputError(f"pattern {pattern!r} may not be absolute or contain '..'")
    check_path(pattern, Path(ctx.workspace))
    wanted = [p for p in pattern.split("/") if p not in ("", ".")] or ["*"]
    if wanted[0] == "**":  # '**/x' is 'x' at any depth, as rglob('x')
        recursive, wanted = True, wanted[1:] or ["*"]
    with locate(ctx.workspace, path) as loc:
        try:
            fd = os.open(loc.name, DIR_FLAGS, dir_fd=loc.dir_fd)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                raise
            raise ToolInputError(f"no folder {path!r} in the workspace") from None
        base = () if loc.relative == "." else tuple(loc.relative.split("/"))
    try:
        entries = walk_folder(fd, base, wanted, recursive, ctx.workspace)
    finally:
        os.close(fd)
    found = [FileEntry(path="/".join(e.parts), is_dir=stat.S_ISDIR(e.mode), bytes=e.size)
             for e in sorted(entries, key=lambda e: e.parts)]
    return FileList(entries=found, count=len(found))


def register(registry: ToolRegistry) -> None:
    registry.register(tool_from_function(read_file, timeout_s=30))
    registry.register(tool_from_function(list_files, timeout_s=30))
    # Idempotent honestly: an overwrite leaves the same file however often it runs, and an
    # append is journaled under the step's idempotency key (activities/effects.py).
    write = tool_from_function(write_file, risk=Risk.SIDE_EFFECTING, idempotent=True,
                               timeout_s=30)
    registry.register(dataclasses.replace(write, compensation=Compensation(
        tool="undo_write_file", args={"path": "output.path"})))
    registry.register(dataclasses.replace(
        tool_from_function(undo_write_file, risk=Risk.SIDE_EFFECTING, idempotent=True,
                           timeout_s=30), internal=True))
