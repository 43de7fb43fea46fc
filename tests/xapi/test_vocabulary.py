"""The vocabulary, without a database: every shipped question and exercise makes a valid interaction, and each
kind of event makes the statements kept under tests/fixtures/xapi/ (set IBM_LMS_UPDATE_GOLDEN=1 to rewrite them
after a deliberate change, and read the diff)."""

from __future__ import annotations

import json
import os
import tomllib
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from ibm_lms.events import (
    CourseCompleted,
    ExerciseAnswered,
    LaunchCompleted,
    LessonCompleted,
    LessonViewed,
    ModuleCompleted,
    QuizAttemptStarted,
    QuizAttemptSubmitted,
    QuizGradeOverridden,
)
from ibm_lms.items.service import Item, correct_response, parse_item, score
from ibm_lms.memo import Memo
from ibm_lms.quiz.banks import METADATA_KEYS
from ibm_lms.xapi import vocabulary
from ibm_lms.xapi.validation import problems
from tests.conftest import ROOT

GOLDEN = Path(__file__).parent.parent / "fixtures" / "xapi"
BASE = "https://tool.example"
SETTING = vocabulary.Setting(base_url=BASE, actor=vocabulary.Actor(home_page="https://moodle.example",
                                                                   name="0f3a9c1d5e7b4a2c8d6e1f0a9b8c7d6e"),
                             tenant="ge-academy", country="GE", lti_context="course-42")
WHEN = datetime(2026, 5, 4, 9, 30, 15, 250000, tzinfo=UTC)
WHERE = {"tenant_id": 3, "user_id": 7, "context_id": 11, "resource_link_id": 5, "locale": "ka",
         "course_slug": "anti-corruption", "course_version": 2, "occurred_at": WHEN}


def shipped_items() -> list:
    found = []
    for path in sorted(ROOT.glob("courses/*/questions/*.toml")) + sorted(ROOT.glob("courses/*/exercises/*.toml")):
        item, found_problems = parse_item(path.stem, tomllib.loads(path.read_text(encoding="utf8")),
                                          also=METADATA_KEYS)
        assert item is not None, (path, found_problems)
        found.append(pytest.param(item, id=f"{path.parent.parent.name}/{path.stem}"))
    return found


def answered(item, response, score_scaled: float) -> dict:
    event = ExerciseAnswered(**WHERE, lesson_key="a-lesson", exercise_key=item.key, exercise_version=1,
                             item_type=item.type, response=response, score_scaled=score_scaled,
                             success=score_scaled >= 1, attempt=1, duration_seconds=40,
                             event_id="6d1c8f3e-0a2b-4c5d-8e9f-1a2b3c4d5e6f")
    [statement] = vocabulary.exercise_answered(event, SETTING, vocabulary.Names(items={item.key: item}))
    return statement


@pytest.mark.parametrize("item", shipped_items())
def test_every_shipped_item_answered_rightly_is_a_valid_interaction_whose_response_is_right(item):
    right = correct_response(item)
    assert score(item, right).scaled == 1.0
    statement = answered(item, right, 1.0)
    assert problems(statement) == []
    definition, response = statement["object"]["definition"], statement["result"]["response"]
    if definition["interactionType"] in ("choice", "true-false", "sequencing", "matching"):
        # The right answer in the interaction's own format is its correct response pattern, pair order aside.
        assert sorted(response.split("[,]")) in [sorted(p.split("[,]")) for p in definition["correctResponsesPattern"]]
    elif definition["interactionType"] == "other":
        assert json.loads(response) == right
    elif definition["interactionType"] == "numeric":
        low, _, high = definition["correctResponsesPattern"][0].partition("[:]")
        assert float(low) <= float(response) <= float(high or low)
        assert statement["result"]["extensions"][f"{BASE}/xapi/extensions/typed-answer"] == right["answer"]


def test_a_numeric_answer_goes_as_the_number_in_the_model_answers_unit_and_as_typed():
    item = parse_item("dt-weight", {"type": "numeric", "outcomes": ["DT-1"], "title": {"en": "Weight"},
                                    "prompt": {"en": "Net weight?"}, "feedback": {"en": "Weigh it."}, "answer": 1.5,
                                    "tolerance": 0.1, "units": [{"unit": "kg", "multiplier": 1},
                                                                {"unit": "g", "multiplier": 1000}]})[0]
    in_grams = answered(item, {"answer": "1480 g"}, 1.0)
    assert in_grams["result"]["response"] == "1.48" and problems(in_grams) == []
    unreadable = answered(item, {"answer": "about one and a half"}, 0.0)
    assert "response" not in unreadable["result"] and problems(unreadable) == []
    assert unreadable["result"]["extensions"][f"{BASE}/xapi/extensions/typed-answer"] == "about one and a half"


def test_the_interaction_types_cover_every_item_type():
    kinds = {}
    for param in shipped_items():
        item = param.values[0]
        kinds[item.type] = answered(item, correct_response(item), 1.0)["object"]["definition"]["interactionType"]
    assert kinds == {"single_choice": "choice", "mrz_spot": "choice", "dilemma": "choice",
                     "multiple_response": "choice", "true_false": "true-false", "matching": "matching",
                     "risk_rating": "matching", "ordering": "sequencing", "numeric": "numeric",
                     "short_answer": "fill-in", "cloze": "other", "scenario": "other", "mrz_check": "other"}


def golden_events() -> dict[str, tuple]:
    names = vocabulary.Names(course={"en": "Anti-corruption", "ka": "ანტიკორუფცია"},
                             course_description={"en": "Integrity at the border."},
                             modules={"m1": {"en": "Risks"}}, lessons={"gifts": {"en": "Gifts and hospitality"}},
                             quiz={"en": "Final exam"})
    question = parse_item("ac-q-gift", {
        "type": "multiple_response", "outcomes": ["AC-2"], "title": {"en": "Gifts"},
        "prompt": {"en": "Which may an officer accept?"}, "feedback": {"en": "See the code of conduct."},
        "answer": ["a"], "options": [{"id": "a", "text": {"en": "A pen at a conference"}},
                                     {"id": "b", "text": {"en": "Cash"}},
                                     {"id": "c", "text": {"en": "A bottle from a broker"}}]})[0]
    assert question is not None
    with_item = vocabulary.Names(**{**names.__dict__, "items": {"ac-q-gift": question}})
    event_id = {"event_id": "0b9e2a4c-1d3f-4e5a-9b8c-7d6e5f4a3b2c"}
    return {
        "launched": (vocabulary.launched, LaunchCompleted(
            tenant_id=3, user_id=7, issuer="https://moodle.example", subject="2", role="Learner", locale="ka",
            message_type="LtiResourceLinkRequest", context_id=11, resource_link_id=5,
            target_link_uri=BASE + "/courses/anti-corruption", occurred_at=WHEN, **event_id), None),
        "experienced": (vocabulary.lesson_viewed, LessonViewed(
            **WHERE, lesson_key="gifts", lesson_version=3, module_key="m1", **event_id), names),
        "lesson-completed": (vocabulary.lesson_completed, LessonCompleted(
            **WHERE, lesson_key="gifts", lesson_version=3, module_key="m1", duration_seconds=754, score_scaled=0.75,
            **event_id), names),
        "module-completed": (vocabulary.module_completed, ModuleCompleted(**WHERE, module_key="m1", **event_id),
                             names),
        "course-completed": (vocabulary.course_completed, CourseCompleted(
            **WHERE, score_scaled=0.8, min_score=0.7, duration_seconds=5400, **event_id), names),
        "initialized": (vocabulary.quiz_started, QuizAttemptStarted(
            **WHERE, quiz_key="final-exam", quiz_version=1, quiz_kind="exam", attempt_id=99, attempt_number=2,
            questions=2, **event_id), names),
        "quiz-submitted": (partial(vocabulary.quiz_submitted, interactions=Memo(16)), QuizAttemptSubmitted(
            **WHERE, quiz_key="final-exam", quiz_version=1, quiz_kind="exam", attempt_id=99, attempt_number=2,
            score_scaled=0.5, grade_scaled=0.5, grading="highest", pass_mark=0.7, passed=False, expired=False,
            duration_seconds=1210, answers=(
                {"slot": 0, "question_key": "ac-q-gift", "question_version": 2, "question_version_id": 31,
                 "item_type": "multiple_response", "response": {"choices": ["a"]}, "score": 1.0},
                {"slot": 1, "question_key": "ac-q-gift", "question_version": 2, "question_version_id": 31,
                 "item_type": "multiple_response", "response": None, "score": 0.0}), **event_id), with_item),
        "grade-overridden": (partial(vocabulary.grade_overridden, instructor=vocabulary.Actor(
            home_page="https://moodle.example", name="pseudonym-of-the-instructor")), QuizGradeOverridden(
            **WHERE, quiz_key="final-exam", quiz_kind="exam", grade_scaled=0.8, previous_grade_scaled=0.5,
            overridden=True, pass_mark=0.7, passed=True, by_user_id=8, **event_id), names),
    }


@pytest.mark.parametrize("name", list(golden_events()))
def test_each_event_makes_the_statements_kept_as_golden_files(name):
    build, event, names = golden_events()[name]
    made = build(event, SETTING) if names is None else build(event, SETTING, names)
    assert all(problems(statement) == [] for statement in made)
    path = GOLDEN / f"{name}.json"
    text = json.dumps(made, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if os.environ.get("IBM_LMS_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf8")
    assert path.read_text(encoding="utf8") == text, f"{path} differs: rerun with IBM_LMS_UPDATE_GOLDEN=1 and review"


def test_the_same_event_makes_the_same_ids_and_another_event_other_ids():
    build, event, names = golden_events()["quiz-submitted"]
    first, again = build(event, SETTING, names), build(event, SETTING, names)
    assert [s["id"] for s in first] == [s["id"] for s in again]
    assert len({s["id"] for s in first}) == len(first)
    other = build(type(event)(**{**event.__dict__, "event_id": "1c0f3b5d-2e4a-4f6b-8c9d-0e1f2a3b4c5d"}), SETTING,
                  names)
    assert not {s["id"] for s in first} & {s["id"] for s in other}
    # One attempt, one registration, whatever the event: started and submitted share it.
    started = golden_events()["initialized"]
    [initialized] = started[0](started[1], SETTING, started[2])
    assert {s["context"]["registration"] for s in first} == {initialized["context"]["registration"]}


def test_a_launch_on_a_link_seen_before_has_its_own_id_actor_and_time_and_the_rest_as_built_afresh():
    build, event, _ = golden_events()["launched"]
    build(event, SETTING)  # the link, role and language are now known
    other = type(event)(**{**event.__dict__, "event_id": "1c0f3b5d-2e4a-4f6b-8c9d-0e1f2a3b4c5d", "user_id": 8,
                           "subject": "3", "occurred_at": datetime(2026, 5, 6, 7, 8, 9, 250000)})
    someone_else = type(SETTING)(**{**SETTING.__dict__, "actor": vocabulary.Actor(home_page="https://moodle.example",
                                                                                   name="pseudonym-of-3")})
    [warm] = build(other, someone_else)
    vocabulary._launch_shape.cache_clear()
    [cold] = build(other, someone_else)
    assert warm == cold
    [first] = build(event, SETTING)
    assert (warm["id"], warm["actor"]["account"]["name"], warm["timestamp"]) != (
        first["id"], first["actor"]["account"]["name"], first["timestamp"])
    assert warm["timestamp"] == "2026-05-06T07:08:09.250000+00:00"
    assert problems(warm) == []


@pytest.mark.parametrize(("item_type", "response"), [
    ("multiple_response", {"choices": []}), ("matching", {"matches": {"a": ""}}), ("single_choice", {"choice": None}),
    ("true_false", {}), ("numeric", {"answer": None}), ("ordering", {"order": []}), ("cloze", None)])
def test_a_response_with_nothing_in_it_is_no_response(item_type, response):
    item = Item(key="k", type=item_type, outcomes=("X-1",), title={}, prompt={}, feedback={}, spec={})
    assert vocabulary.response_text(item, response) is None


def test_each_question_version_is_described_by_its_own_definition():
    build, event, names = golden_events()["quiz-submitted"]
    [first, *_] = build(event, SETTING, names)
    # Version 3 of the same question, reworded with one choice fewer.
    changed = parse_item("ac-q-gift", {
        "type": "multiple_response", "outcomes": ["AC-2"], "title": {"en": "Gifts"},
        "prompt": {"en": "Which gift may be kept?"}, "feedback": {"en": "See the code of conduct."},
        "answer": ["a"], "options": [{"id": "a", "text": {"en": "A pen at a conference"}},
                                     {"id": "b", "text": {"en": "Cash"}}]})[0]
    newer = type(event)(**{**event.__dict__, "event_id": "2d1f4c6e-3f5b-4a7c-9d0e-1f2a3b4c5d6e", "answers": tuple(
        {**answer, "question_version": 3, "question_version_id": 32} for answer in event.answers)})
    [second, *_] = build(newer, SETTING, vocabulary.Names(**{**names.__dict__, "items": {"ac-q-gift": changed}}))
    assert first["object"]["definition"]["description"] == {"en": "Which may an officer accept?"}
    assert second["object"]["definition"]["description"] == {"en": "Which gift may be kept?"}
    assert [c["id"] for c in second["object"]["definition"]["choices"]] == ["a", "b"]
    assert problems(second) == []


def test_a_launch_names_the_activity_it_opens_and_never_redefines_it():
    """xAPI 1.0.3 Data 2.4.4.1: an activity id always references the same activity. The link's target is the
    course's (or quiz's) own id, so the launch must not describe it as something else."""
    build, event, _ = golden_events()["launched"]
    [launched] = build(event, SETTING)
    completed, course_event, names = golden_events()["course-completed"]
    [course] = completed(course_event, SETTING, names)
    assert launched["object"]["id"] == course["object"]["id"] == event.target_link_uri
    assert "definition" not in launched["object"]
