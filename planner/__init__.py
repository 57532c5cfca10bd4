"""JARVIS Planner: the domain core (plans, references, validation, settings, CLI)."""

from planner.plan import Plan, PlanLoadError, Step, load_plan, parse_plan, plan_json_schema
from planner.settings import Settings, load_settings
from planner.validation import Problem, ValidationFailed, validate_plan

__all__ = [
    "Plan",
    "PlanLoadError",
    "Problem",
    "Settings",
    "Step",
    "ValidationFailed",
    "load_plan",
    "load_settings",
    "parse_plan",
    "plan_json_schema",
    "validate_plan",
]
