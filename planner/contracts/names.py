"""Every durable name, defined once: workflow, activity, query and update names, and the error
types that retry policies and clients match on.

These strings are recorded in the histories of running workflows and used by operators (the
Temporal CLI, the UI). Never rename one: add a new name next to it instead. The full list is
checked against ``tests/data/durable_names.json`` by a unit test.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

# -- workflows ------------------------------------------------------------------------------
EXECUTE_PLAN_WORKFLOW: Final = "jarvis.ExecutePlan"
GOAL_WORKFLOW: Final = "jarvis.Goal"

# -- activities -----------------------------------------------------------------------------
TOOL_ACTIVITY_PREFIX: Final = "tool."  # one activity per tool: "tool.<name>"
MCP_ACTIVITY_PREFIX: Final = "mcp."  # an MCP server's tool: "mcp.<server>.<tool>"
RETRIEVE_ACTIVITY: Final = "planner.retrieve"
DRAFT_ACTIVITY: Final = "planner.draft"
REPAIR_ACTIVITY: Final = "planner.repair"
PREPARE_ACTIVITY: Final = "planner.prepare"
REMEMBER_ACTIVITY: Final = "planner.remember"
REPLAN_ACTIVITY: Final = "planner.replan"  # a replacement for a failed step and its dependants
# a local step and the read-only local steps chained after it, in one local activity
LOCAL_CHAIN_ACTIVITY: Final = "planner.local_chain"
LOCAL_GROUP_ACTIVITY: Final = "planner.local_group"

# -- queries and updates --------------------------------------------------------------------
STATE_QUERY: Final = "state"  # both workflows: the current RunState / GoalState
EVENTS_QUERY: Final = "events"  # both workflows: the event log after a sequence number
APPROVE_UPDATE: Final = "approve"
REJECT_UPDATE: Final = "reject"
EDIT_UPDATE: Final = "edit"
DECIDE_STEP_UPDATE: Final = "decide_step"  # a person's decision at one step's gate

# -- search attributes (operators' queries: `temporal workflow list --query 'JarvisStage="failed"'`)
STAGE_ATTRIBUTE: Final = "JarvisStage"  # the goal's stage, upserted at every change
SOURCE_ATTRIBUTE: Final = "JarvisSource"  # "template" or "llm"
TEMPLATE_ATTRIBUTE: Final = "JarvisTemplate"  # the template id a goal reused
RISK_ATTRIBUTE: Final = "JarvisRisk"  # the highest risk among the plan's steps
COST_ATTRIBUTE: Final = "JarvisCost"  # US dollars spent on LLM calls so far
# name -> the type the namespace registers (`--search-attribute NAME=TYPE`)
SEARCH_ATTRIBUTES: Final = {STAGE_ATTRIBUTE: "Keyword", SOURCE_ATTRIBUTE: "Keyword",
                            TEMPLATE_ATTRIBUTE: "Keyword", RISK_ATTRIBUTE: "Keyword",
                            COST_ATTRIBUTE: "Double"}

# -- error types (ApplicationError.type) ----------------------------------------------------
PLAN_FAILED: Final = "PlanFailed"  # a plan run whose step failed (details: the RunState)
GOAL_FAILED: Final = "GoalFailed"  # a goal whose plan failed or never became valid
INVALID_EDIT: Final = "InvalidEdit"  # an edit Update refused (details: the problems)
LLM_NOT_CONFIGURED: Final = "LLMNotConfigured"
OVER_BUDGET: Final = "OverBudget"  # a step not started: the goal's budget is spent

# Tool failures that no retry can fix; every tool activity's retry policy lists them.
NON_RETRYABLE_TOOL_ERRORS: Final = ("InvalidArguments", "ToolInputError", "ToolRefused",
                                    "NotFoundError", "UnknownTool")

LLMErrorKind = Literal[
    "RateLimited",
    "ServerError",
    "Timeout",
    "ConnectionError",
    "Conflict",
    "AuthenticationFailed",
    "PermissionDenied",
    "BadRequest",
    "ModelNotFound",
    "UnprocessableEntity",
    "NotConfigured",
    "Unknown",
]
RETRYABLE_LLM_ERRORS: Final = frozenset(
    {"RateLimited", "ServerError", "Timeout", "ConnectionError", "Conflict"})
# For retry policies' ``non_retryable_error_types`` (the kind is the ApplicationError type).
NON_RETRYABLE_LLM_ERRORS: Final = tuple(
    k for k in get_args(LLMErrorKind) if k not in RETRYABLE_LLM_ERRORS)


def tool_activity(tool_name: str) -> str:
    """The activity that runs ``tool_name``."""
    return TOOL_ACTIVITY_PREFIX + tool_name


def durable_names() -> dict[str, list[str]]:
    """Every name above by kind (what the contract test compares with its checked-in list)."""
    return {
        "workflows": [EXECUTE_PLAN_WORKFLOW, GOAL_WORKFLOW],
        "activities": [RETRIEVE_ACTIVITY, DRAFT_ACTIVITY, REPAIR_ACTIVITY, PREPARE_ACTIVITY,
                       REMEMBER_ACTIVITY, REPLAN_ACTIVITY, LOCAL_CHAIN_ACTIVITY,
                       LOCAL_GROUP_ACTIVITY,
                       TOOL_ACTIVITY_PREFIX + "*",
                       MCP_ACTIVITY_PREFIX + "*"],
        "queries": [STATE_QUERY, EVENTS_QUERY],
        "updates": [APPROVE_UPDATE, REJECT_UPDATE, EDIT_UPDATE, DECIDE_STEP_UPDATE],
        "error_types": sorted({PLAN_FAILED, GOAL_FAILED, INVALID_EDIT, LLM_NOT_CONFIGURED,
                               *NON_RETRYABLE_TOOL_ERRORS, *get_args(LLMErrorKind)}),
    }
