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

# Bounds on hostile or broken model output: how deep its JSON may nest (a plan needs about 6
# levels plus its arguments' own), and how long an answer is read at all.
MAX_DEPTH = 48
MAX_OUTPUT_CHARS = 1_000_000
MAX_REPAIR_CHARS = 200_000  # json_repair (pure Python) is not run on longer blocks
SCAN_BUDGET = 4  # scan at most this many times the output's length over all blocks


_PY_LITERALS = ("True", "False", "None")


_SCORE_PLAN, _SCORE_STEP_LIST, _SCORE_PLAN_KEYS, _SCORE_JSON = 4, 3, 2, 1


_PLAN_KEYS = {"goal", "steps", "plan", "tool", "tool_name", "id", "args", "arguments", "deps",
              "depends_on", "outputs"}
