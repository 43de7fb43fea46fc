"""Item types: definitions checked with the fix named, responses read strictly, scores as documented."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from ibm_lms.items.service import InvalidResponse, correct_response, item_types, parse_item, read_response, score
from ibm_lms.markers import Phrase

ROOT = Path(__file__).resolve().parents[2]
TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
ALTERED = [TD3[0], TD3[1].replace("7408122", "7508122")]


def item(kind: str, **parts):
    raw = {"type": kind, "outcomes": ["X-1"], "title": {"en": "T"}, "prompt": {"en": "P"}, "feedback": {"en": "F"},
           **parts}
    found, problems = parse_item("x-item", raw)
    assert problems == [], [p.said() for p in problems]
    return found


def problems_of(kind: str, **parts) -> list[str]:
    raw = {"type": kind, "outcomes": ["X-1"], "title": {"en": "T"}, "prompt": {"en": "P"}, "feedback": {"en": "F"},
           **parts}
    return [p.said() for p in parse_item("x-item", raw)[1]]


def options(*ids):
    return [{"id": i, "text": {"en": i.upper()}} for i in ids]


def test_every_shipped_exercise_is_valid_and_its_model_answer_scores_full_marks():
    files = sorted(ROOT.glob("courses/*/exercises/*.toml"))
    assert len(files) >= 8 * 8
    for path in files:
        found, problems = parse_item(path.stem, tomllib.loads(path.read_text()))
        assert problems == [], (path, problems)
        result = score(found, correct_response(found))
        assert result.scaled == 1.0 and result.success, path


@pytest.mark.parametrize(("kind", "parts", "says"), [
    ("single_choice", {"options": options("a", "b"), "answer": "z"}, "answer: 'z' is not one of the options"),
    ("single_choice", {"options": options("a", "b")}, "answer: is missing"),
    ("multiple_response", {"options": options("a", "b"), "answer": ["a", "q"]}, "names options that do not exist"),
    ("ordering", {"items": options("a", "b", "c"), "answer": ["a", "b"]}, "every item id exactly once"),
    ("dilemma", {"options": [{**o, "score": 0.5, "consequence": {"en": "C"}} for o in options("a", "b")]},
     "no option scores 1"),
    ("risk_rating", {"dimensions": [{"id": "threat", "label": {"en": "T"}, "model": 7, "reasoning": {"en": "R"}},
                                    {"id": "impact", "label": {"en": "I"}, "model": 2, "reasoning": {"en": "R"}}]},
     "from 1 to 5"),
    ("mrz_check", {"lines": ["P<UTO"], "check_digits": True}, "is not a machine-readable zone"),
    ("mrz_spot", {"specimens": [{"id": "a", "label": {"en": "A"}, "lines": TD3},
                                {"id": "b", "label": {"en": "B"}, "lines": ALTERED}], "answer": "a"},
     "the checker finds failing check digits in 'b'"),
    ("no_such_type", {}, "is not an item type"),
    (None, {}, "type: is missing: every item names its type"),
    ("single_choice", {"options": [{"id": "A b", "text": {"en": "x"}}, {"id": "b", "text": {"xx": "x"}}],
                       "answer": "b"}, "lower-case letters"),
])
def test_a_broken_definition_names_the_key_and_the_fix(kind, parts, says):
    found = problems_of(kind, **parts)
    assert any(says in p for p in found), found
    assert all(" — " in p for p in found), found  # every problem says how to fix it


@pytest.mark.parametrize("prompt, says", [({"en": "  "}, "must be a non-empty text"),
                                          ({"en": "x" * 20_001}, "is longer than 20,000 characters"),
                                          ({"en": "a\x07b"}, "holds control characters")])
def test_each_way_a_text_is_wrong_has_its_own_words(prompt, says):
    assert any(f"prompt.en: {says}" in p for p in problems_of("single_choice", prompt=prompt, options=options("a", "b"),
                                                               answer="a"))


def test_a_text_without_english_is_refused():
    assert any("has no English text" in p for p in problems_of(
        "single_choice", title={"ru": "Т"}, options=options("a", "b"), answer="a"))


def test_multiple_response_partial_credit_with_penalties():
    mr = item("multiple_response", options=options("a", "b", "c", "d"), answer=["a", "b"])
    assert score(mr, {"choices": ["a", "b"]}).scaled == 1.0
    assert score(mr, {"choices": ["a"]}).scaled == 0.5
    assert score(mr, {"choices": ["a", "c"]}).scaled == 0.0
    assert score(mr, {"choices": ["c", "d"]}).scaled == 0.0  # never below zero
    assert not score(mr, {"choices": ["a", "b", "c"]}).success


def test_ordering_counts_the_longest_run_in_order():
    order = item("ordering", items=options("a", "b", "c", "d"), answer=["a", "b", "c", "d"])
    response = read_response(order, {"position-a": ["1"], "position-b": ["3"], "position-c": ["2"],
                                      "position-d": ["4"]})
    assert response == {"order": ["a", "c", "b", "d"]}
    assert score(order, response).scaled == 0.75
    with pytest.raises(InvalidResponse):
        read_response(order, {"position-a": ["1"], "position-b": ["1"], "position-c": ["2"], "position-d": ["4"]})


def test_risk_rating_gives_half_a_point_one_step_away():
    rating = item("risk_rating", dimensions=[
        {"id": "threat", "label": {"en": "T"}, "model": 4, "reasoning": {"en": "R"}},
        {"id": "impact", "label": {"en": "I"}, "model": 2, "reasoning": {"en": "R"}}])
    response = read_response(rating, {"rating-threat": ["3"], "rating-impact": ["5"]})
    assert score(rating, response).scaled == 0.25
    with pytest.raises(InvalidResponse):
        read_response(rating, {"rating-threat": ["6"], "rating-impact": ["2"]})


def test_mrz_check_scores_fields_digits_and_verdict_from_the_checker():
    mrz = item("mrz_check", lines=ALTERED, fields=["document_number", "birth_date"], check_digits=True, verdict=True)
    assert mrz.spec["model"]["digits"]["birth_date"] == "5" and mrz.spec["model"]["valid"] is False
    form = {"field-document_number": ["l898902c3"], "field-birth_date": ["12.08.1975"],
            **{f"digit-{k}": [v] for k, v in mrz.spec["model"]["digits"].items()}, "verdict": ["invalid"]}
    result = score(mrz, read_response(mrz, form))
    assert result.success and result.scaled == 1.0
    form["verdict"] = ["valid"]
    assert score(mrz, read_response(mrz, form)).scaled == pytest.approx(7 / 8)
    with pytest.raises(InvalidResponse) as refused:
        read_response(mrz, {**form, "digit-composite": ["x"]})
    # The trainee reads which part is wrong by its label; the form field's name is for the logs.
    assert refused.value.field == "digit-composite"
    assert str(refused.value) == "digit-composite: Check digit: Composite: one digit from 0 to 9 is needed"
    assert "digit-" not in Phrase(refused.value.msgid, **refused.value.values)


@pytest.mark.parametrize("form", [{"choice": ["z"]}, {"choice": []}, {"choice": ["a", "b"]}])
def test_a_choice_that_is_not_an_option_is_refused(form):
    with pytest.raises(InvalidResponse):
        read_response(item("single_choice", options=options("a", "b"), answer="a"), form)


def test_a_dilemma_scores_the_consequence_chosen():
    dilemma = item("dilemma", options=[{"id": "a", "text": {"en": "Take it"}, "score": 0, "consequence": {"en": "x"}},
                                       {"id": "b", "text": {"en": "Refuse"}, "score": 1, "consequence": {"en": "y"}},
                                       {"id": "c", "text": {"en": "Ask"}, "score": 0.5, "consequence": {"en": "z"}}])
    assert score(dilemma, {"choice": "c"}).scaled == 0.5
    assert correct_response(dilemma) == {"choice": "b"}


def test_cloze_gaps_are_small_questions_and_every_language_holds_every_gap():
    cloze = item("cloze", prompt={"en": "Length {{length}}, digit in {{position}}."}, gaps=[
        {"id": "length", "type": "numeric", "answer": 9},
        {"id": "position", "type": "single_choice", "answer": "p10",
         "options": [{"id": "p10", "text": {"en": "10"}}, {"id": "p9", "text": {"en": "9"}}]}])
    response = read_response(cloze, {"length-answer": ["9"], "position-choice": ["p9"]})
    assert score(cloze, response).scaled == 0.5
    assert any("must hold every gap once" in p for p in problems_of(
        "cloze", prompt={"en": "Only {{length}}"}, gaps=[{"id": "length", "type": "numeric", "answer": 9},
                                                        {"id": "other", "type": "numeric", "answer": 1}]))
    assert any("cannot be used here" in p for p in problems_of(
        "cloze", prompt={"en": "{{a}}"}, gaps=[{"id": "a", "type": "ordering"}]))


def test_a_scenario_scores_the_mean_of_its_parts():
    scenario = item("scenario", case={"en": "A coach arrives at 02:40."}, parts=[
        {"type": "true_false", "answer": True, "prompt": {"en": "Q1"}, "feedback": {"en": "f"}},
        {"type": "short_answer", "answers": {"en": ["impostor"], "ru": ["самозванец"]}, "prompt": {"en": "Q2"},
         "feedback": {"en": "f"}}])
    response = read_response(scenario, {"part0-choice": ["false"], "part1-answer": ["  САМОЗВАНЕЦ "]})
    assert score(scenario, response).scaled == 0.5
    assert any("2 to 12" in p for p in problems_of("scenario", case={"en": "x"}, parts=[]))


@pytest.mark.parametrize(("given", "right"), [
    ("să nu faci rău", True), ("urmărire \u015fi localizare", True), ("URMĂRIRE \u015ei LOCALIZARE", True),
    ("SĂ NU FACI RĂU", True),
    ("„să nu faci rău”", True), ("«самовідвід»", True), ('"recusal"', True),
    ("пов'язана особа", True), ("повʼязана особа", True), ("пов’язана особа", True),
    ("İkinci xətt yoxlaması", True), ("İKİNCİ XƏTT YOXLAMASI", True), ("ikinci xətt yoxlaması", True),
    ("сумленнасць і ўзнагарода", True), ("сумленнасць і узнагарода", True), ("СУМЛЕННАСЦЬ І ЎЗНАГАРОДА", True),
    ("сумленнасць i узнагарода", True), ("самовiдвiд", True),
    ("sa nu faci rau", False), ("сумленнасць", False), ("повязана особа", False), ("să nu faci", False),
    ("İkinci xətt", False),
])
def test_a_typed_answer_matches_whatever_the_keyboard_made_of_its_letters_and_quotes(given, right):
    short = item("short_answer", answers={"en": ["recusal"], "ro": ["să nu faci rău", "urmărire și localizare"],
                                          "uk": ["самовідвід", "пов’язана особа"], "az": ["ikinci xətt yoxlaması"],
                                          "be": ["сумленнасць і ўзнагарода"]})
    assert score(short, read_response(short, {"answer": [given]})).success is right


def test_a_unit_typed_with_the_older_romanian_letters_is_the_unit():
    numeric = item("numeric", answer=12, tolerance=0, units=[{"unit": "bucăți", "multiplier": 1}])
    assert score(numeric, read_response(numeric, {"answer": ["12 buc\u0103\u0163i"]})).success


@pytest.mark.parametrize(("given", "right"), [("0.5 kg", True), ("500 g", True), ("0,5", True), ("5", False),
                                             ("half", False), ("0.5 lb", False)])
def test_numeric_answers_with_units_and_a_decimal_comma(given, right):
    numeric = item("numeric", answer=0.5, tolerance=0.01, units=[{"unit": "kg", "multiplier": 1},
                                                                 {"unit": "g", "multiplier": 1000}])
    assert score(numeric, read_response(numeric, {"answer": [given]})).success is right


def test_matching_and_true_false():
    matching = item("matching", pairs=[{"id": "a", "prompt": {"en": "A"}, "match": {"en": "1"}},
                                       {"id": "b", "prompt": {"en": "B"}, "match": {"en": "2"}}],
                    distractors=[{"id": "z", "text": {"en": "3"}}])
    assert score(matching, read_response(matching, {"match-a": ["a"], "match-b": ["z"]})).scaled == 0.5
    with pytest.raises(InvalidResponse):
        read_response(matching, {"match-a": ["nope"], "match-b": ["b"]})
    truth = item("true_false", answer=False)
    assert score(truth, read_response(truth, {"choice": ["false"]})).success


@pytest.mark.parametrize(("answer", "tolerance"), [
    (float("nan"), 0), (float("inf"), 0), (-float("inf"), 0), (10 ** 400, 0), (1e300, 0), (5, float("nan")),
    (5, float("inf")), (5, 10 ** 400),
])
def test_a_numeric_answer_or_tolerance_that_cannot_be_scored_exactly_is_refused(answer, tolerance):
    found = problems_of("numeric", answer=answer, tolerance=tolerance)
    assert any(("answer: must be a finite number" in p) or ("tolerance: must be zero or a positive number of at most" in p)
               for p in found), found


def test_a_numeric_unit_multiplier_must_be_finite():
    assert any("units: must be a list of units" in p
               for p in problems_of("numeric", answer=5, units=[{"unit": "kg", "multiplier": float("inf")}]))
    assert score(item("numeric", answer=10 ** 15, tolerance=0), {"answer": "1000000000000000"}).success


@pytest.mark.parametrize(("kind", "parts", "says"), [
    ("single_choice", {"options": options("a", "b"), "answer": ["a"]}, "answer: ['a'] is not one of the options"),
    ("single_choice", {"options": options("a", "b"), "answer": {"a": 1}}, "is not one of the options"),
    ("single_choice", {"options": [{"id": ["a"], "text": {"en": "A"}}, *options("b")], "answer": "b"},
     "options.0.id: must be lower-case letters"),
    ("multiple_response", {"options": options("a", "b"), "answer": [["a"]]}, "must list the ids of the right options"),
    ("multiple_response", {"options": options("a", "b"), "answer": 1.5}, "must list the ids of the right options"),
    ("dilemma", {"options": 1.5}, "needs at least 2 [[options]] tables"),
    ("mrz_check", {"lines": [None], "check_digits": True}, "must be a list of the MRZ lines"),
    ("mrz_check", {"lines": TD3, "fields": [["surname"]]}, "names fields the MRZ does not have"),
    ("mrz_spot", {"specimens": [{"id": "a", "label": {"en": "A"}, "lines": [{"a": 1}]},
                                {"id": "b", "label": {"en": "B"}, "lines": ALTERED}], "answer": "b"},
     "must be a list of the MRZ lines"),
    ("cloze", {"gaps": [{"type": "numeric", "answer": "x"}]}, "gaps.0.id: must be lower-case letters"),
    ("cloze", {"gaps": [{"id": "g", "type": ["numeric"], "answer": 1}]}, "cannot be used here"),
])
def test_a_value_of_the_wrong_kind_is_a_problem_to_fix_not_a_crash(kind, parts, says):
    found = problems_of(kind, **parts)
    assert any(says in p for p in found), found
    assert not any("holds a value of a kind" in p for p in found), found  # each type's own check saw it


def test_a_definition_no_check_foresaw_still_comes_back_as_a_problem(monkeypatch):
    from ibm_lms.items.registry import TYPES

    def unforeseen(raw, problems):
        raise TypeError("unhashable type: 'list'")

    monkeypatch.setattr(TYPES["true_false"], "parse", unforeseen)
    assert problems_of("true_false", answer=True) == [
        "(file): holds a value of a kind a true_false item cannot take — compare each key with the examples in "
        "docs/course-format.md"]


TYPE_NAMES = item_types()
WRONG_KINDS = [1.5, [["a"]], {"a": 1}, None, [None], "x", float("nan"), 10 ** 400, True, [], [{"a": [1]}], -1]


def _one_of_each_shipped_type() -> dict[str, dict]:
    found: dict[str, dict] = {}
    for path in sorted(ROOT.glob("courses/*/*/*.toml")):
        if path.parent.name in ("questions", "exercises"):
            raw = tomllib.loads(path.read_text())
            found.setdefault(raw["type"], raw)
    return found


def _value_paths(value, prefix=()):
    """Every key and the first two entries of every list, nested."""
    children = value.items() if isinstance(value, dict) else enumerate(value[:2]) if isinstance(value, list) else ()
    for name, child in children:
        yield (*prefix, name)
        yield from _value_paths(child, (*prefix, name))


@pytest.mark.parametrize(("kind", "raw"), sorted(_one_of_each_shipped_type().items()))
def test_any_value_of_a_shipped_definition_replaced_by_a_wrong_kind_is_caught_by_the_types_own_checks(kind, raw):
    assert kind in TYPE_NAMES
    for path in _value_paths(raw):
        if path[0] in ("type", "title", "prompt", "feedback"):
            continue
        for wrong in WRONG_KINDS:
            broken = copy.deepcopy(raw)
            holder = broken
            for name in path[:-1]:
                holder = holder[name]
            holder[path[-1]] = wrong
            found = [p.said() for p in parse_item("x-item", broken)[1]]
            assert not any("holds a value of a kind" in p for p in found), (path, wrong, found)


def test_a_key_no_reader_knows_is_named_once_the_rest_reads_well():
    cloze = {"prompt": {"en": "Give {{n}}."}, "gaps": [{"id": "n", "type": "numeric", "answer": 2, "tolerence": 1}]}
    assert problems_of("cloze", **cloze) == [
        "gaps.0.tolerence: is not a key cloze items have — remove it, or correct its spelling"]
    assert problems_of("single_choice", options=options("a", "b"), answer="a", weight=3, difficulty="hard") == [
        "weight: is not a key single_choice items have — remove it, or correct its spelling",
        "difficulty: is not a key single_choice items have — remove it, or correct its spelling"]
    raw = {"type": "true_false", "outcomes": ["X-1"], "title": {"en": "T"}, "prompt": {"en": "P"},
           "feedback": {"en": "F"}, "answer": True, "difficulty": "hard"}
    assert parse_item("x-item", raw, also=("difficulty",))[1] == []
    # While another problem stands, the reader may have stopped before a key it knows: nothing is called unknown.
    assert problems_of("single_choice", options=options("a", "b"), answer="z", weight=3) == [
        "answer: 'z' is not one of the options — set answer to the id of the right option: 'a', 'b'"]
