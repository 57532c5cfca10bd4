"""Why a goal failed, in words for the page (jarvis_planner/web/failure.py), CLI hints in web
wording (wording.py), and the stage groups the goal list filters by (view.stage_group)."""

from __future__ import annotations

from activities.llm.errors import LLMError
from activities.planning import NO_LLM
from jarvis_planner.web.failure import PLANNER_ATTEMPTS, failure
from jarvis_planner.web.view import goal_view, stage_group
from jarvis_planner.web.wording import web_wording
from planner.contracts.goal_flow import FINAL_STAGES, FLOW_STAGES, GoalState
from planner.contracts.plan_run import RunState, StepError, StepState, StepStatus
from planner.validation import Problem


def failed(message: str, **fields: object) -> GoalState:
    return GoalState.model_validate({"goal": "g", "stage": "failed", "message": message,
                                     **fields})


def test_an_llm_endpoint_that_is_down_reads_as_such() -> None:
    error = LLMError("ConnectionError", "Connection error", endpoint="http://127.0.0.1:9/v1",
                     model="m")
    found = failure(failed(f"ConnectionError: {error}"))  # as the goal workflow words it
    assert found is not None
    assert found.title == "The planner could not reach the LLM endpoint."
    assert found.detail.startswith(f"Tried {PLANNER_ATTEMPTS} times. Endpoint http://127.0.0.1:9")
    assert "ConnectionError" not in found.detail and found.kind == "ConnectionError"
    assert "Retry" in found.hint
    gave_up = failure(failed(f"gave up after 5 attempts: {error}"))  # as goals end now
    assert gave_up is not None and gave_up.title == found.title
    assert gave_up.detail.startswith("Tried 5 times. Endpoint http://127.0.0.1:9")
    refused = failure(failed("AuthenticationFailed: " + str(LLMError(
        "AuthenticationFailed", "bad key", status=401))))
    assert refused is not None and refused.title == "The LLM endpoint refused the API key."
    assert "Tried" not in refused.detail  # not retried


def test_no_llm_configured_names_no_cli_command() -> None:
    found = failure(failed(f"LLMNotConfigured: {NO_LLM}"))
    assert found is not None
    assert found.title == "No LLM is configured, and no stored plan fits this goal."
    assert "`" not in found.detail and "jarvis templates" not in found.detail
    assert found.detail.startswith("No LLM endpoint") and found.detail.endswith("offline.")


def test_a_failed_step_an_invalid_plan_and_other_endings() -> None:
    run = RunState(goal="g", status="failed", steps=[StepState(
        id="fetch", tool="http_get", status=StepStatus.FAILED, attempts=3)],
        error=StepError(step_id="fetch", tool="http_get", type="ToolError", message="503",
                        attempts=3))
    found = failure(failed(run.failure_report(), run=run))
    assert found is not None and found.title == "Step 'fetch' failed, so the goal stopped."
    assert "after 3 attempt(s)" in found.detail and found.kind == "ToolError"
    invalid = goal_view(GoalState(goal="g", stage="invalid", message="still invalid",
                                  problems=[Problem(code="unknown_tool", message="no tool "
                                                    "named 'x' (`jarvis tools` lists them)")]))
    assert invalid.failure is not None and invalid.retry
    assert invalid.problems[0].message == "no tool named 'x'"
    expired = failure(GoalState(goal="g", stage="expired", message="no decision within 5s; "
                                "nothing was run (submit the goal again to plan anew)"))
    assert expired is not None and "(Retry plans it anew)" in expired.detail
    for stage in ("succeeded", "rejected", "planned", "awaiting_approval", "executing"):
        assert failure(GoalState(goal="g", stage=stage)) is None, stage
        assert not goal_view(GoalState(goal="g", stage=stage)).retry


def test_cli_hints_in_web_wording() -> None:
    assert web_wording("start it with `jarvis up`") == "ask whoever runs this app to start it"
    assert web_wording("refused: why; a person approves it with `jarvis approve GOAL_ID` (or "
                       "the web app)") == "refused: why; a person approves it in the review " \
                                          "on this page"
    assert web_wording("failed; `jarvis logs` shows more") == "failed"
    assert web_wording("see (`jarvis doctor` checks it) now") == "see now"
    assert web_wording("plain text, no command") == "plain text, no command"


def test_every_stage_has_a_group() -> None:
    assert stage_group("awaiting_approval") == "waiting"
    assert {stage_group(s) for s in ("retrieving", "planning", "executing")} == {"running"}
    assert {stage_group(s) for s in ("failed", "invalid", "expired", "cancelled")} == {"failed"}
    assert stage_group("succeeded") == "succeeded" and stage_group("rejected") == "other"
    for stage in (*FLOW_STAGES, *FINAL_STAGES):
        assert stage_group(stage) in {"waiting", "running", "succeeded", "failed", "other"}
        assert (stage_group(stage) == "running") == (stage not in FINAL_STAGES
                                                     and stage != "awaiting_approval")


def test_the_worker_note_on_settings_reads_as_web_wording() -> None:
    from activities.planning import NO_LLM, _worker_note

    text = web_wording(NO_LLM + _worker_note())
    assert "`" not in text and "jarvis" not in text
    assert "whoever runs this app changes them and restarts it" in text
