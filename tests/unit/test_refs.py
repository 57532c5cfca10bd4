from __future__ import annotations

import pytest

from planner.refs import (
    Ref,
    RefResolutionError,
    RefSyntaxError,
    format_path,
    is_whole_ref,
    iter_refs,
    parse_ref,
    parse_template,
    resolve,
    scan,
    unescape,
)

OUT = {"a": {"items": [{"id": 7, "name": "x"}], "Exchange Rate": 1.5, "n": 3},
       "b": [1, 2, 3], "c": "text"}


@pytest.mark.parametrize(("expr", "ref"), [
    ("a", Ref("a")),
    ("a.items[0].id", Ref("a", ("items", 0, "id"))),
    ('a["Exchange Rate"]', Ref("a", ("Exchange Rate",))),
    ("a.Exchange Rate", Ref("a", ("Exchange Rate",))),
    ("b[-1]", Ref("b", (-1,))),
    ("step-2.x", Ref("step-2", ("x",))),
])
def test_parse_ref(expr: str, ref: Ref) -> None:
    assert parse_ref(expr) == ref


def test_format_path_round_trips() -> None:
    for path in [("items", 0, "id"), ("Exchange Rate",), ("a.b",), ("q\"x",), ("Rate ",)]:
        ref = Ref("s", path)
        assert parse_ref(str(ref)[2:-1]) == ref
        assert parse_template(f"x {ref} y") == ["x ", ref, " y"]


@pytest.mark.parametrize("bad", ["1abc", "a..b", "a[x]", "a.b[", ""])
def test_bad_refs_raise(bad: str) -> None:
    with pytest.raises(RefSyntaxError):
        parse_ref(bad)


def test_unclosed_template() -> None:
    with pytest.raises(RefSyntaxError, match="unclosed"):
        parse_template("hello ${a.b")


def test_whole_reference_keeps_type() -> None:
    assert resolve("${a.items}", OUT) == [{"id": 7, "name": "x"}]
    assert resolve("${a.n}", OUT) == 3
    assert resolve({"k": ["${b[1]}", "${c}"]}, OUT) == {"k": [2, "text"]}


def test_interpolation_renders_json_for_non_strings() -> None:
    assert resolve("n=${a.n} rate=${a[\"Exchange Rate\"]} b=${b}", OUT) == "n=3 rate=1.5 b=[1,2,3]"
    assert resolve("cost $${literal} ${c}", OUT) == "cost ${literal} text"


def test_resolution_errors_name_the_path() -> None:
    with pytest.raises(RefResolutionError, match=r"no key 'nope' at \$\{a\}"):
        resolve("${a.nope}", OUT)
    with pytest.raises(RefResolutionError, match="out of range"):
        resolve("${b[5]}", OUT)
    with pytest.raises(RefResolutionError, match="key 'x' applied to a list"):
        resolve("${b.x}", OUT)
    with pytest.raises(RefResolutionError, match="has no output"):
        resolve("${zzz}", OUT)


def test_iter_refs_and_whole() -> None:
    refs = list(iter_refs({"x": "${a.n} and ${b}", "y": ["${c}"], "z": 5}))
    assert refs == [Ref("a", ("n",)), Ref("b"), Ref("c")]
    assert is_whole_ref("${a.n}") == Ref("a", ("n",))
    assert is_whole_ref("x ${a.n}") is None
    assert format_path(("k", 0)) == ".k[0]"


def test_the_one_scanner_gives_spans_that_rebuild_the_text() -> None:
    text = 'Hi ${a.b["x}y"]} and $${not} ${c}${d[0]} tail ${open'
    spans = scan(text)
    assert "".join(text[s.start:s.end] for s in spans) == text
    assert [(s.kind, text[s.start:s.end]) for s in spans] == [
        ("text", "Hi "), ("ref", '${a.b["x}y"]}'), ("text", " and $${not} "), ("ref", "${c}"),
        ("ref", "${d[0]}"), ("text", " tail "), ("unclosed", "${open")]
    assert unescape(" and $${not} ") == " and ${not} "
    with pytest.raises(RefSyntaxError, match="unclosed"):
        parse_template(text)
