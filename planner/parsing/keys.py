"""The keys and limits the tolerant parser knows (plan-level keys, wrappers, nesting bounds).

The limits make the parser's time linear in its input and bounded: however hostile the output,
it ends in a plan or in precise problems, never in an exception, within a fraction of a second.
"""

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


MAX_NESTING = 64  # levels of brackets in the model's JSON; a plan needs fewer than ten
MAX_OUTPUT_CHARS = 1_000_000  # longer model output is refused before it is read
_SCAN_BUDGET = 400_000  # characters scanned for blocks in all (unclosed blocks overlap)
# json_repair is pure Python and, on junk, takes time in proportion to length times nesting
# (up to ~4 microseconds per character and level): what it is given in all, in characters
# times (levels + 1), is bounded. A malformed plan of ~15,000 characters still fits.
_REPAIR_BUDGET = 120_000
_SCORE_PREFIX = 4_000  # of a block cut off mid-value, only this much is decoded, to score it


_PY_LITERALS = ("True", "False", "None")


_SCORE_PLAN, _SCORE_STEP_LIST, _SCORE_PLAN_KEYS, _SCORE_JSON = 4, 3, 2, 1


_PLAN_KEYS = {"goal", "steps", "plan", "tool", "tool_name", "id", "args", "arguments", "deps",
              "depends_on", "outputs"}
