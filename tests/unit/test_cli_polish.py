"""The pieces behind the CLI's polish and the logs (issue 10), without a server: suggestions by
meaning, final messages, help names, output in a pipe, log lines and their formats."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import get_args

import httpx
import pytest
from rich.console import Console
from rich.text import Text
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

from activities import default_registry
from activities.execution import StepFailure, log_step
from activities.llm.errors import LLMError
from agents.goal_workflow import _cause
from agents.log_setup import JsonFormatter, Noise
from jarvis_planner.cli.console import live_view, plural, settled, steps_table
from jarvis_planner.cli.help_format import plain
from jarvis_planner.cli.rows import Column, Rows
from jarvis_planner.web.app import create_app
from planner.contracts.names import DRAFT_ACTIVITY
from planner.contracts.names import LLMErrorKind as Kind
from planner.contracts.plan_run import RunState, StepError, StepState, ToolCall
from planner.plan import parse_plan
from planner.scheduler import StepStatus
from planner.settings import Settings
from planner.suggestions import suggest_tools
from planner.validation import validate_plan


@pytest.mark.parametrize(("name", "meant"), [
    ("calculator", "calc"), ("notifyy", "notify"), ("sleep", "wait"), ("curl", "http_request"),
    ("send_email", "notify"), ("bash", "shell"), ("summarize", "llm"), ("ls", "list_files"),
    ("raed_file", "read_file")])
def test_unknown_tools_suggested_by_spelling_and_meaning(name: str, meant: str) -> None:
    tools = {t.name: t for t in default_registry()}
    assert suggest_tools(name, tools)[0] == meant
    plan = parse_plan(json.dumps({"goal": "g", "steps": [{"id": "a", "tool": name,
                                                          "args": {}}]}), "plan")
    [problem] = validate_plan(plan, tools)
    assert f"no tool named '{name}' (did you mean '{meant}'" in problem.message


def test_no_suggestion_for_nonsense() -> None:
    assert suggest_tools("xyzzy", {t.name: t for t in default_registry()}) == []


def test_a_final_message_promises_no_retry() -> None:
    old = ("RateLimited from http://x/v1 (model 'm'): HTTP 429: slow down. Rate limited; the "
           "retry policy will try again.")
    assert settled(old) == "RateLimited from http://x/v1 (model 'm'): HTTP 429: slow down. " \
                           "Rate limited."
    for kind in get_args(Kind):
        message = str(LLMError(kind, "detail"))
        assert "try again" not in message, message
        assert ("(retryable)" in message) is (kind in {"RateLimited", "ServerError", "Timeout",
                                                       "ConnectionError", "Conflict"})


def _activity_error(retry_state: RetryState, cause: BaseException) -> ActivityError:
    exc = ActivityError("activity failed", scheduled_event_id=1, started_event_id=2,
                        identity="w", activity_type=DRAFT_ACTIVITY, activity_id="1",
                        retry_state=retry_state)
    exc.__cause__ = cause
    return exc


def test_a_goal_whose_llm_kept_failing_says_it_gave_up() -> None:
    llm = LLMError("RateLimited", "slow down", status=429)
    out_of_attempts = _activity_error(RetryState.MAXIMUM_ATTEMPTS_REACHED,
                                      ApplicationError(str(llm), type="RateLimited"))
    assert _cause(out_of_attempts) == f"gave up after 5 attempts: {llm}"
    refused = _activity_error(RetryState.NON_RETRYABLE_FAILURE,
                              ApplicationError("no key", type="AuthenticationFailed"))
    assert _cause(refused) == "AuthenticationFailed: no key"


def test_plurals() -> None:
    assert plural(1, "goal") == "1 goal" and plural(2, "goal") == "2 goals"
    assert plural(0, "recent run") == "0 recent runs"


@pytest.mark.parametrize(("shown", "plain_name"), [
    ("<str>", "TEXT"), ("<int>", "INTEGER"), ("<float>", "NUMBER"), ("<path>", "PATH"),
    ("<list[str]>", "TEXT..."), ("<auto|simple>", "[auto|simple]")])
def test_help_names(shown: str, plain_name: str) -> None:
    assert plain(shown) == plain_name


def test_a_live_view_in_a_pipe_prints_lines_and_ends_them() -> None:
    out = io.StringIO()
    console = Console(file=out, width=80)
    assert not console.is_terminal
    state = RunState(goal="g [bold]x[/]", steps=[StepState(id="a", tool="calc",
                                                           status=StepStatus.SUCCEEDED,
                                                           output="[red]not markup[/]")])
    with live_view(console) as view:
        view.update(steps_table(state), "step a: succeeded")
    console.print("next message")
    text = out.getvalue()
    assert "\x1b[" not in text
    assert text.startswith("step a: succeeded\n")
    assert "┘\nnext message\n" in text  # the last picture ends before the next line
    assert "g [bold]x[/] [running]" in text and "[red]not markup[/]" in text  # not markup


def test_the_steps_table_says_where_each_step_ran() -> None:
    out = io.StringIO()
    state = RunState(goal="g", steps=[
        StepState(id="sum", tool="calc", status=StepStatus.SUCCEEDED, attempts=1, inline=True),
        StepState(id="save", tool="write_file", status=StepStatus.SUCCEEDED, attempts=1,
                  worker="42@host"),
        StepState(id="pause", tool="wait", status=StepStatus.SUCCEEDED, attempts=1)])
    Console(file=out, width=140).print(steps_table(state))
    rows = {line.split("│")[1].strip(): line for line in out.getvalue().splitlines()
            if line.count("│") > 2 and line.split("│")[1].strip() in ("sum", "save", "pause")}
    assert "in the workflow" in rows["sum"] and "42@host" in rows["save"]
    assert "in the workflow" not in rows["pause"] and "@" not in rows["pause"]


def test_steps_too_wide_for_a_table_keep_every_fact_and_their_details_whole() -> None:
    """In an 80-column console (or a pipe) a table of long outputs left the detail a dozen
    characters wide, cut mid-word; then each step gets a line, its detail whole under it."""
    state = RunState(goal="g [bold]x[/]", steps=[
        StepState(id="listing", tool="list_files", status=StepStatus.SUCCEEDED, attempts=2,
                  started_at=10.0, finished_at=10.25, worker="4242@worker-host-1",
                  output={"entries": [{"path": "drafts/a.txt", "is_dir": False}]}),
        StepState(id="sum", tool="calc", status=StepStatus.FAILED, attempts=1, inline=True,
                  error=StepError(step_id="sum", tool="calc", type="InvalidArguments",
                                  message="[red]x[/] is not a number")),
        StepState(id="later", tool="notes_append", status=StepStatus.PENDING)])
    shown = {}
    for width in (80, 160):
        out = io.StringIO()
        Console(file=out, width=width).print(steps_table(state))
        shown[width] = out.getvalue()
    narrow = shown[80].splitlines()
    assert narrow[0] == "g [bold]x[/] [running]"
    assert narrow[1:] == [
        "listing · list_files · succeeded · 2 attempts · 0.25s · on 4242@worker-host-1",
        '    {"entries": [{"path": "drafts/a.txt", "is_dir": false}]}',
        "sum · calc · failed · 1 attempt · in the workflow",
        "    [red]x[/] is not a number",
        "later · notes_append · pending"]
    assert "┃ step" in shown[160]  # room for the table: the table, each row on a line
    assert any("listing" in line and '{"entries": [{"path": "drafts/a.txt", "is_dir": false}]}'
               in line and "4242@worker-host-1" in line for line in shown[160].splitlines())


def test_rows_too_wide_for_a_table_keep_long_and_multiline_cells_whole() -> None:
    rows = Rows("2 things", (Column("name", no_wrap=True),
                             Column("kind", fact=lambda kind: f"a {kind}"), Column("about")))
    rows.add("alpha", Text("tool", style="green"), "x" * 150)
    rows.add("beta", "", "first line\nsecond line")

    def shown(width: int, soft_wrap: bool) -> list[str]:
        out = Console(file=io.StringIO(), width=width, color_system=None, soft_wrap=soft_wrap)
        out.print(rows)
        text = out.file.getvalue()  # type: ignore[attr-defined]
        assert isinstance(text, str)
        return text.splitlines()

    # a pipe: lines never wrapped, so none may be cut at the console's width either
    assert shown(40, True) == ["2 things", "alpha · a tool", "    " + "x" * 150, "beta",
                               "    first line", "    second line"]
    terminal = shown(40, False)  # a terminal wraps: the wrapped lines keep their indent
    assert terminal[1] == "alpha · a tool" and terminal[-3] == "beta"
    assert terminal[2:-3] == ["    " + "x" * 36] * 4 + ["    " + "x" * 6]
    assert terminal[-2:] == ["    first line", "    second line"]
    assert shown(200, True)[1].startswith("┏")  # room for the whole table


def test_step_lines(caplog: pytest.LogCaptureFixture) -> None:
    call = ToolCall(step_id="net", tool="calc", args={})
    with caplog.at_level(logging.INFO, logger="activities.execution"):
        log_step("plan-1", call, 2, 0.5, "succeeded")
        try:
            raise KeyError("boom")
        except KeyError as bug:
            failure = StepFailure("KeyError: 'boom'", "KeyError", retryable=True,
                                  unexpected=True)
            failure.__cause__ = bug
        log_step("plan-1", call, 3, 0.25, failure)
        log_step("plan-1", call, 1, 0.1, StepFailure("no file", "ToolInputError", False))
    ok, bug_line, known = caplog.records
    assert ok.getMessage() == "plan-1 step net (calc) attempt 2: succeeded in 0.500s"
    assert ok.jarvis == {"event": "step", "workflow_id": "plan-1",  # type: ignore[attr-defined]
                         "step_id": "net", "tool": "calc", "attempt": 2, "duration_s": 0.5,
                         "outcome": "succeeded"}
    assert bug_line.levelno == logging.WARNING and bug_line.exc_info is not None
    assert known.getMessage() == ("plan-1 step net (calc) attempt 1: failed in 0.100s (not "
                                  "retryable): ToolInputError: no file")
    assert known.exc_info is None  # an explained failure: no traceback


def test_json_lines_and_noise() -> None:
    record = logging.LogRecord("activities.execution", logging.INFO, __file__, 1,
                               "step %s", ("net",), None)
    record.jarvis = {"step_id": "net", "outcome": "succeeded"}
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "step net" and line["step_id"] == "net"
    assert line["level"] == "INFO" and line["logger"] == "activities.execution"

    def failed(exc: BaseException) -> logging.LogRecord:
        try:
            raise exc
        except BaseException:
            info = sys.exc_info()
        return logging.LogRecord("temporalio.activity", logging.WARNING, __file__, 1,
                                 "Completing activity as failed ({'activity_id': '1'})", (),
                                 info)

    noise = Noise()
    assert not noise.filter(failed(ApplicationError("explained", type="ToolInputError")))
    assert noise.filter(failed(ValueError("a bug")))  # keeps its traceback
    assert "exception" in json.loads(JsonFormatter().format(failed(ValueError("a bug"))))
    core = logging.LogRecord("temporalio.core-sdk_core::worker", logging.WARNING, __file__, 1,
                             "[sdk_core] Query not found when attempting to respond to it",
                             (), None)
    assert not noise.filter(core)


async def test_the_web_app_logs_each_request_without_query_or_headers(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"), bind_host="127.0.0.1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        with caplog.at_level(logging.INFO, logger="jarvis.web"):
            response = await http.get("/api/info?token=SECRET1234",
                                      headers={"Authorization": "Bearer SECRET5678"})
    assert response.status_code == 401
    [line] = [r for r in caplog.records if r.name == "jarvis.web"]
    assert line.getMessage().startswith("GET /api/info 401 in ")
    fields = line.jarvis  # type: ignore[attr-defined]
    assert (fields["method"], fields["path"], fields["status"]) == ("GET", "/api/info", 401)
    assert "SECRET" not in line.getMessage() + json.dumps(fields)


@pytest.mark.parametrize("command", ["validate", "run-plan"])
def test_a_plan_file_off_the_schema_is_explained_once(command: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"goal": "x", "steps": [{"id": "a", "tool": "calc"}], "bogus": 1}))
    result = subprocess.run([sys.executable, "-m", "jarvis_planner.cli", command, str(bad)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert "bogus: Extra inputs are not permitted" in result.stderr
    assert (result.stdout + result.stderr).count("jarvis schema") == 1, result.stderr


def test_a_list_too_narrow_for_its_table_keeps_ids_and_goals_whole() -> None:
    from agents.client import Summary
    from jarvis_planner.cli.list import print_summaries

    found = [Summary(id="goal-what-do-my-notes-say-about-the-boiler-0163db66",
                     goal="what do my notes say about the boiler", stage="succeeded",
                     started="2026-12-04T19:18:02"),
             Summary(id="goal-save-the-line-green-tea-is-calming-to-tea-txt-a81b2c3d",
                     goal="Save the line Green tea is calming to tea.txt",
                     stage="awaiting_approval", started="2026-12-04T19:17:40")]

    def shown(width: int) -> list[str]:
        # as the CLI's console in a pipe: lines never wrapped (jarvis_planner/cli/console.py)
        out = Console(file=io.StringIO(), width=width, color_system=None, soft_wrap=True)
        print_summaries(out, found, "2 recent goals", ("stage", "started", "goal"))
        text = out.file.getvalue()  # type: ignore[attr-defined]
        assert isinstance(text, str)
        return text.splitlines()

    narrow = shown(80)  # a table would leave the goal column 4 characters
    assert narrow[0] == "2 recent goals"
    assert narrow[1:] == [  # an id with its facts would pass 80 columns: on its own line
        found[0].id, "    succeeded · started 2026-12-04T19:18:02", "    " + found[0].goal,
        found[1].id, "    awaiting_approval · started 2026-12-04T19:17:40", "    " + found[1].goal]
    short = replace(found[0], id="goal-boiler-0163db66")
    out = Console(file=io.StringIO(), width=80, color_system=None, soft_wrap=True)
    print_summaries(out, [short] * 9, "9 recent goals", ("stage", "started", "goal"))
    assert out.file.getvalue().splitlines()[1:3] == [  # type: ignore[attr-defined]
        "goal-boiler-0163db66 · succeeded · started 2026-12-04T19:18:02", "    " + short.goal]
    assert shown(130)[1].startswith("┏")  # room for the ids and a goal column of 20: a table
    wide = shown(200)
    assert wide[1].startswith("┏")
    rows = [line.split("│") for line in wide if line.startswith("│ goal-")]
    assert [(row[1].strip(), row[4].strip()) for row in rows] == [(g.id, g.goal) for g in found]
