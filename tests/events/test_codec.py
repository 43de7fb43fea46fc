"""Events kept as JSON data (a queued event) read back as the same event, and nothing else read back."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from ibm_lms.events import DomainEvent, codec
from ibm_lms.events.catalogue import LearningEvent

# One value per field name a catalogue event has: the test fails when an event gains a field it does not know.
VALUES = {
    "tenant_id": 3, "event_id": "5e0c1a52-33a3-4bb0-9f4f-1f4e0d4f0a11",
    "occurred_at": datetime(2026, 12, 4, 6, 30, 15, 123456, tzinfo=UTC), "user_id": 7, "issuer": "https://lms.ge",
    "subject": "a1", "role": "learner", "locale": "ka", "message_type": "LtiResourceLinkRequest", "context_id": 11,
    "resource_link_id": None, "target_link_uri": "https://tool/courses/", "course_slug": "anti-corruption",
    "course_version": 2, "lesson_key": "l1", "lesson_version": 1, "module_key": "m1", "duration_seconds": 95,
    "score_scaled": 0.75, "exercise_key": "e1", "exercise_version": 4, "item_type": "matching",
    "response": {"pairs": [["a", "b"]]}, "success": False, "attempt": 2, "min_score": 0.7, "quiz_key": "final-exam",
    "quiz_version": 3, "quiz_kind": "exam", "attempt_id": 41, "attempt_number": 1, "questions": 40,
    "grade_scaled": 0.8, "grading": "highest", "pass_mark": 0.7, "passed": True, "expired": False,
    "answers": ({"slot": 0, "question_key": "q1", "question_version": 1, "question_version_id": 9,
                 "item_type": "ordering", "response": {"order": ["b", "a"]}, "score": 0.5},
                {"slot": 1, "question_key": "q2", "question_version": 2, "question_version_id": 10,
                 "item_type": "numeric", "response": None, "score": 0.0}),
    "previous_grade_scaled": None, "overridden": True, "by_user_id": 8,
}


def _kinds(base=DomainEvent):
    for kind in base.__subclasses__():
        yield kind
        yield from _kinds(kind)


# The catalogue's events (tests elsewhere define events of their own; the codec reads back only the catalogue's).
CONCRETE = [kind for kind in _kinds() if kind is not LearningEvent and kind.__module__ == LearningEvent.__module__]


@pytest.mark.parametrize("kind", CONCRETE, ids=lambda kind: kind.__name__)
def test_every_event_survives_json_and_comes_back_equal(kind):
    event = kind(**{entry.name: VALUES[entry.name] for entry in dataclasses.fields(kind)})
    stored = json.loads(json.dumps(codec.to_data(event)))
    assert codec.from_data(codec.kind_of(event), stored) == event


def test_a_payload_naming_no_catalogue_event_is_refused():
    with pytest.raises(codec.UnknownEvent, match=r"'os\.system'"):
        codec.from_data("os.system", {"tenant_id": 1})


def test_a_payload_with_fields_the_event_does_not_have_is_refused():
    kind = CONCRETE[0]
    data = codec.to_data(kind(**{entry.name: VALUES[entry.name] for entry in dataclasses.fields(kind)}))
    with pytest.raises(codec.UnknownEvent, match="fields"):
        codec.from_data(kind.__name__, {**data, "extra": 1})
    del data["tenant_id"]
    with pytest.raises(codec.UnknownEvent, match="fields"):
        codec.from_data(kind.__name__, data)
