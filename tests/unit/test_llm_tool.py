"""The `llm` step against the scripted OpenAI-compatible server (real HTTP, real client)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from activities import default_registry
from activities.execution import StepFailure, ToolRuntime, execute_call, tool_runtime
from jarvis_planner.testing import ScriptedLLM, reply_error, reply_json, reply_text
from planner.contracts.plan_run import ToolCall
from planner.settings import Settings


@pytest.fixture
def runtime(tmp_path: Path, scripted_llm: ScriptedLLM) -> ToolRuntime:
    settings = Settings(data_dir=tmp_path, llm_base_url=scripted_llm.base_url,
                        llm_api_key="k", llm_model=scripted_llm.model, llm_timeout_s=5)
    return tool_runtime(settings, default_registry())


async def call(runtime: ToolRuntime, **args: Any) -> Any:
    result = await execute_call(runtime, ToolCall(step_id="s", tool="llm", args=args), 1)
    return result


async def test_extract_to_a_schema(runtime: ToolRuntime, scripted_llm: ScriptedLLM) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}},
              "required": ["city"]}
    scripted_llm.expect(reply_json({"city": "Lisbon"}, prompt_tokens=30, completion_tokens=4),
                        expects_response_format="json_schema")
    result = await call(runtime, task="extract", input="I live in Lisbon.", json_schema=schema)
    assert result.output["data"] == {"city": "Lisbon"}
    assert result.usage is not None and result.usage.total_tokens == 34


async def test_classify_matches_a_label(runtime: ToolRuntime, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_text("Urgent."), expects_text_in_messages="Labels: urgent, later")
    result = await call(runtime, task="classify", input="The server is down!",
                        labels=["urgent", "later"])
    assert result.output["data"] == "urgent"


async def test_answer_outside_the_labels_is_retryable(runtime: ToolRuntime,
                                                      scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_text("maybe"))
    with pytest.raises(StepFailure) as info:
        await call(runtime, task="classify", input="x", labels=["yes", "no"])
    assert info.value.retryable and "none of the labels" in str(info.value)


async def test_provider_errors_keep_their_posture(runtime: ToolRuntime,
                                                  scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(429, headers={"retry-after": "2"}))
    scripted_llm.expect(reply_error(401))
    with pytest.raises(StepFailure) as limited:
        await call(runtime, task="answer", input="q")
    assert limited.value.retryable and limited.value.retry_after_s == 2
    with pytest.raises(StepFailure) as denied:
        await call(runtime, task="answer", input="q")
    assert not denied.value.retryable


async def test_missing_inputs_and_no_endpoint(tmp_path: Path) -> None:
    offline = tool_runtime(Settings(data_dir=tmp_path), default_registry())
    for args, needle in (({"task": "extract", "input": "x"}, "json_schema"),
                         ({"task": "classify", "input": "x"}, "labels"),
                         ({"task": "answer", "input": "x"}, "JARVIS_LLM_BASE_URL")):
        with pytest.raises(StepFailure, match=needle) as info:
            await call(offline, **args)
        assert not info.value.retryable
