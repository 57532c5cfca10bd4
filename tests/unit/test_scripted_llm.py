"""The scripted OpenAI-compatible server itself: replies, recording, and its strictness."""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import AsyncIterator, Callable

import httpx
import openai
import pytest

from activities.llm import make_client
from jarvis_planner.testing import (
    UNROUTABLE_BASE_URL,
    ScriptedLLM,
    deterministic_embedding,
    forbid_real_llm,
    reply_error,
    reply_json,
    reply_text,
    reply_tool_call,
    step,
)

# fixtures, re-exported for pytest
from tests.paths import ROOT
from tests.scripted_llm import no_real_llm, scripted_llm, scripted_llm_factory

__all__ = ["no_real_llm", "scripted_llm", "scripted_llm_factory"]

pytestmark = pytest.mark.usefixtures("no_real_llm")
pytest_plugins = ["pytester"]

MESSAGES: list[openai.types.chat.ChatCompletionMessageParam] = [
    {"role": "system", "content": "You plan."}, {"role": "user", "content": "fetch the weather"}]


@pytest.fixture
async def bare() -> AsyncIterator[ScriptedLLM]:
    """A server without the teardown check, for tests that break the script on purpose."""
    with ScriptedLLM() as server:
        yield server


async def _chat(server: ScriptedLLM, **kwargs: object) -> openai.types.chat.ChatCompletion:
    async with make_client(server.llm_config()) as client:
        return await client.chat.completions.create(  # type: ignore[call-overload,no-any-return]
            model=server.model, messages=MESSAGES, **kwargs)


async def test_replies_reach_the_real_client(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_text("hello", prompt_tokens=7, completion_tokens=3))
    scripted_llm.expect(reply_tool_call("submit", {"a": 1}), expects_tools=True)
    scripted_llm.expect(reply_json({"b": [1, 2]}, model="other-model"))
    text = await _chat(scripted_llm)
    tool = await _chat(scripted_llm, tools=[{"type": "function", "function": {"name": "submit"}}])
    js = await _chat(scripted_llm)
    assert text.choices[0].message.content == "hello"
    assert text.usage is not None and text.usage.total_tokens == 10
    assert text.model == scripted_llm.model and text.choices[0].finish_reason == "stop"
    call = tool.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "submit" and call.function.arguments == '{"a": 1}'  # type: ignore[union-attr]
    assert tool.choices[0].finish_reason == "tool_calls"
    assert js.choices[0].message.content == '{"b": [1, 2]}' and js.model == "other-model"
    assert scripted_llm.calls == 3 and len(scripted_llm.requests) == 3
    assert scripted_llm.chat_requests()[1]["tools"][0]["function"]["name"] == "submit"
    assert scripted_llm.requests[0].headers["authorization"] == "Bearer scripted-key"


async def test_matchers_pass(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.add(step(reply_text("ok"), expects_response_format="json_object",
                          expects_tools=False, expects_text_in_messages="weather",
                          expects_model="scripted-model",
                          match=lambda r: r["messages"][0]["role"] == "system"))
    await _chat(scripted_llm, response_format={"type": "json_object"})


async def test_extra_call_is_a_violation(bare: ScriptedLLM) -> None:
    bare.expect(reply_text("one"))
    await _chat(bare)
    with pytest.raises(openai.InternalServerError, match="script exhausted"):
        await _chat(bare)
    assert bare.calls == 2 and len(bare.violations) == 1
    with pytest.raises(AssertionError, match=r"violation: unexpected chat call #2"):
        bare.assert_done()


async def test_unconsumed_steps_fail_assert_done(bare: ScriptedLLM) -> None:
    bare.expect(reply_text("one"), label="first")
    bare.expect(reply_text("two"), expects_tools=True, label="second")
    await _chat(bare)
    with pytest.raises(AssertionError, match=r"unconsumed: second \(tools sent\)") as info:
        bare.assert_done()
    assert "first" not in str(info.value) and not bare.violations


async def test_matcher_mismatch_is_a_violation(bare: ScriptedLLM) -> None:
    bare.expect(reply_text("{}"), expects_response_format="json_schema",
                expects_text_in_messages="calendar")
    with pytest.raises(openai.InternalServerError, match="does not match"):
        await _chat(bare)
    assert len(bare.violations) == 1
    violation = bare.violations[0]
    assert "response_format.type == 'json_schema'" in violation
    assert "messages contain 'calendar'" in violation and "weather" in violation
    assert len(bare.remaining) == 1  # a refused call does not consume the step
    with pytest.raises(AssertionError, match="unconsumed"):
        bare.assert_done()


async def test_crashing_matcher_is_a_mismatch(bare: ScriptedLLM) -> None:
    bare.expect(reply_text("x"), match=lambda r: r["no-such-key"])
    with pytest.raises(openai.InternalServerError):
        await _chat(bare)
    assert "raised KeyError" in bare.violations[0]


async def test_unknown_endpoint_is_a_violation(bare: ScriptedLLM) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(bare.base_url + "/models")
    assert response.status_code == 404
    assert bare.violations == ["unexpected request GET /v1/models"]


async def test_error_replies_carry_status_body_and_headers(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(429, message="slow down", headers={"retry-after": "2"}))
    with pytest.raises(openai.RateLimitError) as info:
        await _chat(scripted_llm)
    assert info.value.response.headers["retry-after"] == "2"
    assert info.value.body == {"message": "slow down", "type": "invalid_request_error",
                               "param": None, "code": None}


async def test_embeddings_deterministic_and_scripted(scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect_embeddings([[1.0, 0.0], [0.0, 1.0]])
    async with make_client(scripted_llm.llm_config()) as client:
        scripted = await client.embeddings.create(model="emb", input=["a", "b"])
        first = await client.embeddings.create(model="emb", input=["same", "other"])
        again = await client.embeddings.create(model="emb", input="same",
                                               encoding_format="base64")
    assert [d.embedding for d in scripted.data] == [[1.0, 0.0], [0.0, 1.0]]
    assert first.data[0].embedding == pytest.approx(deterministic_embedding("same"))
    assert first.data[0].embedding != first.data[1].embedding
    assert len(first.data[0].embedding) == scripted_llm.embedding_dim
    raw = base64.b64decode(again.data[0].embedding)  # type: ignore[arg-type]
    decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert decoded == pytest.approx(first.data[0].embedding, abs=1e-6)
    assert scripted_llm.calls == 0  # embeddings are not chat calls


async def test_unconsumed_embeddings_fail_assert_done(bare: ScriptedLLM) -> None:
    bare.expect_embeddings([[1.0]])
    with pytest.raises(AssertionError, match="embeddings reply #1"):
        bare.assert_done()


async def test_factory_checks_every_server(
        scripted_llm_factory: Callable[..., ScriptedLLM]) -> None:
    one = scripted_llm_factory(model="m1")
    two = scripted_llm_factory([step(reply_text("two"))], model="m2")
    assert one.base_url != two.base_url
    assert (await _chat(two)).choices[0].message.content == "two"


def test_settings_env_points_at_the_server(scripted_llm: ScriptedLLM) -> None:
    env = scripted_llm.settings_env(JARVIS_LLM_STRUCTURED_MODE="tools")
    assert env["JARVIS_LLM_BASE_URL"] == scripted_llm.base_url
    assert scripted_llm.base_url.startswith("http://127.0.0.1:")
    assert scripted_llm.base_url.endswith("/v1")
    assert env["JARVIS_LLM_STRUCTURED_MODE"] == "tools"


def test_forbid_real_llm_cleans_an_environment() -> None:
    environ = {"OPENAI_API_KEY": "sk-real", "JARVIS_LLM_API_KEY": "sk-real",
               "JARVIS_LLM_BASE_URL": "https://api.openai.com/v1", "PATH": "/bin"}
    forbid_real_llm(environ)
    assert environ == {"OPENAI_BASE_URL": UNROUTABLE_BASE_URL, "PATH": "/bin"}


async def test_guard_makes_a_default_client_fail_locally() -> None:
    assert "OPENAI_API_KEY" not in os.environ
    client = openai.AsyncOpenAI(api_key="sk-test", max_retries=0, timeout=5)
    assert str(client.base_url).startswith("http://127.0.0.1:9/")
    with pytest.raises(openai.APIConnectionError):
        await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    await client.close()


STRICT_FIXTURE_CASES = '''
from activities.llm import make_client
from jarvis_planner.testing import reply_text
from tests.scripted_llm import scripted_llm
from tests.paths import ROOT

__all__ = ["scripted_llm"]


def test_unconsumed(scripted_llm):
    scripted_llm.expect(reply_text("never asked for"))


async def _ask(server):
    async with make_client(server.llm_config()) as client:
        await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


def test_extra_call(scripted_llm):
    import asyncio
    try:
        asyncio.run(_ask(scripted_llm))
    except Exception:
        pass  # code under test swallowed the 500; the fixture still catches the violation


def test_honoured(scripted_llm):
    scripted_llm.expect(reply_text("hi"))
    import asyncio
    asyncio.run(_ask(scripted_llm))
'''


def test_fixture_teardown_fails_a_test_that_breaks_the_script(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_strict=STRICT_FIXTURE_CASES)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(["*unconsumed: step (any request)*",
                                 "*violation: unexpected chat call #1*"])
