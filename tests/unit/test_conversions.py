"""The conversion table at a step boundary (planner/conversions.py): every kind of value a
reference can carry into every kind of parameter, at run time and as the validator sees the
declared types; and the validator's verdicts on plans of the built-in tools."""

from __future__ import annotations

from typing import Any

import pytest

from activities import default_registry
from planner.conversions import (
    ConversionRefused,
    convert,
    convert_args,
    static_conversion,
    whole_ref_sites,
)
from planner.plan import Plan
from planner.validation import planned_conversions, validate_plan

pytestmark = pytest.mark.unit

TEXT: dict[str, Any] = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
TEXTS = {"type": "array", "items": {"type": "string"}}
OBJ = {"type": "object"}
MAYBE_TEXT = {"anyOf": [{"type": "string"}, {"type": "null"}]}
PARAMS: dict[str, dict[str, Any]] = {
    "text": TEXT, "int": INT, "number": NUM, "bool": BOOL, "texts": TEXTS, "object": OBJ,
    "text?": MAYBE_TEXT}

R = "refused"
# value -> the parameter kind -> what it becomes (R: refused); the whole table, row by row
TABLE: list[tuple[Any, dict[str, Any]]] = [
    ("84", {"text": "84", "int": 84, "number": 84, "bool": R, "texts": ["84"], "object": R,
            "text?": "84"}),
    (" 2.5 ", {"text": " 2.5 ", "int": R, "number": 2.5, "bool": R, "texts": [" 2.5 "],
               "object": R, "text?": " 2.5 "}),
    ("1,234", {"text": "1,234", "int": R, "number": R, "bool": R, "texts": ["1,234"],
               "object": R, "text?": "1,234"}),
    ("1e999", {"text": "1e999", "int": R, "number": R, "bool": R, "texts": ["1e999"],
               "object": R, "text?": "1e999"}),
    ("True", {"text": "True", "int": R, "number": R, "bool": True, "texts": ["True"],
              "object": R, "text?": "True"}),
    ("yes", {"text": "yes", "int": R, "number": R, "bool": R, "texts": ["yes"], "object": R,
             "text?": "yes"}),
    (84, {"text": "84", "int": 84, "number": 84, "bool": R, "texts": ["84"], "object": R,
          "text?": "84"}),
    (84.0, {"text": "84.0", "int": 84, "number": 84.0, "bool": R, "texts": ["84.0"],
            "object": R, "text?": "84.0"}),
    (84.5, {"text": "84.5", "int": R, "number": 84.5, "bool": R, "texts": ["84.5"],
            "object": R, "text?": "84.5"}),
    (True, {"text": "true", "int": R, "number": R, "bool": True, "texts": ["true"],
            "object": R, "text?": "true"}),
    ([1, "a"], {"text": '[1,"a"]', "int": R, "number": R, "bool": R, "texts": ["1", "a"],
                "object": R, "text?": '[1,"a"]'}),
    ([7], {"text": "[7]", "int": R, "number": R, "bool": R, "texts": ["7"], "object": R,
           "text?": "[7]"}),
    ({"a": 1}, {"text": '{"a":1}', "int": R, "number": R, "bool": R, "texts": ['{"a":1}'],
                "object": {"a": 1}, "text?": '{"a":1}'}),
    (None, {"text": R, "int": R, "number": R, "bool": R, "texts": R, "object": R,
            "text?": None}),
]


@pytest.mark.parametrize(("value", "row"), TABLE, ids=[repr(v) for v, _ in TABLE])
def test_every_value_into_every_parameter(value: Any, row: dict[str, Any]) -> None:
    assert set(row) == set(PARAMS)
    for param, expected in row.items():
        if expected == R:
            with pytest.raises(ConversionRefused) as refused:
                convert(value, PARAMS[param])
            assert "cannot be passed as" in str(refused.value), (value, param)
            continue
        got, note = convert(value, PARAMS[param])
        assert got == expected and type(got) is type(expected), (value, param, got)
        assert bool(note) == (got != value or type(got) is not type(value)), (value, param)


def test_refusals_say_what_would_fit() -> None:
    cases = [([1, 2], INT, "which item? reference one, e.g. ${step.field[0]}"),
             ({"a": 1}, NUM, "reference one of its fields"),
             (84.5, INT, "84.5 is not a whole number"),
             (True, NUM, "a boolean is not taken as a number"),
             (None, TEXT, "the value is missing (null)"),
             ("abc", INT, 'the text "abc" is not a numeral')]
    for value, schema, words in cases:
        with pytest.raises(ConversionRefused, match=None) as refused:
            convert(value, schema)
        assert words in str(refused.value), (value, str(refused.value))


def test_a_parameter_that_takes_anything_takes_the_value_as_is() -> None:
    for value in ("84", 84, [1], {"a": 1}, None):
        assert convert(value, None) == (value, "")
        assert convert(value, {}) == (value, "")


# declared producer type -> parameter type: "" fits as is, a note, or R(efused)
STATIC = {
    ("integer", "string"): "number, passed as text",
    ("number", "string"): "number, passed as text",
    ("boolean", "string"): "boolean, passed as text",
    ("array", "string"): "list, passed as JSON text",
    ("object", "string"): "object, passed as JSON text",
    ("string", "integer"): "text, parsed as a number when it runs",
    ("string", "number"): "text, parsed as a number when it runs",
    ("number", "integer"): "number, must be a whole number when it runs",
    ("integer", "number"): "",
    ("string", "boolean"): "text, parsed as a boolean when it runs",
    ("string", "array"): "one text, passed as a one-item list",
    ("object", "array"): "one object, passed as a one-item list",
    ("array", "integer"): R, ("array", "boolean"): R, ("array", "object"): R,
    ("object", "integer"): R, ("object", "number"): R,
    ("boolean", "integer"): R, ("boolean", "number"): R, ("integer", "boolean"): R,
    ("string", "object"): R,
}


@pytest.mark.parametrize(("src", "dst"), list(STATIC), ids=[f"{s}->{d}" for s, d in STATIC])
def test_declared_types_get_the_same_verdicts(src: str, dst: str) -> None:
    verdict = static_conversion({src}, {dst})
    expected = STATIC[(src, dst)]
    if expected == R:
        assert verdict.refused and not verdict.note
    else:
        assert not verdict.refused and verdict.note.startswith(expected), verdict


def test_a_producer_of_several_types_gets_one_note_or_every_refusal() -> None:
    assert static_conversion({"integer", "number", "boolean"}, {"string"}).note == (
        "number or boolean, passed as text")
    assert static_conversion({"integer", "array"}, {"string"}).note == (
        "number, passed as text; list, passed as JSON text")
    assert "which item?" in static_conversion({"array", "boolean"}, {"integer"}).refused


def test_a_producer_that_may_give_null_is_judged_by_its_other_types() -> None:
    assert static_conversion({"integer", "null"}, {"string"}).note == "number, passed as text"
    assert static_conversion({"string"}, {"string", "null"}).note == ""
    assert static_conversion(set(), {"integer"}).note == ""  # declares nothing: checked later


def test_conversions_apply_at_the_place_of_each_whole_reference() -> None:
    schema = {"type": "object", "properties": {
        "text": TEXT, "n": INT, "tags": TEXTS,
        "opts": {"type": "object", "properties": {"limit": INT}}}}
    template = {"text": "${a.value}", "n": "${b.text}", "tags": ["${c.x}", "fixed"],
                "opts": {"limit": "${a.value}"}, "note": "total ${a.value}"}
    sites = whole_ref_sites(template)
    assert [(s.location, str(s.ref)) for s in sites] == [
        ("text", "${a.value}"), ("n", "${b.text}"), ("tags[0]", "${c.x}"),
        ("opts.limit", "${a.value}")]
    resolved = {"text": 84, "n": "12", "tags": [3, "fixed"], "opts": {"limit": 84.0},
                "note": "total 84"}
    args, notes = convert_args(resolved, schema, ((s.path, str(s.ref)) for s in sites))
    assert args == {"text": "84", "n": 12, "tags": ["3", "fixed"], "opts": {"limit": 84},
                    "note": "total 84"}
    assert notes == ["text: ${a.value} = 84 (number, passed as text)",
                     'n: ${b.text} = "12" (text, parsed as a whole number)',
                     "tags[0]: ${c.x} = 3 (number, passed as text)",
                     "opts.limit: ${a.value} = 84.0 (number, passed as a whole number)"]
    assert resolved["text"] == 84  # the input is not changed
    with pytest.raises(ConversionRefused, match=r"argument 'n' = \$\{b.text\}: .*numeral"):
        convert_args({"n": "twelve"}, schema, [(("n",), "${b.text}")])


def plan(*steps: dict[str, Any]) -> Plan:
    return Plan.model_validate({"goal": "g", "steps": list(steps)})


def test_the_validator_uses_the_table_on_the_built_in_tools() -> None:
    tools = {t.name: t for t in default_registry()}
    ok = plan({"id": "sum", "tool": "calc", "args": {"expression": "80 + 4"}},
              {"id": "save", "tool": "write_file", "args": {"path": "a.txt",
                                                           "text": "${sum.value}"}},
              {"id": "wait", "tool": "wait", "args": {"seconds": "${sum.value}"}})
    assert validate_plan(ok, tools) == []
    assert planned_conversions(ok, tools) == {
        "save": {"text": "number or boolean, passed as text"}}
    # calc's value is declared now: a list where one number is expected is caught before review
    bad = plan({"id": "ls", "tool": "list_files", "args": {"path": "."}},
               {"id": "sum", "tool": "calc", "args": {"expression": "1 + 1"}},
               {"id": "w", "tool": "wait", "args": {"seconds": "${ls.entries}"}},
               {"id": "n", "tool": "notes_search", "args": {"query": "x",
                                                            "limit": "${sum.value}"}})
    problems = [(p.code, p.step_id, p.location) for p in validate_plan(bad, tools)]
    assert problems == [("type_mismatch", "w", "args.seconds")], validate_plan(bad, tools)
    assert "which item? reference one" in validate_plan(bad, tools)[0].message


def test_the_review_shows_each_conversion_beside_its_argument() -> None:
    """The CLI's plan tree and the web app's step cards read GoalState.conversions."""
    from rich.console import Console

    from jarvis_planner.cli.goal_view import plan_tree
    from jarvis_planner.web.view import goal_view
    from planner.contracts.goal_flow import GoalState

    tools = {t.name: t for t in default_registry()}
    p = plan({"id": "sum", "tool": "calc", "args": {"expression": "80 + 4"}},
             {"id": "tag", "tool": "notes_append", "args": {
                 "text": "total ${sum.value}", "tags": "${sum.value}"}},
             {"id": "save", "tool": "write_file", "args": {"path": "a.txt",
                                                          "text": "${sum.value}"}})
    assert validate_plan(p, tools) == []
    conversions = planned_conversions(p, tools)
    assert conversions == {"tag": {"tags": "one number or boolean, passed as a one-item list"},
                           "save": {"text": "number or boolean, passed as text"}}
    console = Console(width=200, record=True)
    console.print(plan_tree(p, {}, conversions))
    shown = console.export_text()
    assert 'text = "${sum.value}"  (number or boolean, passed as text)' in shown
    assert 'text = "total ${sum.value}"\n' in shown  # interpolation: text already
    view = goal_view(GoalState(goal="g", stage="awaiting_approval", plan=p,
                               conversions=conversions))
    cards = {s.id: s for level in view.levels for s in level}
    assert cards["save"].conversions == {"text": "number or boolean, passed as text"}
    assert cards["sum"].conversions == {}


def test_an_llm_steps_data_has_the_shape_its_own_arguments_give() -> None:
    tools = {t.name: t for t in default_registry()}
    city = {"type": "object", "properties": {"city": {"type": "string"},
                                             "people": {"type": "integer"}},
            "required": ["city", "people"]}
    steps = [
        {"id": "x", "tool": "llm", "args": {"task": "extract", "input": "…",
                                            "json_schema": city}},
        {"id": "c", "tool": "llm", "args": {"task": "classify", "input": "…",
                                            "labels": ["urgent", "later"]}},
        {"id": "a", "tool": "llm", "args": {"task": "answer", "input": "…"}},
        {"id": "ok", "tool": "notes_search", "args": {"query": "${x.data.city}",
                                                      "limit": "${x.data.people}"}},
        {"id": "label", "tool": "notes_append", "args": {"text": "${c.data}"}}]
    assert validate_plan(plan(*steps), tools) == []
    wrong = plan(*steps[:3],
                 {"id": "typo", "tool": "notes_search", "args": {"query": "${x.data.town}"}},
                 {"id": "none", "tool": "notes_append", "args": {"text": "${a.data}"}},
                 {"id": "num", "tool": "wait", "args": {"seconds": "${c.data}"}})
    found = {(p.code, p.step_id): p.message for p in validate_plan(wrong, tools)}
    assert set(found) == {("unknown_field", "typo"), ("type_mismatch", "none")}, found
    assert "no field 'town'" in found[("unknown_field", "typo")]
    assert "missing (null)" in found[("type_mismatch", "none")]
    # a label is text: into a number it is parsed when it runs (and refused then)
    assert planned_conversions(wrong, tools)["num"] == {
        "seconds": "text, parsed as a number when it runs (refused if it is not one)"}
