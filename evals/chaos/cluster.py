"""The processes the chaos run kills: one Temporal dev server (restarted on the same SQLite
file and port) and worker processes (``evals.chaos.worker``), each started on demand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agents.devserver import free_port, port_open, start_dev_server, stop_process
from evals.chaos.tools import MARKERS_ENV
from planner.settings import Settings


class Cluster:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.markers = folder / "markers"
        self.markers.mkdir(parents=True, exist_ok=True)
        self.server: subprocess.Popen[bytes] | None = None
        self.chroma: subprocess.Popen[bytes] | None = None
        self.chroma_port = free_port()
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.settings: Settings | None = None

    def start_server(self) -> None:
        self.server = start_dev_server(self.folder / "temporal.sqlite", self.port,
                                       log_file=self.folder / "server.log")

    def start_chroma(self) -> None:
        """A chroma server for template memory: an embedded (persistent) chroma is not safe
        for several worker processes sharing one data dir, a server is."""
        log = open(self.folder / "chroma.log", "ab")  # noqa: SIM115 - the child holds it
        self.chroma = subprocess.Popen(
            [str(Path(sys.executable).with_name("chroma")), "run", "--path",
             str(self.folder / "chroma"), "--host", "127.0.0.1", "--port",
             str(self.chroma_port)], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", self.chroma_port):
            if self.chroma.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chroma did not start: see {self.folder / 'chroma.log'}")
            time.sleep(0.1)

    def kill_server(self) -> None:
        if self.server is not None:
            self.server.kill()  # SIGKILL: no shutdown of any kind
            self.server.wait()

    def worker_env(self, settings: Settings) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JARVIS_")}
        env.update({
            "JARVIS_DATA_DIR": str(settings.data_dir),
            "JARVIS_TEMPORAL_ADDRESS": self.address,
            "JARVIS_TASK_QUEUE": settings.task_queue,
            "JARVIS_LLM_BASE_URL": settings.llm_base_url or "",
            "JARVIS_LLM_API_KEY": settings.llm_api_key or "",
            "JARVIS_LLM_MODEL": settings.llm_model,
            "JARVIS_LLM_TIMEOUT_S": str(settings.llm_timeout_s),
            "JARVIS_EMBEDDING_BACKEND": settings.embedding_backend,
            "JARVIS_TEMPLATE_REUSE_DISTANCE": str(settings.template_reuse_distance),
            "JARVIS_CHROMA_HOST": settings.chroma_host or "",
            "JARVIS_CHROMA_PORT": str(settings.chroma_port),
            "JARVIS_CONNECT_TIMEOUT_S": "60",  # a worker restarted while the server is down
            MARKERS_ENV: str(self.markers),
        })
        return env

    def start_worker(self, settings: Settings) -> int:
        log = open(self.folder / "workers.log", "ab")  # noqa: SIM115 - the child holds it
        proc = subprocess.Popen([sys.executable, "-m", "evals.chaos.worker"],
                                env=self.worker_env(settings), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.workers[proc.pid] = proc
        return proc.pid

    def kill_worker(self, pid: int) -> bool:
        proc = self.workers.pop(pid, None)
        if proc is None or proc.poll() is not None:
            return False
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True

    def alive_workers(self) -> list[int]:
        return [pid for pid, p in self.workers.items() if p.poll() is None]

    def stop(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.workers.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.server is not None:
            stop_process(self.server)
        if self.chroma is not None:
            stop_process(self.chroma)
