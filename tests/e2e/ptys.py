"""Driving an interactive `jarvis` command in a pseudo-terminal, as a person would."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

from tests.paths import ROOT

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


class Terminal:
    def __init__(self, *args: str, env: dict[str, str], columns: int = 120) -> None:
        # A person's terminal delivers Ctrl-C to a command that handles it. A test run started
        # in the background (`cmd &` in a script) ignores SIGINT, and an ignored signal stays
        # ignored in every child: the command would never see the test's Ctrl-C. Caught here
        # (the main thread), it is back to the default in the child.
        if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        self.master, slave = pty.openpty()
        os.set_blocking(self.master, False)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jarvis_planner.cli", *args], stdin=slave, stdout=slave,
            stderr=slave, env={**os.environ, **env, "COLUMNS": str(columns), "TERM": "xterm",
                               # a hung command dumps its threads' stacks on SIGABRT (wait())
                               "PYTHONFAULTHANDLER": "1"},
            cwd=ROOT, start_new_session=True)
        os.close(slave)
        self.raw = b""

    @property
    def text(self) -> str:
        """Everything written so far, without colour and cursor codes."""
        return ANSI.sub("", self.raw.decode(errors="replace"))

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            with contextlib.suppress(OSError):  # the child closed the terminal
                self.raw += os.read(self.master, 65536)

    def expect(self, pattern: str, timeout: float = 60) -> None:
        """Wait until ``pattern`` (a regex) appears in the output."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.text):
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} never appeared; output:\n{self.text}")
            self._read(0.2)

    def send(self, data: str) -> None:
        os.write(self.master, data.encode())

    def _dump_and_kill(self) -> None:
        """SIGABRT: the faulthandler writes every thread's stack to the terminal; then kill."""
        self.proc.send_signal(signal.SIGABRT)
        until = time.monotonic() + 3
        while self.proc.poll() is None and time.monotonic() < until:
            self._read(0.2)
        self._read(0.2)
        if self.proc.poll() is None:
            self.proc.kill()

    def interrupt(self) -> None:
        """Ctrl-C, as the terminal sends it: SIGINT to the foreground process."""
        self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self._dump_and_kill()
                raise AssertionError(f"still running; output (with the threads' stacks at "
                                     f"the end):\n{self.text}")
            self._read(0.2)
        self._read(0.2)
        os.close(self.master)
        return self.proc.returncode
