"""Why a goal ended without a result, in words for the page: a title saying what happened, the
detail (the goal's message without the error type repeated), and what to do next.

A planning failure's message is ``<kind>: <kind> from <endpoint> (model ...): <detail>. <hint>``
(``activities/llm/errors.py``); the kind names the sentence here. Retryable kinds were tried
``PLANNER_ATTEMPTS`` times (the goal workflow's retry policy for the LLM activities)."""

from __future__ import annotations

import re

from pydantic import BaseModel, field_validator

from jarvis_planner.web.wording import web_wording
from planner.contracts.goal_flow import GoalState
from planner.contracts.names import LLM_NOT_CONFIGURED, RETRYABLE_LLM_ERRORS

PLANNER_ATTEMPTS = 5  # agents/goal_workflow.py: GoalWorkflow._llm's RetryPolicy

NO_LLM_TITLE = "No LLM is configured, and no stored plan fits this goal."
_LLM_TITLES: dict[str, str] = {
    LLM_NOT_CONFIGURED: NO_LLM_TITLE,
    "NotConfigured": NO_LLM_TITLE,
    "ConnectionError": "The planner could not reach the LLM endpoint.",
    "Timeout": "The LLM endpoint did not answer in time.",
    "RateLimited": "The LLM endpoint kept refusing: too many requests.",
    "ServerError": "The LLM endpoint kept failing.",
    "Conflict": "The LLM endpoint kept reporting a conflict.",
    "AuthenticationFailed": "The LLM endpoint refused the API key.",
    "PermissionDenied": "The API key may not use this model or endpoint.",
    "ModelNotFound": "The LLM endpoint does not serve the configured model.",
    "BadRequest": "The LLM endpoint rejected the planner's request.",
    "UnprocessableEntity": "The LLM endpoint could not process the planner's request.",
    "Unknown": "Talking to the LLM endpoint failed.",
}
_STAGE_TITLES: dict[str, str] = {
    "invalid": "I could not make a valid plan.",
    "expired": "No decision came in time; nothing was run.",
    "cancelled": "The goal was cancelled.",
    "over_budget": "The goal ran out of budget; what was left was not run.",
}
RETRY_STAGES = frozenset({"failed", "invalid", "expired"})


class Failure(BaseModel):
    title: str
    detail: str = ""
    hint: str = ""
    kind: str = ""  # the error type, when the message names one (e.g. ConnectionError)

    @field_validator("detail")
    @classmethod
    def _sentence(cls, text: str) -> str:
        """A sentence: capitalised, ending with a full stop."""
        text = text.strip()
        if text and text[-1] not in ".!?)":
            text += "."
        return text[:1].upper() + text[1:]


def failure(state: GoalState) -> Failure | None:
    """Why the goal ended without a result (None while it runs, or when it succeeded, was
    planned only or was rejected: those say so themselves)."""
    stage, message = state.stage, web_wording(state.message)
    if stage == "failed" and state.run is not None:
        return _step_failure(state, message)
    if stage == "failed":
        return _planning_failure(message)
    if stage in _STAGE_TITLES:
        return Failure(title=_STAGE_TITLES[stage], detail=message,
                       hint="Retry submits the same goal again." if stage in RETRY_STAGES
                       else "")
    return None


def _step_failure(state: GoalState, message: str) -> Failure:
    run = state.run
    error = run.error if run is not None else None
    title = (f"Step '{error.step_id}' failed, so the goal stopped." if error is not None
             else "A step failed, so the goal stopped.")
    return Failure(title=title, detail=message, kind=error.type if error is not None else "",
                   hint="The steps above show what ran. Retry plans and runs the goal again.")


_LLM_MESSAGE = re.compile(
    r"(?:gave up after (?P<tries>\d+|all) attempts: |gave up \(out of time\): )?"
    r"(?P<kind>[A-Za-z]+)(?: \((?:not )?retryable\))?(?P<sep>: | from )(?P<rest>.*)", re.S)


def _planning_failure(message: str) -> Failure:
    found = _LLM_MESSAGE.match(message)
    kind = found.group("kind") if found else ""
    if found is None or kind not in _LLM_TITLES:
        return Failure(title="Planning failed.", detail=message,
                       hint="Retry submits the same goal again.")
    sep, rest = found.group("sep"), found.group("rest")
    again = re.match(rf"{kind}(?: \((?:not )?retryable\))?(: | from )(.*)", rest, re.S)
    if sep == ": " and again:  # "Kind: Kind (retryable) from URL..." (older goal messages)
        sep, rest = again.group(1), again.group(2)
    if sep == " from ":
        rest = "Endpoint " + rest
    if kind in RETRYABLE_LLM_ERRORS:
        tries = found.group("tries")
        rest = f"Tried {tries if tries and tries != 'all' else PLANNER_ATTEMPTS} times. {rest}"
        hint = "Retry once the endpoint answers again."
    elif kind in (LLM_NOT_CONFIGURED, "NotConfigured"):
        hint = "Whoever runs this app can configure an LLM endpoint; then Retry."
    else:
        hint = "Whoever runs this app can fix the LLM settings; then Retry."
    return Failure(title=_LLM_TITLES[kind], detail=rest, hint=hint, kind=kind)
