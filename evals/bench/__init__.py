"""Engine benchmarks: ratios measured in one run, on this machine, against an embedded dev server
that the run starts itself (free port, temporary SQLite file, in-process worker).

- **overhead**: a sequential plan of no-op tool calls (50 steps): ms per step on the Temporal
  engine (tools as the default policy runs them, and every call as a regular activity), the
  simple engine and a bare asyncio loop calling the same tool core (``execute_call``).
- **parallelism**: 20 independent steps of 200 ms (and of 1 s) then a join of the same length;
  the makespan (start request to result, seen by the client) divided by the critical path (2 x
  the step). The ideal is 1.0.
- **throughput**: 100 plan runs ("goals") of 5 steps started at once; steps per second from the
  first start to the last result, and how many runs completed (none may be lost).
- **planning**: a goal planned by the LLM (the scripted OpenAI-compatible server of
  :mod:`jarvis_planner.testing`, real HTTP) vs the same goal served from template memory, both
  through the goal workflow with ``dry_run=True``; time, tokens and LLM calls.
- **durability** (``--kill-check``): SIGKILL the dev server right after runs are acknowledged as
  started and completed, restart it on the same file, and check they are all still there.

Each lever is a configuration (:class:`Levers`); ``--baseline`` also runs every lever off,
``--ablate`` the tuned configuration minus one lever at a time and ``--explore`` the tuned one
plus one lever that was tried and not adopted; each configuration gets its own dev server.
Reports: ``bench-<name>.json`` and ``.md`` per benchmark plus ``bench.md`` (all of them, with
the machine) in ``--out`` (default ``eval-reports/``).

Run: ``python -m evals.bench [--size smoke|full] [--out DIR] [--baseline] [--ablate] [--explore]
[--kill-check] [--rounds N] [--only overhead,parallelism,throughput,planning]`` or
``jarvis bench``. With ``--rounds N`` every configuration runs N times, in rotated order, and
each number is the median over the rounds (the machine is shared and drifts)."""

from __future__ import annotations

from evals.bench.benchmarks import (
    RUNNERS,
    overhead,
    parallelism,
    planning,
    run_config,
    throughput,
)
from evals.bench.cli import (
    Options,
    combine,
    main,
    parse_args,
    run,
)
from evals.bench.fixture import (
    Bench,
    bench_context,
    bench_settings,
)
from evals.bench.kill_check import (
    kill_check,
)
from evals.bench.levers import (
    BASELINE,
    BENCHMARKS,
    SIZES,
    TARGETS,
    TUNED,
    Levers,
    Metrics,
    Size,
    ablations,
    explorations,
)
from evals.bench.report import (
    Report,
    machine,
)
from evals.bench.workloads import (
    PLANNING_GOAL,
    PLANNING_PLAN,
    bench_noop,
    bench_pause,
    bench_registry,
    chain_plan,
    fan_plan,
)

__all__ = [
    "BASELINE",
    "BENCHMARKS",
    "PLANNING_GOAL",
    "PLANNING_PLAN",
    "RUNNERS",
    "SIZES",
    "TARGETS",
    "TUNED",
    "Bench",
    "Levers",
    "Metrics",
    "Options",
    "Report",
    "Size",
    "ablations",
    "bench_context",
    "bench_noop",
    "bench_pause",
    "bench_registry",
    "bench_settings",
    "chain_plan",
    "combine",
    "explorations",
    "fan_plan",
    "kill_check",
    "machine",
    "main",
    "overhead",
    "parallelism",
    "parse_args",
    "planning",
    "run",
    "run_config",
    "throughput",
]
