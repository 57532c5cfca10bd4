"""One chaos run: goals and plan runs submitted while workers and the server are SIGKILLed at
random moments (and right after side effects), tools fail transiently and for good, and the LLM
misbehaves in bursts. Then every acknowledged goal and run is accounted for."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from temporalio.exceptions import WorkflowAlreadyStartedError

from activities import default_registry
from agents.client import Gone, JarvisClient
from agents.connection import connect_with_retry
from evals.chaos import tools
from evals.chaos.cluster import Cluster
from evals.chaos.llm import KINDS, FaultyLLM, goal_text, plan_for
from evals.chaos.tools import EFFECT_PREFIX
from planner.contracts.names import RETRYABLE_LLM_ERRORS
from planner.plan import Plan
from planner.preparation import prepare
from planner.settings import Settings

T = TypeVar("T")


@dataclass
class ChaosOptions:
    folder: Path
    goals: int = 12
    plan_runs: int = 4
    workers: int = 2
    worker_kills: int = 4  # half of them land right after a side effect
    server_kills: int = 1
    seed: int = 7
    fault_rate: float = 0.3
    hold_s: float = 0.6
    spacing_s: float = 0.25  # between two submissions
    deadline_s: float = 300.0


@dataclass
class Outcome:
    id: str
    kind: str
    expected: str
    status: str  # succeeded / failed / lost
    reason: str = ""
    latency_s: float | None = None


@dataclass
class ChaosResult:
    options: dict[str, Any]
    outcomes: list[Outcome]
    faults: Counter[str] = field(default_factory=Counter)
    effects: dict[str, int] = field(default_factory=dict)  # idempotency key -> notes written
    wall_s: float = 0.0

    @property
    def lost(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "lost"]

    @property
    def llm_gave_up(self) -> list[Outcome]:
        """Goals that failed because the LLM kept failing after every retry: the right
        outcome for a goal whose planner is down, counted apart."""
        return [o for o in self.outcomes if o.status == "failed" and o.expected == "succeeded"
                and any(f"failed: {kind}:" in o.reason for kind in RETRYABLE_LLM_ERRORS)]

    @property
    def unexpected(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != o.expected and o not in self.llm_gave_up]

    @property
    def repeated(self) -> dict[str, int]:
        return {k: n for k, n in self.effects.items() if n > 1}

    def missing_effects(self) -> list[str]:
        """Succeeded workflows whose effect step left no note."""
        done = {o.id for o in self.outcomes if o.status == "succeeded"}
        have = {key.split("/", 1)[0] for key in self.effects}
        return sorted(done - have)


async def persist(call: Callable[[], Awaitable[T]], deadline: float, what: str) -> T:
    """Retry ``call`` through server restarts until ``deadline`` (monotonic)."""
    while True:
        try:
            return await call()
        except (Gone, WorkflowAlreadyStartedError):
            raise
        except Exception as exc:  # RPC errors while the server restarts
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: still failing at the deadline: {exc}") from exc
            await asyncio.sleep(0.3)


class Chaos:
    def __init__(self, options: ChaosOptions) -> None:
        self.o = options
        self.rng = random.Random(options.seed)
        self.cluster = Cluster(options.folder)
        self.faults: Counter[str] = Counter()
        self.done_submitting = asyncio.Event()

    def settings(self, llm: FaultyLLM) -> Settings:
        return Settings(data_dir=self.o.folder / "data", temporal_address=self.cluster.address,
                        task_queue="chaos", llm_base_url=llm.base_url, llm_api_key="chaos-key",
                        llm_model=llm.model, llm_timeout_s=2.0, embedding_backend="hashing",
                        connect_timeout_s=60, chroma_host="127.0.0.1",
                        chroma_port=self.cluster.chroma_port)

    async def run(self) -> ChaosResult:
        started = time.monotonic()
        llm = FaultyLLM(self.o.seed, hold_s=self.o.hold_s, fault_rate=self.o.fault_rate)
        llm.start()
        try:
            settings = self.settings(llm)
            self.cluster.start_server()
            self.cluster.start_chroma()
            for _ in range(self.o.workers):
                self.cluster.start_worker(settings)
            jarvis = JarvisClient(await connect_with_retry(settings), settings,
                                  eager_start=False)
            deadline = time.monotonic() + self.o.deadline_s
            killer = asyncio.ensure_future(self.kill_at_random(settings))
            try:
                expected = await self.submit_all(jarvis, settings, deadline)
            finally:
                self.done_submitting.set()
                await killer
            while len(self.cluster.alive_workers()) < self.o.workers:
                self.cluster.start_worker(settings)
            outcomes = [await self.outcome(jarvis, wf, kind, want, deadline)
                        for wf, (kind, want) in expected.items()]
            self.faults.update({f"llm {k}": n for k, n in llm.injected.items()})
            return ChaosResult(options=_jsonable(vars(self.o)), outcomes=outcomes,
                               faults=self.faults, effects=count_effects(settings),
                               wall_s=time.monotonic() - started)
        finally:
            self.cluster.stop()
            llm.stop()

    # -- load ------------------------------------------------------------------------------
    async def submit_all(self, jarvis: JarvisClient, settings: Settings,
                         deadline: float) -> dict[str, tuple[str, str]]:
        """Goals and plan runs, one every ``spacing_s``; id -> (kind, expected status)."""
        expected: dict[str, tuple[str, str]] = {}
        registry = default_registry()
        tools.register(registry)
        total = self.o.goals + self.o.plan_runs
        for n in range(total):
            if n < self.o.goals:
                kind = KINDS[n % len(KINDS)]
                goal_id = f"chaos-goal-{self.o.seed}-{n}"
                await persist(lambda n=n, goal_id=goal_id: jarvis.submit(  # type: ignore[misc]
                    goal_text(n), yes=True, goal_id=goal_id), deadline, "submit")
                expected[goal_id] = (f"goal {kind}", "failed" if kind == "broken" else "succeeded")
            else:
                k = n - self.o.goals
                kind = KINDS[k % len(KINDS)]
                plan = Plan.model_validate(plan_for(1000 + k, kind, self.o.hold_s))
                inp = prepare(plan, registry, settings)
                run_id = f"chaos-run-{self.o.seed}-{k}"
                with contextlib.suppress(WorkflowAlreadyStartedError):  # a retried start landed
                    await persist(lambda inp=inp, run_id=run_id: jarvis.start_plan(  # type: ignore[misc]
                        inp, run_id=run_id), deadline, "start")
                expected[run_id] = (f"run {kind}", "failed" if kind == "broken" else "succeeded")
            await asyncio.sleep(self.o.spacing_s)
        return expected

    # -- faults ----------------------------------------------------------------------------
    async def kill_at_random(self, settings: Settings) -> None:
        """Half the worker kills land right after a side effect (a worker holding a marker),
        the rest and the server kills at random moments while the load is submitted."""
        inside_budget = self.o.worker_kills // 2
        random_budget = self.o.worker_kills - inside_budget
        horizon = (self.o.goals + self.o.plan_runs) * self.o.spacing_s + 2.0
        moments = sorted([("worker", self.rng.uniform(1.0, horizon))
                          for _ in range(random_budget)]
                         + [("server", self.rng.uniform(2.0, horizon))
                            for _ in range(self.o.server_kills)], key=lambda m: m[1])
        start = time.monotonic()
        while inside_budget or moments:
            if self.done_submitting.is_set() and not inside_budget and not moments:
                break
            await asyncio.sleep(0.05)
            if inside_budget:
                for marker in sorted(self.cluster.markers.iterdir()):
                    pid = int(marker.name.split("-")[0])
                    if self.cluster.kill_worker(pid):
                        inside_budget -= 1
                        self.faults["worker SIGKILL after a side effect"] += 1
                        await self.replace_worker(settings)
                        break
            if moments and time.monotonic() - start >= moments[0][1]:
                what, _ = moments.pop(0)
                if what == "server":
                    self.cluster.kill_server()
                    self.faults["server SIGKILL"] += 1
                    await asyncio.sleep(self.rng.uniform(0.2, 1.0))
                    await asyncio.to_thread(self.cluster.start_server)
                else:
                    alive = self.cluster.alive_workers()
                    if alive and self.cluster.kill_worker(self.rng.choice(alive)):
                        self.faults["worker SIGKILL at a random moment"] += 1
                        await self.replace_worker(settings)
            if (self.done_submitting.is_set() and not moments and inside_budget
                    and time.monotonic() - start > horizon + 20):
                break  # the load is in and no effect was hit lately: stop

    async def replace_worker(self, settings: Settings) -> None:
        await asyncio.sleep(self.rng.uniform(0.2, 1.0))
        self.cluster.start_worker(settings)

    # -- accounting ------------------------------------------------------------------------
    async def outcome(self, jarvis: JarvisClient, wf: str, kind: str, expected: str,
                      deadline: float) -> Outcome:
        try:
            if kind.startswith("goal"):
                state = await persist(lambda: jarvis.result(wf), deadline, wf)
                status = "succeeded" if state.stage == "succeeded" else "failed"
                reason = "" if status == "succeeded" else f"{state.stage}: {state.message}"
            else:
                run = await persist(lambda: jarvis.plan_result(wf), deadline, wf)
                status = "succeeded" if run.status == "succeeded" else "failed"
                reason = "" if status == "succeeded" else run.failure_report()
        except (TimeoutError, Gone) as exc:
            return Outcome(wf, kind, expected, "lost", str(exc))
        desc = await persist(lambda: jarvis.handle(wf).describe(), deadline, wf)
        latency = ((desc.close_time - desc.start_time).total_seconds()
                   if desc.close_time and desc.start_time else None)
        return Outcome(wf, kind, expected, status, reason, latency)


def count_effects(settings: Settings) -> dict[str, int]:
    notes = Path(settings.data_dir) / "notes.jsonl"
    counts: Counter[str] = Counter()
    if notes.exists():
        for line in notes.read_text(encoding="utf-8").splitlines():
            try:
                text = json.loads(line).get("text", "")
            except ValueError:
                continue
            if text.startswith(EFFECT_PREFIX):
                counts[text[len(EFFECT_PREFIX):]] += 1
    return dict(counts)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}


async def run_chaos(options: ChaosOptions) -> ChaosResult:
    return await Chaos(options).run()
