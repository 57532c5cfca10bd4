"""Two levers that live in workflow code, as switches the benchmark's ablations turn off for a
whole in-process worker's life (``python -m evals.bench --ablate``). Both are on in every worker;
neither changes what a run computes. Never switch them in a running worker: goals already
started would replay differently. Workflow modules import this one through the sandbox, so
sandboxed workflows see the same switches."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class WorkflowLevers:
    # the step driver's incremental scheduler (planner.scheduler.Scheduler); off: the
    # whole-plan RecomputingScheduler, as before it
    incremental_scheduler: bool = True
    # goals call template memory and the plan check as local activities (behind the
    # "memory-local-activities" patch); off: regular activities, as before it
    memory_local: bool = True


LEVERS = WorkflowLevers()
