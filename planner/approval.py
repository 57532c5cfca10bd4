"""What a person approved, in a form nobody else can forge.

- :func:`plan_digest`: the version of a plan a person saw. Approve and edit carry it; the goal
  workflow refuses a decision about any other version.
- :func:`sign_step` / :func:`verify_step`: a *grant*, an HMAC-SHA256 over the goal's workflow id
  and run id, the step's id and tool, and its argument template, made by the approving client
  (CLI, web app, Python API) with a key that the workers and the approving clients hold and the
  workflow input never contains. A dangerous tool runs only with a grant for exactly that step in
  exactly that run (``activities.execution`` checks it on the worker); starting any workflow with
  any input, or replaying a grant into another run, runs nothing.
- :func:`matches_template`: the resolved arguments a step runs with are the approved template
  with its ``${...}`` references filled in: every literal part is as approved.

Pure: hashing only; the key is loaded by ``activities.approval_key``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from planner.migrations import earliest_form
from planner.plan import Plan, Step
from planner.refs import Ref, RefSyntaxError, parse_template

GRANT_VERSION = "jarvis-grant-v1"


def canonical(value: Any) -> bytes:
    """JSON with sorted keys and no spaces: the same bytes for the same data, everywhere."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def plan_digest(plan: Plan) -> str:
    """The version of ``plan``: sha256 of the canonical JSON of its earliest schema form (hex;
    :func:`planner.migrations.earliest_form`, so digests recorded before a schema version was
    added stay valid)."""
    return hashlib.sha256(canonical(earliest_form(plan.model_dump(mode="json")))).hexdigest()


def short(digest: str | None) -> str:
    """How a digest is shown to people: its first 12 hex digits."""
    return (digest or "")[:12]


def _message(workflow_id: str, run_id: str, step_id: str, tool: str,
             args: Mapping[str, Any]) -> bytes:
    args_hash = hashlib.sha256(canonical(dict(args))).hexdigest()
    return "\n".join((GRANT_VERSION, workflow_id, run_id, step_id, tool, args_hash)).encode()


def sign_step(key: bytes, workflow_id: str, run_id: str, step: Step) -> str:
    """The grant for ``step`` of the run ``workflow_id``/``run_id`` (hex)."""
    return hmac.new(key, _message(workflow_id, run_id, step.id, step.tool, step.args),
                    hashlib.sha256).hexdigest()


def sign_plan(key: bytes, workflow_id: str, run_id: str, plan: Plan,
              dangerous: set[str]) -> dict[str, str]:
    """Grants for the steps of ``plan`` whose tools are in ``dangerous``: step id -> grant."""
    return {s.id: sign_step(key, workflow_id, run_id, s) for s in plan.steps
            if s.tool in dangerous}


def verify_step(key: bytes, workflow_id: str, run_id: str, step_id: str, tool: str,
                args: Mapping[str, Any], grant: str | None) -> bool:
    """Whether ``grant`` is the grant of exactly this step (constant-time comparison)."""
    if not grant:
        return False
    expected = hmac.new(key, _message(workflow_id, run_id, step_id, tool, args),
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, grant)


def matches_template(template: Any, value: Any) -> bool:
    """Whether ``value`` is ``template`` with its references filled in: a whole reference may
    be anything; a string with references keeps every literal part, in order; everything
    else is equal."""
    if isinstance(template, str):
        if "${" not in template:
            return bool(template == value)
        try:
            parts = parse_template(template)
        except RefSyntaxError:
            return bool(template == value)
        if not any(isinstance(p, Ref) for p in parts):
            return bool(value == "".join(p for p in parts if isinstance(p, str)))
        if len(parts) == 1:
            return True  # a whole reference: any value
        return isinstance(value, str) and _literals_in_order(parts, value)
    if isinstance(template, Mapping):
        return (isinstance(value, Mapping) and set(template) == set(value)
                and all(matches_template(template[k], value[k]) for k in template))
    if isinstance(template, list | tuple):
        return (isinstance(value, list | tuple) and len(template) == len(value)
                and all(matches_template(t, v) for t, v in zip(template, value, strict=True)))
    return bool(template == value and type(template) is type(value))


def _literals_in_order(parts: list[str | Ref], value: str) -> bool:
    """``value`` matches literal, *, literal, *, ... (a wildcard pattern; linear time)."""
    first = parts[0] if isinstance(parts[0], str) else ""
    last = parts[-1] if isinstance(parts[-1], str) else ""
    if not value.startswith(first):
        return False
    lo, hi = len(first), len(value) - len(last)
    if hi < lo or not value.endswith(last):
        return False
    middle = parts[1:-1] if len(parts) > 1 else []
    for part in middle:
        if isinstance(part, str) and part:
            found = value.find(part, lo, hi)
            if found < 0:
                return False
            lo = found + len(part)
    return True
