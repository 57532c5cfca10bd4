"""A pure step's attempt, run inside the workflow (agents/plan_runner.py ``_run_inline``), in
the worker's metrics and the goal's trace, as an activity's attempt is (activities/execution.py
``run_attempt``): one ``jarvis_step_duration_seconds`` observation by tool and outcome, and an
``execute_tool <tool>`` mark.

Its duration is recorded as 0: it runs within one workflow activation, and workflow code reads
no clock (a pure tool is a bounded function of its arguments: microseconds). Replay-safe:
``workflow.metric_meter()`` records nothing while a history is replayed, and the tracing
interceptor makes no span then (agents/workflow_spans.py), so a replayed step is not counted
twice; neither is a command, so recorded histories replay unchanged.
"""

from __future__ import annotations

from temporalio import workflow

from agents import workflow_spans

with workflow.unsafe.imports_passed_through():
    from planner.contracts.metric_series import STEP_DURATION, StepOutcome


def inline_attempt(tool: str, step_id: str, outcome: StepOutcome,
                   error_type: str | None = None) -> None:
    workflow.metric_meter().create_histogram_float(
        STEP_DURATION.name, STEP_DURATION.description, STEP_DURATION.unit,
    ).record(0.0, {"tool": tool, "outcome": outcome})
    attributes: dict[str, str | int | float | bool] = {
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool, "jarvis.tool": tool,
        "jarvis.step": step_id, "jarvis.attempt": 1, "jarvis.outcome": outcome,
        "jarvis.inline": True}
    if error_type is not None:
        attributes["error.type"] = error_type
    workflow_spans.mark(f"execute_tool {tool}", attributes)
