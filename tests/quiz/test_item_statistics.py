"""The item statistics page: Moodle's figures over an academy's own attempts, per country and language, as CSV."""

from __future__ import annotations

import csv
import io
import random

import numpy as np
import pytest
from sqlalchemy import select

from ibm_lms.clock import utcnow
from ibm_lms.demo.platform import DEMO_USERS
from ibm_lms.extensions import db
from ibm_lms.quiz import statistics
from ibm_lms.quiz.models import Attempt, Quiz
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.models import User

COURSE, KEY = "anti-corruption", "post-test"
PAGE = f"/authoring/courses/{COURSE}/quizzes/{KEY}/statistics"


def finished_attempts(tenant_id: int, count: int, keys: list[str], rng: random.Random, *, locale: str = "en",
                      skill_shift: float = 0.0) -> list[dict]:
    """Submitted attempts as the quiz records them, from trainees of one academy (scores drawn at random)."""
    quiz = db.session.execute(select(Quiz).where(Quiz.course_slug == COURSE, Quiz.key == KEY)).scalar_one()
    made = []
    for n in range(count):
        user = User(tenant_id=tenant_id, issuer="https://moodle.example", subject=f"t{tenant_id}-{locale}-{n}",
                    created_at=utcnow(), last_seen_at=utcnow())
        db.session.add(user)
        db.session.flush()
        skill = rng.random() + skill_shift
        scores = {key: float(rng.random() < min(0.95, max(0.05, skill - 0.3 + j / 40))) for j, key in enumerate(keys)}
        db.session.add(Attempt(tenant_id=tenant_id, user_id=user.id, quiz_id=quiz.id,
                               quiz_version_id=quiz.current_version_id, number=1, status="finished", open=None,
                               layout=[], started_at=utcnow(), finished_at=utcnow(),
                               score=sum(scores.values()) / len(scores), question_scores=scores, locale=locale))
        made.append(scores)
    db.session.commit()
    return made


@pytest.fixture
def instructor(launcher, client, courses):
    launcher.platform.user = DEMO_USERS["instructor"]
    assert launcher.launch(locale="en").status_code == 303
    return client


def test_the_page_shows_moodles_figures_for_the_academys_own_attempts(instructor):
    rng = random.Random(7)
    keys = [f"ac-q-k{j:02d}" for j in range(12)]
    own_tenant = tenancy.get_tenant("ge-academy").id
    own = finished_attempts(own_tenant, 30, keys, rng, locale="ka") + finished_attempts(own_tenant, 12, keys, rng)
    other = tenancy.ensure_tenant("md-academy", "Moldova border academy").id
    finished_attempts(other, 15, keys, rng, locale="ro", skill_shift=0.4)
    expected, questions = statistics.question_statistics(
        np.array([[a[k] for k in keys] for a in own], dtype=np.float32), np.ones(len(keys)), keys, [None] * 12)
    page = instructor.get(PAGE).get_data(as_text=True)
    assert f'<dd id="stat-attempts">{len(own)}</dd>' in page  # the other academy's trainees are not in the figures
    assert f'<dd id="stat-alpha">{expected.alpha:.2f}</dd>' in page
    for stat in questions:
        assert f'<tr id="stat-{stat.key}">' in page
    assert "Moldova border academy" in page and "Facility index by language of the attempt" in page
    rows = list(csv.reader(io.StringIO(instructor.get(f"{PAGE}?format=csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["Slot", "Question", "Attempts", "Facility index (%)"]
    by_key = {row[1]: row for row in rows[1:] if len(row) == 10}
    for stat in questions:
        assert by_key[stat.key][3] == f"{stat.facility:.2f}"
        assert by_key[stat.key][8] == ("" if stat.discrimination_index is None else f"{stat.discrimination_index:.2f}")


def test_a_country_with_few_attempts_is_not_shown_beside_the_others(instructor):
    rng = random.Random(3)
    keys = ["ac-q-a", "ac-q-b", "ac-q-c"]
    finished_attempts(tenancy.get_tenant("ge-academy").id, 20, keys, rng)
    finished_attempts(tenancy.ensure_tenant("am-academy", "Armenia border academy").id, 9, keys, rng)
    page = instructor.get(PAGE).get_data(as_text=True)
    assert "Armenia border academy" not in page and "Facility index by country" not in page


def test_with_no_attempt_the_page_says_so(instructor):
    page = instructor.get(PAGE).get_data(as_text=True)
    assert "No attempt has been submitted yet." in page and '<dd id="stat-attempts">0</dd>' in page
    assert "<h1>Item statistics: Post-test</h1>" in page  # the quiz's title, not its id


def test_a_learner_cannot_read_item_statistics(launcher, client, courses):
    assert launcher.launch(locale="en").status_code == 303
    assert client.get(PAGE).status_code == 403


@pytest.mark.parametrize(("which", "kept"), [("all", (0, 1, 2, 3, 4, 5)), ("first", (0, 2, 4)), ("last", (1, 3, 5)),
                                             ("highest", (1, 2, 5))])
def test_one_attempt_per_trainee_is_counted_as_moodle_chooses_it(instructor, monkeypatch, which, kept):
    from ibm_lms.quiz import analysis

    monkeypatch.setattr(analysis, "CHUNK", 2)  # the attempts are read in several chunks
    keys = ["ac-q-a", "ac-q-b"]
    tenant_id = tenancy.get_tenant("ge-academy").id
    quiz = db.session.execute(select(Quiz).where(Quiz.course_slug == COURSE, Quiz.key == KEY)).scalar_one()
    # Three trainees with two attempts each; (score of a, score of b) per attempt, in attempt order.
    marks = [(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
    for person in range(3):
        user = User(tenant_id=tenant_id, issuer="https://moodle.example", subject=f"twice-{person}",
                    created_at=utcnow(), last_seen_at=utcnow())
        db.session.add(user)
        db.session.flush()
        for number in (1, 2):
            a, b = marks[person * 2 + number - 1]
            db.session.add(Attempt(tenant_id=tenant_id, user_id=user.id, quiz_id=quiz.id,
                                   quiz_version_id=quiz.current_version_id, number=number, status="finished",
                                   open=None, layout=[], started_at=utcnow(), finished_at=utcnow(),
                                   score=(a + b) / 2, question_scores={"ac-q-a": a, "ac-q-b": b}, locale="en"))
    db.session.commit()
    report = analysis.report(quiz, tenant_id, {tenant_id: "ge"}, which)
    expected, _ = statistics.question_statistics(
        np.array([marks[i] for i in kept], dtype=np.float32), np.ones(2), keys, [None, None])
    assert report.quiz.attempts == len(kept)
    assert report.quiz.mean == pytest.approx(expected.mean)
    assert [q.key for q in report.questions] == keys
