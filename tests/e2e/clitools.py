"""Running `jarvis` as a person does, for the CLI tests: a subprocess, its output captured as a
pipe (stdout and stderr apart, or merged as in `jarvis ... 2>&1 | tee log`), or a terminal."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.paths import ROOT

HELLO = ROOT / "examples" / "hello.json"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
TREE = re.compile(r"^[│ ]*[├└]── |^│   ")  # a plan tree's lines (rich Tree)
BORDER = re.compile(r"^[┏┡└┌╭┗┣┢][━─┳┯┻┷╇┿┴┬┼═ ]*[┓┩┘┐╮┛┫┪]$")  # a table's top, rule or bottom
# messages that begin a line of their own; one right after other text means two got glued
MESSAGE_STARTS = ("succeeded; result:", "succeeded (", "waiting for approval:", "goal id:",
                  "run id:", "error:", "hint:", "note:", "planned (nothing ran)", "failed:",
                  "cancellation requested")



def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "jarvis_planner.cli", *args]


def cli_env(data_dir: Path, temporal_address: str, task_queue: str) -> dict[str, str]:
    return {"JARVIS_DATA_DIR": str(data_dir), "JARVIS_TEMPORAL_ADDRESS": temporal_address,
            "JARVIS_TASK_QUEUE": task_queue, "COLUMNS": "200",
            "JARVIS_EMBEDDING_BACKEND": "hashing"}


def jarvis(*args: str, env: dict[str, str], timeout: float = 120,
           merged: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `jarvis ARGS`; ``merged``: stderr into the same pipe as stdout (``2>&1``)."""
    return subprocess.run(command(*args), env={**os.environ, **env}, text=True,
                          timeout=timeout, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT if merged else subprocess.PIPE)


def write(folder: Path, data: Any, name: str = "plan.json") -> str:
    import json

    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def found_id(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, f"no {pattern!r} in:\n{text}"
    return match.group(1)


def assert_clean_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def assert_whole_lines(text: str) -> None:
    """Output fit for a pipe: no cursor control or colour codes, each table line closed by
    its border, and no message begun in the middle of another line."""
    assert "\x1b[" not in text, repr(text)
    for line in text.splitlines():
        stripped = line.rstrip()
        if TREE.match(stripped):
            pass
        elif stripped[:1] in "┏┡└┌╭┗":
            assert BORDER.match(stripped), f"a line glued to a table: {line!r}"
        elif stripped[:1] in "│┃":
            assert stripped[-1] in "│┃", f"a line glued to a table: {line!r}"
        for start in MESSAGE_STARTS:  # glued: right after other text, with no space between
            at = stripped.find(start)
            assert at <= 0 or stripped[at - 1].isspace(), f"two messages on one line: {line!r}"


@contextmanager
def worker_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`jarvis worker` (as `jarvis up` starts it: output to a log file) until the block ends;
    stopped with SIGTERM, as `jarvis down` does."""
    with open(log, "ab") as fh:
        proc = subprocess.Popen(command("worker"), env={**os.environ, **env}, cwd=ROOT,
                                stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while "polling task queue" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the worker never polled:\n" + log.read_text()
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        proc.wait(60)


class Terminal:
    """`jarvis ARGS` on a pseudo-terminal (200 columns): what a person at a terminal sees."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.proc = subprocess.Popen(command(*args), stdin=slave, stdout=slave, stderr=slave,
                                     env={**os.environ, **env, "TERM": "xterm"}, cwd=ROOT,
                                     start_new_session=True)
        os.close(slave)
        self.fd = master
        self.raw = b""

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode("utf-8", "replace")).replace("\r", "")

    def _read(self, timeout: float) -> bool:
        """Read what is there within ``timeout``; False when nothing came."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the process closed the terminal
            return False
        self.raw += chunk
        return bool(chunk)

    def expect(self, needle: str, count: int = 1, timeout: float = 90) -> None:
        """Wait until ``needle`` has appeared ``count`` times in the output."""
        deadline = time.monotonic() + timeout
        while self.text.count(needle) < count:
            assert time.monotonic() < deadline, f"no {needle!r} (x{count}) in:\n{self.text}"
            if not self._read(0.2) and self.proc.poll() is not None:
                raise AssertionError(f"exited ({self.proc.returncode}) before {needle!r}:\n"
                                     f"{self.text}")

    def send(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                os.killpg(self.proc.pid, signal.SIGKILL)
                raise AssertionError(f"did not exit:\n{self.text}")
            self._read(0.1)
        while self._read(0.1):
            pass
        os.close(self.fd)
        return self.proc.returncode
