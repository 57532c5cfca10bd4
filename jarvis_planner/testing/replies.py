"""Scripted replies and matchers for :class:`~jarvis_planner.testing.ScriptedLLM`."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Matcher = Callable[[dict[str, Any]], bool]


# --- replies -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    status: int = 200
    message: dict[str, Any] | None = None  # the assistant message of a 200 chat completion
    finish_reason: str = "stop"
    usage: dict[str, int] | None = None
    body: Any = None  # the raw body of an error reply
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    model: str | None = None  # default: echo the request's model

    def render(self, request: dict[str, Any]) -> tuple[int, Any]:
        if self.message is None:
            return self.status, self.body
        return self.status, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion",
            "created": int(time.time()), "model": self.model or request.get("model", "scripted"),
            "choices": [{"index": 0, "message": self.message, "finish_reason": self.finish_reason,
                         "logprobs": None}],
            **({"usage": self.usage} if self.usage is not None else {}),
        }


def _usage(prompt_tokens: int, completion_tokens: int, with_usage: bool) -> dict[str, int] | None:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens} if with_usage else None


def reply_text(text: str, *, prompt_tokens: int = 10, completion_tokens: int = 5,
               with_usage: bool = True, finish_reason: str = "stop", model: str | None = None,
               delay_s: float = 0.0) -> Reply:
    return Reply(message={"role": "assistant", "content": text}, finish_reason=finish_reason,
                 usage=_usage(prompt_tokens, completion_tokens, with_usage), model=model,
                 delay_s=delay_s)


def reply_json(obj: Any, **kwargs: Any) -> Reply:
    return reply_text(json.dumps(obj), **kwargs)


def reply_tool_call(name: str, arguments: str | dict[str, Any], *, prompt_tokens: int = 10,
                    completion_tokens: int = 5, with_usage: bool = True,
                    model: str | None = None, delay_s: float = 0.0) -> Reply:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    call = {"id": f"call_{uuid.uuid4().hex[:8]}", "type": "function",
            "function": {"name": name, "arguments": args}}
    return Reply(message={"role": "assistant", "content": None, "tool_calls": [call]},
                 finish_reason="tool_calls", model=model, delay_s=delay_s,
                 usage=_usage(prompt_tokens, completion_tokens, with_usage))


def reply_error(status: int, body: Any = None, *, message: str | None = None,
                code: str | None = None, headers: Mapping[str, str] | None = None,
                delay_s: float = 0.0) -> Reply:
    """An error reply; the default body is OpenAI's ``{"error": {...}}`` envelope."""
    if body is None:
        body = {"error": {"message": message or f"scripted error {status}",
                          "type": "invalid_request_error" if status < 500 else "server_error",
                          "param": None, "code": code}}
    return Reply(status=status, body=body, headers=dict(headers or {}), delay_s=delay_s)


# --- matchers and steps --------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    reply: Reply
    matchers: tuple[tuple[str, Matcher], ...] = ()
    label: str = ""

    def describe(self) -> str:
        checks = "; ".join(d for d, _ in self.matchers) or "any request"
        return f"{self.label or 'step'} ({checks}) -> HTTP {self.reply.status}"

    def mismatches(self, request: dict[str, Any]) -> list[str]:
        failed = []
        for description, matcher in self.matchers:
            try:
                ok = matcher(request)
            except Exception as exc:  # a crashing matcher is a mismatch, explained
                ok, description = False, f"{description} raised {type(exc).__name__}: {exc}"
            if not ok:
                failed.append(description)
        return failed


def message_text(request: dict[str, Any]) -> str:
    parts: list[str] = []
    for message in request.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [p.get("text", "") for p in content if isinstance(p, dict)]
    return "\n".join(parts)


def step(reply: Reply, *, match: Matcher | None = None, expects_response_format: str | None = None,
         expects_tools: bool | None = None, expects_text_in_messages: str | None = None,
         expects_model: str | None = None, label: str = "") -> Step:
    """One expected chat call. ``expects_response_format`` is a response_format type
    ("json_schema", "json_object", "text"); ``expects_tools`` says tools are (not) sent."""
    checks: list[tuple[str, Matcher]] = []
    if expects_response_format is not None:
        fmt = expects_response_format
        checks.append((f"response_format.type == {fmt!r}",
                       lambda r: (r.get("response_format") or {}).get("type") == fmt))
    if expects_tools is not None:
        want = expects_tools
        checks.append(("tools sent" if want else "no tools sent",
                       lambda r: bool(r.get("tools")) == want))
    if expects_text_in_messages is not None:
        text = expects_text_in_messages
        checks.append((f"messages contain {text!r}", lambda r: text in message_text(r)))
    if expects_model is not None:
        model = expects_model
        checks.append((f"model == {model!r}", lambda r: r.get("model") == model))
    if match is not None:
        checks.append((f"matcher {getattr(match, '__name__', repr(match))}", match))
    return Step(reply, tuple(checks), label)
