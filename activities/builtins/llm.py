"""The `llm` step: answer, summarize, extract (to a JSON schema) or classify, with one LLM call.

Runs as an activity like every tool; the client's own retries are off (Temporal owns retries)
and the call's token usage is recorded into the run state.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Literal

import json_repair
from pydantic import BaseModel

from activities.errors import ToolError, ToolInputError
from activities.execution import record_usage
from activities.llm import LLMConfig, LLMError, complete_structured, complete_text
from planner.retry import RetrySpec
from planner.tools import Risk, ToolContext, ToolRegistry, tool_from_function
from prompts import load_prompt

Task = Literal["answer", "summarize", "extract", "classify"]
INSTRUCTIONS: dict[str, str] = {
    "answer": "Answer the question using the input.",
    "summarize": "Summarize the input in a few sentences.",
    "extract": "Extract the requested data from the input as JSON matching the schema.",
    "classify": "Classify the input into exactly one of the labels; answer with the label only.",
}


class LLMOutput(BaseModel):
    task: str
    text: str
    # extract: the data (the step's json_schema says its shape); classify: the label; else null
    data: Any = None
    model: str


def step_output(args: dict[str, Any]) -> dict[str, Any] | None:
    """One step's output schema from its literal arguments, so references into ``data`` are
    checked before review: extract's data has the step's json_schema, classify's is one of the
    labels, answer/summarize give none. None (the tool's schema) when the arguments do not
    say, e.g. a task given by reference or a json_schema with $refs of its own."""
    task, labels, schema = args.get("task"), args.get("labels"), args.get("json_schema")
    if task == "extract" and isinstance(schema, dict) and "$ref" not in json.dumps(schema):
        data: dict[str, Any] = schema
    elif task == "classify" and isinstance(labels, list) and labels and all(
            isinstance(label, str) and "${" not in label for label in labels):
        data = {"type": "string", "enum": labels}
    elif task in ("answer", "summarize"):
        data = {"type": "null"}
    else:
        return None
    schema_of_tool = LLMOutput.model_json_schema()
    return {**schema_of_tool, "properties": {**schema_of_tool["properties"], "data": data}}


def _config(ctx: ToolContext) -> LLMConfig:
    config = ctx.extras.get("llm")
    if not isinstance(config, LLMConfig):
        raise ToolInputError("the llm step needs an LLM endpoint: set JARVIS_LLM_BASE_URL and "
                             "JARVIS_LLM_MODEL (or JARVIS_LLM_API_KEY for OpenAI)")
    return config


async def llm(task: Task, input: str, ctx: ToolContext, instruction: str = "",
              json_schema: dict[str, Any] | None = None,
              labels: list[str] | None = None) -> LLMOutput:
    """Call the LLM on text: answer / summarize / extract (give a json_schema) / classify
(give labels). `instruction` adds task details (e.g. the question to answer)."""
    if task == "extract" and not json_schema:
        raise ToolInputError("task 'extract' needs a 'json_schema' for the data to extract")
    if task == "classify" and not labels:
        raise ToolInputError("task 'classify' needs 'labels'")
    config = _config(ctx)
    details = INSTRUCTIONS[task] + (f" {instruction}" if instruction else "")
    if labels:
        details += " Labels: " + ", ".join(labels)
    system = load_prompt("llm_tool").render(instruction=details)
    messages: list[Any] = [{"role": "system", "content": system},
                           {"role": "user", "content": input}]
    try:
        if task == "extract":
            result = await complete_structured(config, messages, json_schema or {}, "extract")
            record_usage(result.usage)
            extracted = result.data if result.data is not None else json_repair.loads(result.text)
            return LLMOutput(task=task, text=result.text, data=extracted, model=result.model)
        text = await complete_text(config, messages)
    except LLMError as exc:
        if exc.retryable:
            raise ToolError(str(exc), retry_after_s=exc.retry_after_s) from exc
        raise ToolInputError(str(exc)) from exc
    record_usage(text.usage)
    answer = text.text.strip()
    data: Any = None
    if task == "classify":
        data = _match_label(answer, labels or [])
    return LLMOutput(task=task, text=answer, data=data, model=text.model)


def _match_label(answer: str, labels: list[str]) -> str:
    cleaned = answer.strip().strip(".\"'").lower()
    for label in labels:
        if cleaned == label.lower():
            return label
    for label in labels:
        if label.lower() in cleaned:
            return label
    raise ToolError(f"the model answered {json.dumps(answer[:80])}, which is none of the "
                    f"labels {labels}")


def register(registry: ToolRegistry) -> None:
    tool = tool_from_function(
        llm, risk=Risk.READ_ONLY, idempotent=True, timeout_s=120,
        retry=RetrySpec(max_attempts=5, initial_interval_s=1.0, max_interval_s=60))
    registry.register(replace(tool, step_output=step_output))
