"""Model output -> :class:`~planner.plan.Plan`: tolerant of the usual LLM slips, honest about each.

:func:`parse_plan_output` takes what a model answered (text, or already decoded JSON from a
structured-output API) and returns a :class:`ParseOutcome`: a plan, or problems ready to send back
to the model for repair, plus the list of tolerant steps that were taken (``fixes``).

Text is handled in three stages, none of which uses ``eval`` or regular expressions:

1. **Locate.** The text is split at Markdown code-fence lines; in each region a small JSON-aware
   scanner (it knows strings in either quote, comments and bracket nesting) finds the JSON blocks.
   Every block is decoded and the one that looks most like a plan wins (a dict with ``steps`` beats
   a list of steps beats any other object; ties go to complete blocks, then fenced ones, then the
   last one: models put corrected plans after drafts).
2. **Repair.** A block that is not strict JSON goes through ``json_repair`` (trailing commas,
   single quotes, ``True``/``None``, comments, unquoted keys). What the scanner saw names the fix.
   A block cut off at the end (the model hit its token limit) is completed only when the cut
   falls between whole steps, or between top-level fields, so that only the closing brackets of
   the step list, the plan and its wrappers are missing; the fix says that what came after the
   cut is lost. A cut inside a step (a string, a number, a key, after a comma or colon, or an
   unfinished ``args``) is an ``unparseable`` problem, never a half-written step.
3. **Normalise.** A few shape slips with our schema are mended, each recorded: wrappers
   (``{"plan": ...}``, tool-call envelopes such as OpenAI ``tool_calls`` or ``{"name",
   "arguments"}``, with arguments as a JSON string or an object), a top-level list of steps, step
   keys ``name``/``tool_name`` (-> ``tool``), ``arguments``/``parameters``/``input`` (-> ``args``),
   ``depends_on``/``dependencies`` (-> ``deps``), numeric step ids (``1`` -> ``"s1"``, with deps
   and ``${1.x}`` references to match) and a missing goal (-> the ``goal`` argument).

Nothing is invented: no steps, tools or references are added. Whatever still does not match the
schema becomes one ``bad_plan_shape`` problem per pydantic error, with its location. Unknown tools,
dangling references and cycles are not the parser's business: such plans parse, and
:func:`planner.validation.validate_plan` reports them."""

from __future__ import annotations

from planner.parsing.keys import (
    STEP_KEY_ALIASES,
    WRAPPER_KEYS,
)
from planner.parsing.outcome import (
    ParseOutcome,
    parse_plan_output,
)
from planner.parsing.scanning import (
    Tail,
)

__all__ = [
    "STEP_KEY_ALIASES",
    "WRAPPER_KEYS",
    "ParseOutcome",
    "Tail",
    "parse_plan_output",
]
