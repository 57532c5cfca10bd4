"""Turn a plan into an execution input: validate it and fix each step's policy from the registry."""

from __future__ import annotations

from collections.abc import Mapping

from planner.contracts.plan_run import CompensationPolicy, ExecutePlanInput, StepPolicy
from planner.plan import Plan
from planner.settings import Settings
from planner.tools import Risk, Tool, ToolRegistry
from planner.validation import ValidationFailed, validate_plan


class DangerousStepRefused(ValueError):
    """The plan has dangerous steps and no approval exists yet."""


def step_policies(plan: Plan, registry: ToolRegistry, *,
                  local_activities: bool = True,
                  inline_pure: bool = True,
                  queues: Mapping[str, str] | None = None,
                  default_queue: str | None = None) -> dict[str, StepPolicy]:
    """Each step's policy from its tool; ``local_activities=False`` runs every tool call as a
    regular activity (the benchmarks' baseline). ``queues`` routes tools to task queues (tool
    name -> queue, ``JARVIS_TOOL_QUEUES``): a routed tool runs as a regular activity on that
    queue's workers, never as a local activity on the workflow's worker. ``inline_pure``: a
    pure tool's steps (not routed) run inside the workflow, no activity at all."""
    policies = {}
    for step in plan.steps:
        tool = registry[step.tool]
        queue = (queues or {}).get(tool.name)
        if queue == default_queue:
            queue = None
        policies[step.id] = StepPolicy(
            activity=tool.activity_name,
            kind=tool.kind,
            risk=tool.risk,
            timeout_s=tool.timeout_s,
            retry=tool.retry,
            local=local_activities and tool.runs_local and queue is None,
            inline=inline_pure and tool.pure and queue is None,
            queue=queue if tool.kind == "activity" else None,
            compensation=_compensation(tool, registry),
        )
    return policies


def _compensation(tool: Tool, registry: ToolRegistry) -> CompensationPolicy | None:
    """The step's compensation, when its tool declares one this registry has."""
    declared = tool.compensation
    undo = registry.get(declared.tool) if declared is not None else None
    if declared is None or undo is None:
        return None
    return CompensationPolicy(tool=undo.name, activity=undo.activity_name,
                              args=dict(declared.args), timeout_s=undo.timeout_s,
                              retry=undo.retry)


def prepare(plan: Plan, registry: ToolRegistry, settings: Settings,
            *, allow_dangerous: bool = False, local_activities: bool = True,
            inline_pure: bool = True, local_chains: bool = True) -> ExecutePlanInput:
    """Validate ``plan`` (raises ValidationFailed) and refuse dangerous steps. Pure steps run
    inside the workflow when both ``inline_pure`` and the settings say so; chains of local
    steps share a local activity when ``local_chains`` and ``settings.local_chain_s`` do, and
    parallel local steps when ``local_chains`` and ``settings.local_groups`` do."""
    problems = validate_plan(plan, {t.name: t for t in registry}, settings.plan_limits())
    if problems:
        raise ValidationFailed(problems)
    dangerous = [s.id for s in plan.steps if registry[s.tool].risk is Risk.DANGEROUS]
    if dangerous and not allow_dangerous:
        raise DangerousStepRefused(
            f"steps {', '.join(dangerous)} use dangerous tools and need an approval, which this "
            "version cannot give yet; remove those steps or run them by hand"
        )
    policies = step_policies(plan, registry, local_activities=local_activities,
                             inline_pure=settings.inline_pure_steps and inline_pure,
                             queues=settings.tool_queues, default_queue=settings.task_queue)
    return ExecutePlanInput(plan=plan, policies=policies,
                            payload_inline_limit=settings.payload_inline_limit,
                            history_events_limit=settings.history_events_limit,
                            allow_dangerous=allow_dangerous,
                            local_chain_s=settings.local_chain_s if local_chains else 0.0,
                            local_groups=settings.local_groups and local_chains,
                            link_attempts=True)
