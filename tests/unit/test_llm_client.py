"""activities.llm against the scripted server: real HTTP, the real openai client, no retries."""

from __future__ import annotations

import email.utils
import socket
import time
from typing import Any

import openai
import pytest
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionMessageParam

from activities.llm import (
    LLMConfig,
    LLMError,
    Usage,
    classify,
    complete_structured,
    complete_text,
    make_client,
    usage_from_openai,
)
from jarvis_planner.testing import ScriptedLLM, reply_error, reply_json, reply_text, reply_tool_call
from planner.settings import Settings
from tests.scripted_llm import no_real_llm, scripted_llm

# fixtures, re-exported for pytest
__all__ = ["no_real_llm", "scripted_llm"]

pytestmark = pytest.mark.usefixtures("no_real_llm")

SCHEMA: dict[str, Any] = {"type": "object", "properties": {"steps": {"type": "array"}},
                          "required": ["steps"]}
PLAN = {"steps": [{"id": "a", "tool": "echo"}]}
MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You write plans."},
    {"role": "user", "content": "plan: say hi"}]
UNSUPPORTED_SCHEMA = "response_format of type json_schema is not supported by this model"
UNSUPPORTED_TOOLS = "tools are not supported for this model"


async def _structured(server: ScriptedLLM, **config: Any) -> Any:
    return await complete_structured(server.llm_config(**config), MESSAGES, SCHEMA, "plan")


async def _error(server: ScriptedLLM, **config: Any) -> LLMError:
    with pytest.raises(LLMError) as info:
        await _structured(server, structured_mode="json_schema", **config)
    return info.value


# --- structured modes ----------------------------------------------------------------------------

async def test_json_schema_mode(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(PLAN, prompt_tokens=11, completion_tokens=4),
                        expects_response_format="json_schema", expects_tools=False)
    result = await _structured(scripted_llm, structured_mode="json_schema")
    assert result.data == PLAN and result.mode_used == "json_schema"
    assert result.usage == Usage(prompt_tokens=11, completion_tokens=4, total_tokens=15, calls=1)
    assert result.model == "scripted-model" and result.finish_reason == "stop"
    sent = scripted_llm.chat_requests()[0]
    assert sent["response_format"]["json_schema"] == {"name": "plan", "schema": SCHEMA,
                                                      "strict": False}
    assert sent["messages"] == MESSAGES


async def test_tools_mode(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_tool_call("plan", PLAN), expects_tools=True)
    result = await _structured(scripted_llm, structured_mode="tools")
    assert result.data == PLAN and result.mode_used == "tools"
    assert result.finish_reason == "tool_calls"
    sent = scripted_llm.chat_requests()[0]
    assert sent["tools"][0]["function"]["parameters"] == SCHEMA
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "plan"}}
    assert "response_format" not in sent


async def test_tools_mode_when_the_model_answers_in_text(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_text('{"steps": []}'), expects_tools=True)
    result = await _structured(scripted_llm, structured_mode="tools")
    assert result.text == '{"steps": []}' and result.data == {"steps": []}


async def test_json_mode_puts_the_schema_in_a_system_message(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(PLAN), expects_response_format="json_object",
                        expects_text_in_messages='"required": [')
    result = await _structured(scripted_llm, structured_mode="json")
    assert result.data == PLAN and result.mode_used == "json"
    roles = [m["role"] for m in scripted_llm.chat_requests()[0]["messages"]]
    assert roles == ["system", "system", "user"]  # after the leading system message


async def test_non_json_text_gives_no_data(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_text('Here you go: {"steps": [}', finish_reason="length"))
    result = await _structured(scripted_llm, structured_mode="json_schema")
    assert result.data is None and result.text == 'Here you go: {"steps": [}'
    assert result.finish_reason == "length"


async def test_schema_name_is_made_a_valid_function_name(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_tool_call("jarvis_plan_v1", PLAN))
    result = await complete_structured(scripted_llm.llm_config(structured_mode="tools"),
                                       MESSAGES, SCHEMA, "jarvis plan/v1")
    assert result.data == PLAN
    assert scripted_llm.chat_requests()[0]["tools"][0]["function"]["name"] == "jarvis_plan_v1"


# --- auto mode -----------------------------------------------------------------------------------

async def test_auto_falls_back_to_tools_and_remembers(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(400, message=UNSUPPORTED_SCHEMA),
                        expects_response_format="json_schema")
    scripted_llm.expect(reply_tool_call("plan", PLAN), expects_tools=True)
    scripted_llm.expect(reply_tool_call("plan", {"steps": []}), expects_tools=True)
    first = await _structured(scripted_llm)
    second = await _structured(scripted_llm)
    assert (first.mode_used, first.data) == ("tools", PLAN)
    assert (second.mode_used, second.data) == ("tools", {"steps": []})
    assert first.usage.calls == 1 and scripted_llm.calls == 3


async def test_auto_falls_back_to_json_and_remembers(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(400, message="Unrecognized request argument supplied: "
                                                 "response_format"))
    scripted_llm.expect(reply_error(400, message=UNSUPPORTED_TOOLS), expects_tools=True)
    scripted_llm.expect(reply_json(PLAN), expects_response_format="json_object")
    scripted_llm.expect(reply_json(PLAN), expects_response_format="json_object")
    assert (await _structured(scripted_llm)).mode_used == "json"
    assert (await _structured(scripted_llm)).mode_used == "json"


async def test_auto_remembers_per_model(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(400, message=UNSUPPORTED_SCHEMA))
    scripted_llm.expect(reply_tool_call("plan", PLAN), expects_tools=True)
    scripted_llm.expect(reply_json(PLAN), expects_response_format="json_schema",
                        expects_model="bigger-model")
    assert (await _structured(scripted_llm)).mode_used == "tools"
    assert (await _structured(scripted_llm, model="bigger-model")).mode_used == "json_schema"


async def test_auto_does_not_fall_back_on_other_bad_requests(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(400, message="Invalid schema for response_format 'plan': "
                                                 "'additionalProperties' is required"))
    with pytest.raises(LLMError) as info:
        await _structured(scripted_llm)
    assert info.value.kind == "BadRequest" and not info.value.retryable
    assert "JARVIS_LLM_STRUCTURED_MODE" in str(info.value)


async def test_auto_does_not_fall_back_on_retryable_errors(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(503, message="response_format unsupported while overloaded"))
    with pytest.raises(LLMError) as info:
        await _structured(scripted_llm)
    assert info.value.kind == "ServerError" and scripted_llm.calls == 1


# --- text and usage ------------------------------------------------------------------------------

async def test_complete_text_and_usage_accounting(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_text("first", prompt_tokens=20, completion_tokens=5))
    scripted_llm.expect(reply_text("second", prompt_tokens=30, completion_tokens=7))
    scripted_llm.expect(reply_text("no usage reported", with_usage=False))
    config = scripted_llm.llm_config()
    results = [await complete_text(config, MESSAGES) for _ in range(3)]
    assert [r.text for r in results] == ["first", "second", "no usage reported"]
    assert results[2].usage == Usage(calls=1)
    total = sum((r.usage for r in results), Usage())
    assert total == Usage(prompt_tokens=50, completion_tokens=12, total_tokens=62, calls=3)


def test_usage_from_openai() -> None:
    usage = usage_from_openai(CompletionUsage(prompt_tokens=3, completion_tokens=2,
                                              total_tokens=5))
    assert usage + usage_from_openai(None) == Usage(prompt_tokens=3, completion_tokens=2,
                                                    total_tokens=5, calls=2)


async def test_a_given_client_is_used_and_left_open(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_text("one"))
    scripted_llm.expect(reply_text("two"))
    config = scripted_llm.llm_config()
    async with make_client(config) as client:
        assert (await complete_text(config, MESSAGES, client=client)).text == "one"
        assert (await complete_text(config, MESSAGES, client=client)).text == "two"


# --- errors --------------------------------------------------------------------------------------

async def test_429_with_retry_after_is_retryable(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(429, message="Rate limit reached",
                                    headers={"retry-after": "7"}))
    err = await _error(scripted_llm)
    assert (err.kind, err.retryable, err.retry_after_s, err.status) == ("RateLimited", True, 7, 429)
    assert scripted_llm.calls == 1  # no hidden client retries


@pytest.mark.parametrize(("headers", "expected"), [
    ({"retry-after-ms": "250"}, 0.25),
    ({"retry-after": "1.5"}, 1.5),
    ({"retry-after": "<HTTP date in 30s>"}, 30),
    ({"retry-after": "soon"}, None),
    ({}, None),
])
async def test_retry_after_forms(scripted_llm: ScriptedLLM, headers: dict[str, str],
                                 expected: float | None) -> None:
    if headers.get("retry-after", "").startswith("<HTTP date"):
        headers = {"retry-after": email.utils.formatdate(time.time() + 30, usegmt=True)}
    scripted_llm.expect(reply_error(429, headers=headers))
    err = await _error(scripted_llm)
    assert err.retry_after_s == (None if expected is None else pytest.approx(expected, abs=2))


@pytest.mark.parametrize(("status", "kind", "retryable"), [
    (500, "ServerError", True), (502, "ServerError", True), (503, "ServerError", True),
    (408, "Timeout", True), (409, "Conflict", True),
    (400, "BadRequest", False), (403, "PermissionDenied", False),
    (422, "UnprocessableEntity", False), (418, "Unknown", False),
])
async def test_status_postures(scripted_llm: ScriptedLLM, status: int, kind: str,
                               retryable: bool) -> None:
    scripted_llm.expect(reply_error(status))
    err = await _error(scripted_llm)
    assert (err.kind, err.retryable, err.status) == (kind, retryable, status)
    assert scripted_llm.calls == 1


async def test_401_names_the_key_setting(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(401, message="Incorrect API key provided"))
    err = await _error(scripted_llm)
    assert (err.kind, err.retryable) == ("AuthenticationFailed", False)
    message = str(err)
    assert "JARVIS_LLM_API_KEY" in message and "Incorrect API key provided" in message
    assert f"{scripted_llm.base_url}/chat/completions" in message
    assert "'scripted-model'" in message


async def test_404_is_model_not_found(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(404, message="The model `nope` does not exist",
                                    code="model_not_found"))
    err = await _error(scripted_llm, model="nope")
    assert (err.kind, err.retryable) == ("ModelNotFound", False)
    assert "JARVIS_LLM_MODEL" in str(err) and "'nope'" in str(err)


async def test_timeout_is_retryable(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(PLAN, delay_s=5))
    started = time.monotonic()
    err = await _error(scripted_llm, timeout_s=0.3)
    assert (err.kind, err.retryable) == ("Timeout", True)
    assert "JARVIS_LLM_TIMEOUT_S" in str(err)
    assert time.monotonic() - started < 3


async def test_connection_refused_is_retryable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = LLMConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m")
    with pytest.raises(LLMError) as info:
        await complete_text(config, MESSAGES)
    assert (info.value.kind, info.value.retryable) == ("ConnectionError", True)
    assert "JARVIS_LLM_BASE_URL" in str(info.value) and str(port) in str(info.value)


def test_classify_anything_else_is_unknown_and_final() -> None:
    err = classify(RuntimeError("boom"), model="m")
    assert (err.kind, err.retryable, err.status) == ("Unknown", False, None)
    assert classify(err) is err


# --- configuration -------------------------------------------------------------------------------

def test_config_from_settings_and_client() -> None:
    settings = Settings(llm_base_url="http://127.0.0.1:1/v1", llm_model="llama3.1",
                        llm_timeout_s=12, llm_structured_mode="tools")
    config = LLMConfig.from_settings(settings)
    assert (config.model, config.timeout_s, config.structured_mode) == ("llama3.1", 12, "tools")
    assert config.api_key is None
    client = make_client(config)
    assert client.max_retries == 0 and client.timeout == 12
    assert client.api_key == "not-needed"  # local servers need no key
    assert str(client.base_url) == "http://127.0.0.1:1/v1/"


def test_api_key_is_secret() -> None:
    config = LLMConfig.from_settings(Settings(llm_api_key="sk-secret"))
    assert "sk-secret" not in repr(config) and "sk-secret" not in config.model_dump_json()
    assert make_client(config).api_key == "sk-secret"


def test_unconfigured_is_a_clear_error() -> None:
    with pytest.raises(LLMError, match="JARVIS_LLM_BASE_URL") as info:
        make_client(LLMConfig())
    assert (info.value.kind, info.value.retryable) == ("NotConfigured", False)


async def test_openai_errors_pass_through_classify(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(500, body="plain text failure"))
    async with make_client(scripted_llm.llm_config()) as client:
        with pytest.raises(openai.InternalServerError) as info:
            await client.chat.completions.create(model="m", messages=MESSAGES)
    err = classify(info.value, model="m")
    assert err.retryable and "plain text failure" in err.detail
