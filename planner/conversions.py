"""Conversions at a step boundary: what the value of a whole reference (an argument that is
exactly one ``${...}``) becomes in the parameter it fills. Pure; both engines apply it the same
way (in the tool runtime, after the references are resolved and before the tool's argument model
checks them), the validator checks a plan with the same table, and the review screen shows
each conversion before anything runs.

The table (value's JSON type -> the parameter's type; "as is" when the type already fits):

==========  ==========================================================================
parameter   value converted (anything else is refused, naming the value and the fix)
==========  ==========================================================================
string      a number or boolean renders as interpolation would (``84``, ``1.5``, ``true``);
            a list or object renders as compact JSON text
integer     a whole number (``84.0`` -> ``84``); text that is a whole numeral (``" 84 "``)
number      an integer; text that is a numeral (``"1.5"``, ``"-2e3"``)
boolean     text ``true`` / ``false`` (any case)
array       any other single value -> a one-item list (each item converted to the item type)
object      nothing: an object only
==========  ==========================================================================

Refused because lossy or ambiguous: a fractional number into an integer, a boolean into a
number or a number into a boolean, a list into a single value other than text (which item?),
an object into a single value other than text, text into an object, ``null`` where the
parameter has no null, numerals with separators (``1,234``) or that overflow.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from planner.refs import PathItem, Ref, RefSyntaxError, format_path, is_whole_ref
from planner.schema_paths import PathProblem, deref, json_types, schema_at

# strict numerals only: no separators, no hex, no inf/nan; bounded before parsing
_NUMERAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_MAX_NUMERAL = 64

# the order tried when the value's own type is not among the parameter's
_PREFERENCE = ("integer", "number", "boolean", "string", "array")

# a value's kind, and a parameter's ("a whole number")
_NAMES = {"string": "text", "integer": "number", "number": "number",
          "boolean": "boolean", "array": "list", "object": "object", "null": "null"}
_WANTED = {"string": "text", "integer": "a whole number", "number": "a number",
           "boolean": "a boolean", "array": "a list", "object": "an object", "null": "null"}


class ConversionRefused(ValueError):
    """The value cannot fill the parameter without losing or guessing something."""


@dataclass(frozen=True)
class RefSite:
    """A whole reference inside a step's arguments: where (a path from the arguments' root)
    and which reference."""

    path: tuple[PathItem, ...]
    ref: Ref

    @property
    def location(self) -> str:
        return format_path(self.path).lstrip(".")


def whole_ref_sites(args: Any, path: tuple[PathItem, ...] = ()) -> list[RefSite]:
    """Every argument value (at any depth of objects and lists) that is one whole reference.
    A reference that does not parse is left to validation."""
    if isinstance(args, str):
        try:
            ref = is_whole_ref(args)
        except RefSyntaxError:
            return []
        return [RefSite(path, ref)] if ref is not None and path else []
    if isinstance(args, dict):
        return [s for k, v in args.items() for s in whole_ref_sites(v, (*path, str(k)))]
    if isinstance(args, list):
        return [s for i, v in enumerate(args) for s in whole_ref_sites(v, (*path, i))]
    return []


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


def param_schema(args_schema: dict[str, Any], path: tuple[PathItem, ...]) -> dict[str, Any] | None:
    """The schema of the parameter at ``path`` in a tool's argument schema (None: any)."""
    try:
        return schema_at(args_schema, path)
    except PathProblem:
        return None  # an argument the tool does not take: validation reports it


def convert(value: Any, schema: dict[str, Any] | None,
            root: dict[str, Any] | None = None) -> tuple[Any, str]:
    """``value`` as the parameter of ``schema`` takes it, and a note saying what was done ("" when
    nothing was). Raises ConversionRefused naming the value and what would fit."""
    root = root or schema or {}
    targets = json_types(schema, root) if schema else set()
    kind = json_type(value)
    if not targets or kind in targets or (kind == "integer" and "number" in targets):
        if kind == "array" and "array" in targets and schema:
            return _convert_items(value, schema, root)
        return value, ""
    reasons = []
    for target in _PREFERENCE:
        if target not in targets:
            continue
        try:
            return _to(value, kind, target, schema or {}, root)
        except ConversionRefused as exc:
            reasons.append(str(exc))
    wanted = " or ".join(_WANTED[t] for t in sorted(targets) if t != "null") or "null"
    why = "; ".join(reasons) or f"a {_NAMES[kind]} is not taken as {wanted}"
    raise ConversionRefused(f"{_shown(value)} ({_NAMES[kind]}) cannot be passed as {wanted}: "
                            f"{why}")


def _to(value: Any, kind: str, target: str, schema: dict[str, Any],
        root: dict[str, Any]) -> tuple[Any, str]:
    if target == "string":
        if kind in ("integer", "number", "boolean"):
            return _render(value), f"{_NAMES[kind]}, passed as text"
        if kind in ("array", "object"):
            return _render(value), f"{_NAMES[kind]}, passed as JSON text"
    elif target in ("integer", "number"):
        if kind == "string":
            return _parse_number(value, whole=target == "integer")
        if kind == "number" and target == "integer":
            if math.isfinite(value) and float(value).is_integer():
                return int(value), "number, passed as a whole number"
            raise ConversionRefused(f"{_shown(value)} is not a whole number")
    elif target == "boolean" and kind == "string":
        text = value.strip().lower()
        if text in ("true", "false"):
            return text == "true", "text, parsed as a boolean"
        raise ConversionRefused("only the text true or false is taken as a boolean")
    elif target == "array" and kind != "null":
        items = _array_branch(schema, root).get("items")
        item_schema = deref(items, root) if isinstance(items, dict) else None
        item, note = convert(value, item_schema, root)
        return [item], f"one {_NAMES[kind]}, passed as a one-item list" + (
            f" ({note})" if note else "")
    raise ConversionRefused(_refusal(kind, target))


def _refusal(kind: str, target: str) -> str:
    if kind == "array":
        return "which item? reference one, e.g. ${step.field[0]}"
    if kind == "object":
        return "reference one of its fields, e.g. ${step.field.name}"
    if kind == "null":
        return "the value is missing (null)"
    if "boolean" in (kind, target):
        return f"a {_NAMES[kind]} is not taken as {_WANTED[target]} (write a condition or calc)"
    return f"a {_NAMES[kind]} is not taken as {_WANTED[target]}"


def _convert_items(value: list[Any], schema: dict[str, Any],
                   root: dict[str, Any]) -> tuple[Any, str]:
    items = _array_branch(schema, root).get("items")
    if not isinstance(items, dict):
        return value, ""
    item_schema = deref(items, root)
    out, notes = [], set()
    for i, item in enumerate(value):
        try:
            converted, note = convert(item, item_schema, root)
        except ConversionRefused as exc:
            raise ConversionRefused(f"item [{i}]: {exc}") from exc
        out.append(converted)
        if note:
            notes.add(note)
    return out, ("items: " + ", ".join(sorted(notes))) if notes else ""


def _array_branch(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    schema = deref(schema, root)
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key, []):
            branch = deref(branch, root)
            if branch.get("type") == "array":
                return branch
    return schema


def _parse_number(text: str, *, whole: bool) -> tuple[Any, str]:
    stripped = text.strip()
    if len(stripped) > _MAX_NUMERAL or not _NUMERAL.fullmatch(stripped):
        raise ConversionRefused(f"the text {_shown(text)} is not a numeral")
    if _INTEGER.fullmatch(stripped):
        number: int | float = int(stripped)
    else:
        number = float(stripped)
        if not math.isfinite(number):
            raise ConversionRefused(f"the numeral {_shown(text)} is out of range")
        if whole:
            if not number.is_integer():
                raise ConversionRefused(f"the text {_shown(text)} is not a whole number")
            number = int(number)
    return number, "text, parsed as a " + ("whole number" if whole else "number")


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _shown(value: Any, limit: int = 60) -> str:
    text = _render(value) if not isinstance(value, str) else json.dumps(value,
                                                                        ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# --- the same table before anything runs: declared types only ------------------------------

@dataclass(frozen=True)
class StaticVerdict:
    """What the table says of a producer's declared types into a parameter's: ``note`` for the
    review screen ("" when the types fit), or ``refused`` with the reason."""

    note: str = ""
    refused: str = ""


def static_conversion(src: set[str], dst: set[str]) -> StaticVerdict:
    """The verdict for declared types (empty sets: anything). A producer that may give null
    is not refused for it: the run-time check names a missing value."""
    src = src - {"null"} if src - {"null"} else src
    if not src or not dst or src & dst or ("integer" in src and "number" in dst):
        return StaticVerdict()
    actions: dict[str, list[str]] = {}  # what is done -> the kinds it is done to
    refusals: list[str] = []
    for kind in sorted(src, key=_ORDER.index):
        verdict = _static_one(kind, dst)
        if verdict.refused:
            refusals.append(verdict.refused)
        elif _NAMES[kind] not in actions.setdefault(verdict.note, []):
            actions[verdict.note].append(_NAMES[kind])
    if refusals:
        return StaticVerdict(refused="; ".join(refusals))
    return StaticVerdict(note="; ".join(
        action.replace("{kind}", " or ".join(kinds)) for action, kinds in actions.items()))


_ORDER = ("integer", "number", "boolean", "string", "array", "object", "null")


def _static_one(kind: str, dst: set[str]) -> StaticVerdict:
    """``note`` has ``{kind}`` where the value's kind goes."""
    for target in _PREFERENCE:
        if target not in dst:
            continue
        if target == "string" and kind in ("integer", "number", "boolean"):
            return StaticVerdict(note="{kind}, passed as text")
        if target == "string" and kind in ("array", "object"):
            return StaticVerdict(note="{kind}, passed as JSON text")
        if target in ("integer", "number") and kind == "string":
            return StaticVerdict(note="{kind}, parsed as a number when it runs (refused if "
                                      "it is not one)")
        if target == "integer" and kind == "number":
            return StaticVerdict(note="{kind}, must be a whole number when it runs")
        if target == "boolean" and kind == "string":
            return StaticVerdict(note="{kind}, parsed as a boolean when it runs (true or "
                                      "false only)")
        if target == "array" and kind != "null":
            return StaticVerdict(note="one {kind}, passed as a one-item list")
    target = next((t for t in _PREFERENCE if t in dst), sorted(dst)[0])
    return StaticVerdict(refused=_refusal(kind, target))


def convert_args(args: dict[str, Any], args_schema: dict[str, Any],
                 sites: Iterable[tuple[tuple[PathItem, ...], str]]
                 ) -> tuple[dict[str, Any], list[str]]:
    """Apply the table to the resolved ``args`` at each whole reference's place (``sites``:
    path and reference text, found in the step's argument template). Returns the arguments
    and one note per conversion ("text: ${sum.value} = 84 (number, passed as text)"); raises
    ConversionRefused naming the argument, the reference and the value."""
    notes: list[str] = []
    args = dict(args)  # containers below come fresh from resolving the template
    for path, ref in sites:
        parent: Any = args
        try:
            for item in path[:-1]:
                parent = parent[item]
            value = parent[path[-1]]
        except (LookupError, TypeError):
            continue  # the template and the arguments disagree: the argument model says so
        where = format_path(path).lstrip(".")
        try:
            converted, note = convert(value, param_schema(args_schema, path), args_schema)
        except ConversionRefused as exc:
            raise ConversionRefused(f"argument '{where}' = {ref}: {exc}") from exc
        if note:
            parent[path[-1]] = converted
            notes.append(f"{where}: {ref} = {_shown(value)} ({note})")
    return args, notes


def sites_and_schemas(args: dict[str, Any], args_schema: dict[str, Any]
                      ) -> Iterable[tuple[RefSite, dict[str, Any] | None]]:
    for site in whole_ref_sites(args):
        yield site, param_schema(args_schema, site.path)


__all__ = ["ConversionRefused", "RefSite", "StaticVerdict", "convert", "convert_args",
           "json_type",
           "param_schema", "sites_and_schemas", "static_conversion", "whole_ref_sites"]
