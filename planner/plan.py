"""The plan: a typed DAG of tool calls whose arguments may reference earlier outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from planner.migrations import CURRENT_VERSION, PlanVersionError, migrate
from planner.nesting import nests_deeper
from planner.refs import STEP_ID_PATTERN, Ref, iter_refs
from planner.retry import RetryOverride

SCHEMA_VERSION = CURRENT_VERSION
MAX_VALUE_DEPTH = 32  # levels of dicts and lists in a step's args and in the plan's outputs


def _shallow(value: dict[str, Any], what: str) -> dict[str, Any]:
    if nests_deeper(value, MAX_VALUE_DEPTH):
        raise ValueError(f"{what} nest deeper than {MAX_VALUE_DEPTH} levels of objects and "
                         f"lists (MAX_VALUE_DEPTH is {MAX_VALUE_DEPTH}); flatten them")
    return value


class Step(BaseModel):
    """One tool call."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=f"^{STEP_ID_PATTERN}$", description="Stable id, unique in the plan.")
    tool: str = Field(min_length=1, description="Registered tool name.")
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="Arguments; strings may hold ${step.path} references to earlier outputs.",
    )
    deps: list[str] = Field(
        default_factory=list, description="Extra ordering: steps that must finish first."
    )
    when: str | None = Field(
        None,
        description="Optional condition (safe expression, may use references); false skips it.",
    )
    description: str = Field("", description="Short human description of the step.")
    retry: RetryOverride | None = None
    timeout_s: float | None = Field(
        None, gt=0, le=7 * 86400, description="Per-attempt timeout override in seconds."
    )

    @field_validator("args")
    @classmethod
    def _args_shallow(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _shallow(value, "arguments")

    def refs(self) -> list[Ref]:
        found = list(iter_refs(self.args))
        if self.when:
            found.extend(iter_refs(self.when))
        return found

    def dependencies(self) -> set[str]:
        """Steps this one waits for: referenced steps plus explicit deps."""
        return {r.step for r in self.refs()} | set(self.deps)


class PlanBudget(BaseModel):
    """Limits on what running the plan may spend (schema version 2). They can only tighten the
    goal's own budget (settings, or what the submitter asked for), never loosen it: the plan
    comes from an LLM."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int | None = Field(None, ge=0, description="LLM tokens, planning included.")
    max_cost_usd: float | None = Field(None, ge=0, description="LLM cost in US dollars.")
    max_wall_time_s: float | None = Field(None, gt=0, description="Seconds from submission.")
    max_steps: int | None = Field(None, ge=0, description="Steps started.")
    max_llm_calls: int | None = Field(None, ge=0, description="LLM calls, planning included.")


class Plan(BaseModel):
    """A goal, its steps, and the final output mapping."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[2] = Field(
        2, description="The plan format's version; older plans are migrated when loaded.")
    goal: str = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)
    outputs: dict[str, Any] = Field(
        default_factory=dict, description="Final result: names mapped to references/values."
    )
    on_failure: Literal["stop", "continue"] = Field(
        "stop",
        description="After a failed step: 'stop' starts nothing new, 'continue' runs "
        "independent branches to the end. Dependants of a failure never run.",
    )

    budget: PlanBudget | None = Field(
        None, description="Limits on what the run may spend; only ever tightens the goal's.")

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        if isinstance(data, dict):
            try:
                return migrate(data)
            except PlanVersionError as exc:
                raise ValueError(str(exc)) from exc
        return data

    @field_validator("outputs")
    @classmethod
    def _outputs_shallow(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _shallow(value, "outputs")

    # no return annotation: with one, the plan's serialization schema would be that type's
    # (the web API's OpenAPI document would lose its Plan)
    @model_serializer(mode="wrap")
    def _with_version(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        """Write ``schema_version`` even where the fields at their defaults are left out (the
        Temporal payloads, agents/payload_json.py): a plan without one reads as the current
        version, whatever version that is by then."""
        data: dict[str, Any] = handler(self)
        data.setdefault("schema_version", self.schema_version)
        return data

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def dependency_map(self) -> dict[str, set[str]]:
        return {s.id: s.dependencies() for s in self.steps}


class PlanLoadError(ValueError):
    """A plan file that is not valid JSON or does not match the plan schema."""


def plan_json_schema() -> dict[str, Any]:
    return Plan.model_json_schema()


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanLoadError(
            f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise PlanLoadError(f"{source}: the JSON nests too deeply to read (a plan's args and "
                            f"outputs may nest {MAX_VALUE_DEPTH} levels)") from exc
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise PlanLoadError(f"{source}: not valid JSON: {exc}") from exc
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"  - {'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()
        ]
        raise PlanLoadError(
            f"{source}: does not match the plan schema ({len(lines)} problem(s)):\n"
            + "\n".join(lines)
        ) from exc


def load_plan(path: str | Path) -> Plan:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanLoadError(f"{p}: cannot read plan file: {exc.strerror}") from exc
    return parse_plan(text, str(p))
