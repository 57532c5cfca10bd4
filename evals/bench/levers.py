"""The levers a benchmark configuration turns (server tuning, worker options, local activities,
sandbox, eager start), and the configurations built from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from agents.devserver import (
    DEFAULT_TUNING,
    STOCK,
    ServerTuning,
)

BENCHMARKS = ("overhead", "parallelism", "throughput", "planning")
# run only when asked (`--only scaling`, `--only floor`): minutes or most of one, not seconds
EXTRA_BENCHMARKS = ("scaling", "floor")


Metrics = dict[str, Any]


@dataclass(frozen=True)
class Levers:
    """One configuration of the tuning levers."""

    name: str
    server: ServerTuning = DEFAULT_TUNING
    local_activities: bool = True
    eager_start: bool = True
    sandboxed: bool = False
    worker_options: Mapping[str, Any] = field(default_factory=dict)
    # issue 14's levers: pure tools' steps in the workflow; the incremental scheduler;
    # template memory and the plan check as local activities; chains of local steps in one
    # local activity
    inline_pure: bool = True
    incremental_scheduler: bool = True
    memory_local: bool = True
    local_chain: bool = True
    local_group: bool = True  # parallel local steps in one local activity
    # how long a chain (or a group's links) may keep starting steps; None: the setting's
    # default (JARVIS_LOCAL_CHAIN_S)
    chain_budget_s: float | None = None
    tuned_gc: bool = True  # the worker process's garbage collector (agents/gc_tuning.py)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "server_flags": self.server.flags(),
                "server_env": dict(self.server.go_env),
                "local_activities": self.local_activities, "eager_start": self.eager_start,
                "sandboxed": self.sandboxed, "worker_options": dict(self.worker_options),
                "inline_pure": self.inline_pure,
                "incremental_scheduler": self.incremental_scheduler,
                "memory_local": self.memory_local, "local_chain": self.local_chain,
                "local_group": self.local_group, "chain_budget_s": self.chain_budget_s,
                "tuned_gc": self.tuned_gc}


TUNED = Levers("tuned")


# the SDK's own number of workflow-task slots (JARVIS_WORKFLOW_TASK_SLOTS is 1,000)
SDK_SLOTS: Mapping[str, Any] = {"max_concurrent_workflow_tasks": 100}

BASELINE = Levers("baseline", server=STOCK, local_activities=False, eager_start=False,
                  sandboxed=True, inline_pure=False, incremental_scheduler=False,
                  memory_local=False, local_chain=False, local_group=False,
                  worker_options=SDK_SLOTS,
                  tuned_gc=False)


def ablations(tuned: Levers = TUNED) -> list[Levers]:
    """The tuned configuration minus one lever at a time."""
    server = tuned.server
    rates = {k: v for k, v in server.dynamic_config.items() if "MaxPollRPS" not in k}
    return [
        replace(tuned, name="stock queue read rates",
                server=replace(server, dynamic_config=rates)),
        replace(tuned, name="rollback journal",
                server=replace(server, pragmas=())),
        replace(tuned, name="wal, synchronous=full",
                server=replace(server, pragmas=("journal_mode=wal",))),
        replace(tuned, name="wal, synchronous=off",
                server=replace(server, pragmas=("journal_mode=wal", "synchronous=off"))),
        replace(tuned, name="no local activities", local_activities=False),
        replace(tuned, name="no eager start", eager_start=False),
        replace(tuned, name="unsandboxed" if tuned.sandboxed else "sandboxed",
                sandboxed=not tuned.sandboxed),
        replace(tuned, name="no pure steps inline", inline_pure=False),
        replace(tuned, name="recomputing scheduler", incremental_scheduler=False),
        replace(tuned, name="memory as regular activities", memory_local=False),
        replace(tuned, name="no local chains", local_chain=False),
        replace(tuned, name="no local groups", local_group=False),
        replace(tuned, name="0.2 s chain budget", chain_budget_s=0.2),  # the default before
        replace(tuned, name="100 workflow-task slots", worker_options=SDK_SLOTS),
        replace(tuned, name="stock garbage collector", tuned_gc=False),
    ]


def explorations(tuned: Levers = TUNED) -> list[Levers]:
    """Levers tried and not adopted: other queue read rates, pollers and slots, more server
    knobs (each the tuned configuration plus one change)."""
    server = tuned.server

    def with_config(name: str, **values: object) -> Levers:
        return replace(tuned, name=name,
                       server=replace(server, dynamic_config={**server.dynamic_config, **values}))

    rates = [with_config(f"queue read rate {rps}", **{
        k: rps for k in server.dynamic_config if "MaxPollRPS" in k}) for rps in (50, 200, 1000)]
    return [
        *rates,
        with_config("history.shardIOConcurrency=16", **{"history.shardIOConcurrency": 16}),
        with_config("host-level events cache",
                    **{"history.enableHostLevelEventsCache": True}),
        replace(tuned, name="20 eager activities per task",
                worker_options={"max_eager_activity_reservations_per_workflow_task": 20}),
        # the server's Go collector: less often, its heap bounded
        replace(tuned, name="GOGC=400", server=replace(server, go_env={
            "GOGC": "400", "GOMEMLIMIT": "1GiB"})),
        replace(tuned, name="10 pollers per kind",
                worker_options={"max_concurrent_activity_task_polls": 10,
                                "max_concurrent_workflow_task_polls": 10}),
    ]


@dataclass(frozen=True)
class Size:
    seq_steps: int
    seq_repeats: int
    fan_width: int
    fan_step_s: tuple[float, ...]
    fan_repeats: int
    goals: int
    goal_steps: int
    plan_repeats: int
    kill_rounds: int
    kill_burst: int
    scale_steps: tuple[int, ...] = (10, 100, 1000)
    scale_goals: tuple[int, ...] = (1, 10, 100, 1000)
    scale_parked: int = 200
    floor_pairs: int = 30  # the floor benchmark's fan-out rounds (evals/bench/floor_pairs.py)
    floor_batches: int = 5  # and its batches of runs at once, of each


SIZES = {
    "full": Size(seq_steps=50, seq_repeats=3, fan_width=20, fan_step_s=(0.2, 1.0), fan_repeats=3,
                 goals=100, goal_steps=5, plan_repeats=3, kill_rounds=3, kill_burst=20),
    "smoke": Size(seq_steps=5, seq_repeats=1, fan_width=4, fan_step_s=(0.05,), fan_repeats=1,
                  goals=8, goal_steps=5, plan_repeats=1, kill_rounds=1, kill_burst=3,
                  scale_steps=(5, 20), scale_goals=(1, 4), scale_parked=3, floor_pairs=2,
                  floor_batches=2),
}


TARGETS = {
    "overhead": {"temporal_default_ms_per_step": "<= 3 (local-activity tools)",
                 "temporal_regular_ms_per_step": "<= 20"},
    "parallelism": {"ratio_200ms": "<= 1.15", "ratio_1000ms": "<= 1.03",
                    "ratio_200ms_regular": "<= 1.15", "ratio_1000ms_regular": "<= 1.03"},
    "throughput": {"default_steps_per_s": ">= 200", "default_lost": "0", "regular_lost": "0",
                   "pure_lost": "0"},
    "planning": {"template_ms": "<= 50", "template_llm_calls": "0"},
}
