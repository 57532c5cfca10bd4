"""Paths confined to the workspace, walked one component at a time (openat-style).

The kernel never follows a symbolic link and never sees '..' on our behalf. Every component is
opened relative to the folder before it (``dir_fd=``) with ``O_NOFOLLOW``; a link met on the way
is read (``readlink`` with ``dir_fd``) and its target walked the same way, and '..' pops our own
stack of open folders. A path or a link that would leave the workspace is refused, whatever a
concurrent process swaps in while we walk: at worst the final ``O_NOFOLLOW`` open meets a link
and refuses (ELOOP). Names are checked before any system call touches them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from activities.errors import ToolInputError

NAME_MAX = 255  # bytes in one component
PATH_MAX = 4096  # bytes in a whole path, the terminating NUL included
MAX_LINKS = 40  # symbolic links followed in one walk (the kernel's own bound)
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # O_NONBLOCK: a FIFO cannot hang us


def shown(path: str) -> str:
    """``path`` quoted for a message, shortened when long."""
    text = repr(path)
    return text if len(text) <= 80 else text[:60] + "..." + text[-16:]


def check_path(path: str, root: Path) -> list[str]:
    """The components of ``path`` ('.' dropped, '..' kept), or a precise ToolInputError.

    Pure: no system call. Refused: NUL bytes, text that is not valid UTF-8 (lone surrogates),
    paths of PATH_MAX bytes or more, components over NAME_MAX bytes, absolute paths, the empty
    path, empty components ('a//b'; one trailing '/' is allowed) and more '..' than folders
    before them. ('..' that stays inside is walked by popping open folders, never by the
    kernel.)"""
    if "\x00" in path:
        raise ToolInputError(f"path {shown(path)} contains a NUL byte, which no name may hold")
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ToolInputError(f"path {shown(path)} is not valid UTF-8 (a lone surrogate at "
                             f"character {exc.start}); names must be UTF-8 text") from None
    if len(encoded) >= PATH_MAX:
        raise ToolInputError(f"path {shown(path)} is {len(encoded)} bytes; a path must be "
                             f"shorter than {PATH_MAX} bytes (PATH_MAX)")
    if path.startswith("/"):
        raise ToolInputError(f"path {shown(path)} is absolute; use a path relative to the "
                             f"workspace {root}")
    if not path:
        raise ToolInputError(f"the path is empty; use '.' for the workspace {root} itself")
    parts = path[:-1].split("/") if path.endswith("/") else path.split("/")
    for part in parts:
        if not part:
            raise ToolInputError(f"path {shown(path)} has an empty component ('//')")
        if len(part.encode("utf-8")) > NAME_MAX:
            raise ToolInputError(f"path {shown(path)} has a component of "
                                 f"{len(part.encode('utf-8'))} bytes; a name may have at most "
                                 f"{NAME_MAX} bytes (NAME_MAX)")
    depth = 0
    for part in parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            raise ToolInputError(f"path {shown(path)} escapes the workspace {root}")
    return [p for p in parts if p != "."]


@dataclass(frozen=True)
class Location:
    """Where a path ends: an open folder and a name in it ('.': the folder itself)."""

    dir_fd: int
    name: str
    path: str  # as the caller gave it, for messages
    root: Path
    folder: tuple[str, ...]  # the names of the open folder below the root, links resolved

    @property
    def relative(self) -> str:
        """Where the location is below the root, links resolved ('.': the root)."""
        names = self.folder if self.name == "." else (*self.folder, self.name)
        return "/".join(names) or "."


class _Walk:
    """One walk from the workspace root: a stack of open folders and the parts left to go."""

    def __init__(self, workspace: Path, root: Path, path: str, parts: list[str]) -> None:
        self.root, self.path = root, path
        self.bases = {str(root), os.path.abspath(workspace)}  # as resolved, as configured
        self.todo = deque(parts)
        self.stack = [os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)]
        self.names: list[str] = []  # of the folders on the stack above the root
        self.links = 0

    def close(self) -> None:
        while self.stack:
            os.close(self.stack.pop())

    def escape(self, how: str = "") -> ToolInputError:
        return ToolInputError(f"path {shown(self.path)} escapes the workspace {self.root}{how}")

    def up(self) -> None:
        if len(self.stack) == 1:
            raise self.escape()
        os.close(self.stack.pop())
        self.names.pop()

    def follow(self, name: str) -> None:
        """``name`` (in the current folder) is a link: walk its target instead."""
        self.links += 1
        if self.links > MAX_LINKS:
            raise ToolInputError(f"path {shown(self.path)} goes through more than {MAX_LINKS} "
                                 "symbolic links (ELOOP)")
        target = os.readlink(name, dir_fd=self.stack[-1])
        how = f" (through the symbolic link {name!r} -> {target!r})"
        if target.startswith("/"):
            rest = _under(target, self.bases)
            if rest is None:
                raise self.escape(how)
            while len(self.stack) > 1:
                self.up()
            target = rest
        self.todo.extendleft(reversed([p for p in target.split("/") if p not in ("", ".")]))

    def descend(self, name: str, make_dirs: bool) -> None:
        try:
            self.stack.append(os.open(name, DIR_FLAGS, dir_fd=self.stack[-1]))
            self.names.append(name)
        except FileNotFoundError:
            if not make_dirs:
                raise ToolInputError(f"no folder {name!r} on the way to {shown(self.path)} in "
                                     "the workspace") from None
            with contextlib.suppress(FileExistsError):  # made meanwhile: walk it
                os.mkdir(name, dir_fd=self.stack[-1])
            self.todo.appendleft(name)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            if not stat.S_ISLNK(os.lstat(name, dir_fd=self.stack[-1]).st_mode):
                raise ToolInputError(f"{name!r} in path {shown(self.path)} is not a "
                                     "folder") from None
            self.follow(name)


def _under(target: str, bases: set[str]) -> str | None:
    """The part of absolute ``target`` below one of ``bases`` (the workspace), else None."""
    for base in bases:
        if target == base or target.startswith(base.rstrip("/") + "/"):
            return target[len(base):].lstrip("/")
    return None


@contextmanager
def locate(workspace: Path, path: str, *, make_dirs: bool = False) -> Iterator[Location]:
    """Walk ``path`` inside ``workspace``; the final name is not a link when this yields (it may
    be missing). Folders on the way are created when ``make_dirs``."""
    root = Path(workspace).resolve()
    parts = check_path(path, root)
    if make_dirs:
        root.mkdir(parents=True, exist_ok=True)
    walk = _Walk(Path(workspace), root, path, parts)
    try:
        name = "."
        while walk.todo:
            part = walk.todo.popleft()
            if part == "..":
                walk.up()
                name = "."
            elif walk.todo:
                walk.descend(part, make_dirs)
            else:
                try:
                    is_link = stat.S_ISLNK(os.lstat(part, dir_fd=walk.stack[-1]).st_mode)
                except FileNotFoundError:
                    is_link = False
                if is_link:
                    walk.follow(part)
                    name = "."
                else:
                    name = part
        yield Location(walk.stack[-1], name, path, root, tuple(walk.names))
    finally:
        walk.close()


def refuse_odd(loc: Location, st: os.stat_result) -> None:
    """Refuse what is not one plain file: folders, FIFOs, devices, sockets, hard-linked files."""
    if stat.S_ISDIR(st.st_mode):
        raise ToolInputError(f"{shown(loc.path)} is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise ToolInputError(f"{shown(loc.path)} is not a regular file (a FIFO, device or "
                             "socket); refused")
    if st.st_nlink > 1:
        raise ToolInputError(f"{shown(loc.path)} has {st.st_nlink} hard links; a file linked "
                             "elsewhere may lie outside the workspace, refused")


def open_file(loc: Location, flags: int, mode: int = 0o666) -> int:
    """Open the regular file at ``loc`` without following a link or blocking on a FIFO; refuse
    anything else (checked before the open when it exists, and again on the open descriptor)."""
    if loc.name == ".":
        raise ToolInputError(f"{shown(loc.path)} is a directory")
    try:
        refuse_odd(loc, os.lstat(loc.name, dir_fd=loc.dir_fd))
    except FileNotFoundError:
        if not flags & os.O_CREAT:
            raise ToolInputError(f"no file {loc.path!r} in the workspace") from None
    try:
        fd = os.open(loc.name, flags | FILE_FLAGS, mode, dir_fd=loc.dir_fd)
    except FileNotFoundError:
        raise ToolInputError(f"no file {loc.path!r} in the workspace") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
            raise ToolInputError(f"{shown(loc.path)} changed into a link, FIFO or folder "
                                 f"during the call ({errno.errorcode[exc.errno]}); refused"
                                 ) from None
        raise
    try:
        refuse_odd(loc, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    return fd
