"""One chat completion whose answer should be JSON matching a schema, in whichever structured-output
mode the endpoint supports: ``json_schema`` (response_format), ``tools`` (one forced function
call) or ``json`` (json_object plus the schema in a system message).

``data`` is ``json.loads(text)`` or None; tolerant parsing and validation belong to the caller.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import openai
from openai import Omit, omit
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
    ChatCompletionNamedToolChoiceParam,
)
from openai.types.chat.chat_completion import Choice
from openai.types.chat.completion_create_params import ResponseFormat
from pydantic import BaseModel

from activities.llm.endpoint import LLMConfig, make_client, usage_from_openai
from activities.llm.errors import LLMError, classify
from activities.spans import llm_span
from planner.contracts.usage import Usage

log = logging.getLogger(__name__)

Mode = Literal["json_schema", "tools", "json"]
FALLBACK_ORDER: tuple[Mode, ...] = ("json_schema", "tools", "json")

# The mode that worked per (base_url, model), so "auto" pays for discovery once per process.
_working_modes: dict[tuple[str, str], Mode] = {}

_FEATURE_WORDS: dict[Mode, tuple[str, ...]] = {
    "json_schema": ("response_format", "response format", "json_schema"),
    "tools": ("tool", "function"),
    "json": (),
}
_UNSUPPORTED_WORDS = ("not support", "unsupported", "unrecognized", "unknown", "not implemented",
                      "not available", "not permitted", "not allowed", "invalid value")

JSON_MODE_INSTRUCTION = (
    "Answer with a single JSON object and nothing else (no prose, no code fences). "
    "It must conform to this JSON Schema, named '{name}':\n{schema}"
)


class StructuredResult(BaseModel):
    text: str
    """The raw JSON text: the message content, or the forced tool call's arguments."""
    data: Any | None = None
    """``json.loads(text)``, or None when the text is not strict JSON."""
    mode_used: Mode
    usage: Usage
    model: str
    finish_reason: str | None = None


class TextResult(BaseModel):
    text: str
    usage: Usage
    model: str
    finish_reason: str | None = None


def forget_working_modes() -> None:
    """Clear the remembered structured-output modes (tests, or after reconfiguring)."""
    _working_modes.clear()


async def complete_text(config: LLMConfig, messages: Sequence[ChatCompletionMessageParam], *,
                        client: openai.AsyncOpenAI | None = None) -> TextResult:
    async with _client_for(config, client) as llm:
        completion = await _create(llm, config, messages)
    choice = _first_choice(completion, config)
    return TextResult(text=_content(choice),
                      usage=usage_from_openai(completion.usage, config, completion.model),
                      model=completion.model or config.model, finish_reason=choice.finish_reason)


async def complete_structured(config: LLMConfig, messages: Sequence[ChatCompletionMessageParam],
                              schema: dict[str, Any], schema_name: str, *,
                              client: openai.AsyncOpenAI | None = None) -> StructuredResult:
    """One answer as JSON for ``schema``. Raises LLMError (see ``LLMError.retryable``)."""
    name = _function_name(schema_name)
    async with _client_for(config, client) as llm:
        if config.structured_mode != "auto":
            return await _call(llm, config, config.structured_mode, messages, schema, name)
        return await _auto(llm, config, messages, schema, name)


async def _auto(llm: openai.AsyncOpenAI, config: LLMConfig,
                messages: Sequence[ChatCompletionMessageParam], schema: dict[str, Any],
                name: str) -> StructuredResult:
    key = (config.base_url or "", config.model)
    modes = FALLBACK_ORDER[FALLBACK_ORDER.index(_working_modes.get(key, "json_schema")):]
    for mode in modes[:-1]:
        try:
            result = await _call(llm, config, mode, messages, schema, name)
        except LLMError as err:
            if not _unsupported(err, mode):
                raise
            log.info("%s: structured mode %r unsupported, falling back: %s",
                     config.base_url, mode, err.detail)
            continue
        _working_modes[key] = mode
        return result
    result = await _call(llm, config, modes[-1], messages, schema, name)
    _working_modes[key] = modes[-1]
    return result


async def _call(llm: openai.AsyncOpenAI, config: LLMConfig, mode: Mode,
                messages: Sequence[ChatCompletionMessageParam], schema: dict[str, Any],
                name: str) -> StructuredResult:
    if mode == "json_schema":
        completion = await _create(llm, config, messages, response_format={
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": False}})
    elif mode == "tools":
        completion = await _create(llm, config, messages, tools=[_tool(name, schema)],
                                   tool_choice={"type": "function", "function": {"name": name}})
    else:
        completion = await _create(llm, config, _with_schema(messages, schema, name),
                                   response_format={"type": "json_object"})
    choice = _first_choice(completion, config)
    text = _tool_arguments(choice, name) if mode == "tools" else None
    text = _content(choice) if text is None else text
    return StructuredResult(text=text, data=_loads(text), mode_used=mode,
                            usage=usage_from_openai(completion.usage, config, completion.model),
                            model=completion.model or config.model,
                            finish_reason=choice.finish_reason)


async def _create(llm: openai.AsyncOpenAI, config: LLMConfig,
                  messages: Sequence[ChatCompletionMessageParam], *,
                  response_format: ResponseFormat | Omit = omit,
                  tools: list[ChatCompletionFunctionToolParam] | Omit = omit,
                  tool_choice: ChatCompletionNamedToolChoiceParam | Omit = omit) -> ChatCompletion:
    with llm_span(config.model, config.base_url) as span:
        try:
            completion = await llm.chat.completions.create(
                model=config.model, messages=messages, response_format=response_format,
                tools=tools, tool_choice=tool_choice)
        except openai.OpenAIError as exc:
            error = classify(exc, model=config.model)
            span.failed(error.kind, error.detail)
            raise error from exc
        usage = completion.usage
        span.answered(response_model=completion.model,
                      input_tokens=getattr(usage, "prompt_tokens", None),
                      output_tokens=getattr(usage, "completion_tokens", None),
                      finish_reasons=[c.finish_reason for c in completion.choices or ()])
        return completion


@asynccontextmanager
async def _client_for(config: LLMConfig,
                      client: openai.AsyncOpenAI | None) -> AsyncIterator[openai.AsyncOpenAI]:
    if client is not None:
        yield client
        return
    async with make_client(config) as own:
        yield own


def _tool(name: str, schema: dict[str, Any]) -> ChatCompletionFunctionToolParam:
    return {"type": "function", "function": {
        "name": name, "parameters": schema,
        "description": "Submit the answer: its arguments are the whole result."}}


def _with_schema(messages: Sequence[ChatCompletionMessageParam], schema: dict[str, Any],
                 name: str) -> list[ChatCompletionMessageParam]:
    """Insert the schema as a system message after the leading system messages (some chat
    templates refuse a system message later in the conversation)."""
    text = JSON_MODE_INSTRUCTION.format(name=name, schema=json.dumps(schema, indent=1))
    at = 0
    while at < len(messages) and messages[at]["role"] in ("system", "developer"):
        at += 1
    return [*messages[:at], {"role": "system", "content": text}, *messages[at:]]


def _first_choice(completion: ChatCompletion, config: LLMConfig) -> Choice:
    if not completion.choices:
        raise LLMError("Unknown", "the endpoint answered with no choices", model=config.model,
                       endpoint=config.base_url, retryable=True)
    return completion.choices[0]


def _tool_arguments(choice: Choice, name: str) -> str | None:
    calls = [c for c in choice.message.tool_calls or ()
             if isinstance(c, ChatCompletionMessageFunctionToolCall)]
    named = [c for c in calls if c.function.name == name]
    return (named or calls)[0].function.arguments if calls else None


def _content(choice: Choice) -> str:
    return choice.message.content or choice.message.refusal or ""


def _loads(text: str) -> Any | None:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _unsupported(err: LLMError, mode: Mode) -> bool:
    """True when the endpoint said it does not support ``mode`` (not for a bad schema)."""
    if err.status not in (400, 422):
        return False
    detail = err.detail.lower()
    return (any(w in detail for w in _FEATURE_WORDS[mode])
            and any(w in detail for w in _UNSUPPORTED_WORDS))


def _function_name(schema_name: str) -> str:
    """OpenAI allows ``[a-zA-Z0-9_-]{1,64}`` for schema and function names."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_"
                      for c in schema_name)
    return cleaned[:64] or "result"
