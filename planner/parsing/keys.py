"""The keys and limits the tolerant parser knows (plan-level keys, wrappers, nesting bounds)."""

from __future__ import annotations

STEP_KEY_ALIASES: dict[str, tuple[str, ...]] = {
    "tool": ("name", "tool_name"),
    "args": ("arguments", "parameters", "input"),
    "deps": ("depends_on", "dependencies"),
}


WRAPPER_KEYS = ("plan", "tool_calls", "tool_call", "function_call", "function", "arguments",
                "input", "parameters", "args")


_MAX_WRAP_DEPTH = 5


_MAX_BLOCKS = 64


_PY_LITERALS = ("True", "False", "None")


_SCORE_PLAN, _SCORE_STEP_LIST, _SCORE_PLAN_KEYS, _SCORE_JSON = 4, 3, 2, 1


_PLAN_KEYS = {"goal", "steps", "plan", "tool", "tool_name", "id", "args", "arguments", "deps",
              "depends_on", "outputs"}
