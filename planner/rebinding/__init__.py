"""Parameter rebinding: reuse a stored plan for a new goal that differs only in its values.

When a plan is stored, the literal values in its step arguments (and ``when`` conditions) that
also appear verbatim in the goal become **slots**: ``remember that the boiler is serviced in May``
with ``notes_append(text="the boiler is serviced in May")`` gives the pattern
``remember that {0}`` and the site ``steps[0].args.text``. A new goal is matched against the
whole pattern; on a match the new values are written into a copy of the plan: whole values
(typed: ``30`` -> ``45``), text inside strings (``"Reminder: call mom"`` -> ``"Reminder: buy
milk"``, never inside ``${...}`` references), also in ``outputs`` and step descriptions, with the
planner's case change kept (``Paris`` written ``paris`` in a URL). The caller re-validates the
rebound plan against today's tools (:meth:`TemplateStore.find_reusable` does).

What makes a value a slot:

- a whole literal argument (string, or number written the same way in the goal), except a
  single word that is the goal's first word (its verb: "append ..." -> ``mode="append"``), or
- a span of goal words found inside a literal string: two or more words with at least one that
  is not a stop word, or one word carrying a digit, a capital (not the goal's first word) or
  inner punctuation (``report.txt``, ``wttr.in``). Single lowercase words inside longer text
  (``weather`` in ``weather.txt``) stay literal: they are more often vocabulary than parameters.
  Longer values win: an occurrence inside a longer value's span belongs to that value
  (``notes.txt`` inside ``backup/notes.txt``). A value that occurs several times in the goal
  is a slot only when the plan has as many places holding it (else one occurrence may be
  another parameter the planner rewrote, "$10,000" -> 10000), and then it must be the same at
  each place in the new goal.

When a pattern does not rebind (precision first, the LLM is the fallback):

- its literal words differ from the goal's (after lowercasing, collapsing whitespace, dropping
  a polite prefix such as "please" / "hey jarvis, can you", trailing punctuation, and treating
  "the/a/an" before a word and the plural of time units ("1 second") as optional);
- a new value is empty, much longer than the old one (> 3x words + 5, or > 300 characters),
  several words where the old one was one word (a path, a name, a URL part: "reports
  recursively" is not a folder), of another shape (old value a number or arithmetic, new one
  not), or adds a sequencing clause the old one did not have ("and then", "; ", "also", a
  second sentence, "and send/email/save/...", ", send ..."): such goals need a different plan,
  not the same one;
- the template is not rebindable: text of a slot's value also occurs elsewhere in the plan
  where it cannot be rewritten (``tags=["boiler"]`` next to the note text), or the pattern has
  fewer than two literal words (``{0}`` alone would match anything). Such a template still
  matches its own goal exactly;
- a person edited the plan at review (:func:`example_pattern`): the edit may hold values that
  are not the goal's words (``remind me {0} plants`` from a fragment the reviewer typed), so the
  plan is kept as the planner's example for similar goals and matches its own goal only.

Limits: values the planner *derived* from the goal (coordinates for a city, 120 for "2 minutes",
a date for "tomorrow") are not recognised as parameters, so the goal words they came from stay
literal and a goal with other words does not match; but if the plan holds both a recognised value
and a derived one (a city name and its coordinates), rebinding the name leaves the derived value
stale. Paraphrases never match (the LLM plans them, with the stored plan as an example)."""

from __future__ import annotations

from planner.rebinding.extraction import example_pattern, extract_pattern, template_key
from planner.rebinding.goal_text import normalise_goal
from planner.rebinding.pattern import GoalPattern, RebindResult, Site, Slot, goal_head
from planner.rebinding.rewrite import rebind

__all__ = [
    "GoalPattern",
    "RebindResult",
    "Site",
    "Slot",
    "example_pattern",
    "extract_pattern",
    "goal_head",
    "normalise_goal",
    "rebind",
    "template_key",
]
