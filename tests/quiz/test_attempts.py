"""A trainee's attempt, through the pages and posts a browser sends: start, autosave, resume, submit, review."""

from __future__ import annotations

import html
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import select, update

from ibm_lms.clock import utcnow
from ibm_lms.demo.platform import LEARNER, DemoUser
from ibm_lms.events import QuizAttemptStarted, QuizAttemptSubmitted
from ibm_lms.extensions import db
from ibm_lms.quiz.models import Attempt, AttemptAnswer
from ibm_lms.quiz.versions import item_of
from ibm_lms.unit_of_work import event_bus
from tests.conftest import ROOT, TOOL_BASE_URL, error_code, take_out_locale, translated

from .helpers import attempt_id_of, csrf_of, right_fields

COURSE = "anti-corruption"
QUIZZES = f"/courses/{COURSE}/quizzes"

TIMED = """
kind = "exam"
time_limit_minutes = 10
attempts = 1
review = { after_submit = "score", after_close = "answers" }
title = { en = "Timed check", ru = "Проверка на время" }
[[draw]]
count = 4
"""

TWICE = """
kind = "post_test"
attempts = 2
grading = "highest"
review = { after_submit = "score", after_close = "answers" }
title = { en = "Twice", ru = "Дважды" }
[[draw]]
count = 3
"""


PARTS = """
kind = "practice"
shuffle_questions = false
review = { after_submit = "answers", after_close = "answers" }
title = { en = "Parts", ru = "Части" }
[[draw]]
questions = ["ac-q-arusha-matching-culture", "ac-q-bribery-cloze", "ac-q-coi-declaration-steps",
             "ac-q-scenario-brokerage"]
"""

# One true/false question among others, so the order test never depends on what a random draw picked.
STATEMENTS = """
kind = "practice"
shuffle_questions = false
review = { after_submit = "answers", after_close = "answers" }
title = { en = "Statements", ru = "Утверждения" }
[[draw]]
questions = ["ac-q-bribery-cloze", "ac-q-coi-not-offence"]
"""


@pytest.fixture
def course_folder(app, tmp_path) -> Path:
    """The shipped course with two quizzes of its own settings, loaded as `content load` would."""
    from ibm_lms.content import service

    folder = tmp_path / "courses"
    shutil.copytree(ROOT / "courses" / COURSE, folder / COURSE)
    (folder / COURSE / "quizzes" / "timed.toml").write_text(TIMED)
    (folder / COURSE / "quizzes" / "twice.toml").write_text(TWICE)
    (folder / COURSE / "quizzes" / "parts.toml").write_text(PARTS)
    (folder / COURSE / "quizzes" / "statements.toml").write_text(STATEMENTS)
    service.load(folder)
    return folder


@pytest.fixture
def events(app):
    seen = []
    event_bus(app).subscribe(QuizAttemptStarted, seen.append)
    event_bus(app).subscribe(QuizAttemptSubmitted, seen.append)
    return seen


@pytest.fixture
def trainee(launcher, client, course_folder):
    assert launcher.launch(locale="en").status_code == 303
    return client


def start(client, key: str):
    page = client.get(f"{QUIZZES}/{key}").get_data(as_text=True)
    return client.post(f"{QUIZZES}/{key}/attempts", data={"csrf_token": csrf_of(page)})


def started(client, key: str) -> tuple[Attempt, str]:
    response = start(client, key)
    assert response.status_code == 303, response.get_data(as_text=True)[-500:]
    attempt = db.session.get(Attempt, attempt_id_of(response))
    return attempt, client.get(f"/quiz/attempts/{attempt.id}").get_data(as_text=True)


def save(client, attempt: Attempt, page: str, fields: dict, sequence: int, **extra):
    return client.post(f"/quiz/attempts/{attempt.id}/save", headers={"Accept": "application/json"},
                       data={**fields, "csrf_token": csrf_of(page), "sequence": str(sequence), **extra})


def all_right(attempt: Attempt) -> dict:
    fields = {}
    for slot, entry in enumerate(attempt.layout):
        fields.update(right_fields(item_of(entry["version_id"]), slot))
    return fields


def test_the_course_page_leads_to_its_quizzes_by_kind(trainee):
    course = trainee.get(f"/courses/{COURSE}").get_data(as_text=True)
    assert f'href="{QUIZZES}/"' in course
    listing = trainee.get(f"{QUIZZES}/").get_data(as_text=True)
    for key in ("pre-test", "post-test", "final-exam", "practice", "timed"):
        assert f'href="{QUIZZES}/{key}"' in listing
    assert listing.index("Pre-test: what you know") < listing.index("Final exam")


def test_an_attempt_shows_every_drawn_question_with_the_fields_its_reader_expects(trainee, events):
    attempt, page = started(trainee, "final-exam")
    assert len(attempt.layout) == len({e["key"] for e in attempt.layout}) >= 18
    for name in all_right(attempt):
        assert f'name="{name}"' in page, name
    assert [type(e) for e in events] == [QuizAttemptStarted]
    # Opening the quiz again while the attempt is open continues it; a second click makes no second attempt.
    assert attempt_id_of(start(trainee, "final-exam")) == attempt.id
    assert len(db.session.execute(select(Attempt)).all()) == 1


def test_questions_shown_in_a_fallback_language_say_so_once_and_are_marked_as_that_language(launcher, client,
                                                                                           course_folder):
    from ibm_lms.content import service

    take_out_locale(course_folder / COURSE, "hy")  # the bank as it is before its Armenian translation
    service.load(course_folder)
    assert launcher.launch(locale="hy").status_code == 303
    quiz_page = client.get(f"{QUIZZES}/practice").get_data(as_text=True)
    note = translated("hy", "Not yet translated into %(language)s: shown in %(shown)s.") % {
        "language": "Հայերեն", "shown": "Русский"}
    attempt, page = started(client, "practice")
    assert page.count('class="fallback-note"') == 1 and note in html.unescape(page)
    prompts = re.findall(r'<div class="prompt[^"]*"([^>]*)>', page)  # a scenario's parts have prompts of their own
    assert len(prompts) >= len(attempt.layout) and set(prompts) == {' lang="ru"'}
    # So is what the trainee chooses from: every step, pair and answer text shown in Russian (a quiz of fixed
    # questions, so that there are such texts whatever a random draw would pick).
    _, parts = started(client, "parts")
    questions = parts[parts.index('<fieldset class="question"'):]
    # A cloze's lists sit inside its prompt, whose lang they inherit.
    assert re.search(r'<div class="prompt cloze" lang="ru">', questions)
    questions = re.sub(r'<div class="prompt cloze" lang="ru">.*?</div>', "", questions, flags=re.S)
    russian = [attrs for attrs, text in re.findall(r'<(?:label for="q\d+-[^"]*"|legend|option value="[^"]*")([^>]*)>'
                                                   r'([^<]*)<', questions) if re.search("[а-яА-Я]", text)]
    assert len(russian) >= 3 and set(russian) == {' lang="ru"'}, russian
    assert note in html.unescape(quiz_page)
    listed = html.unescape(client.get(f"{QUIZZES}/").get_data(as_text=True))
    assert listed.count('class="fallback-note"') == 1 and note in listed and ' lang="ru">' in listed
    assert launcher.launch(locale="ru").status_code == 303
    assert 'class="fallback-note"' not in client.get(f"/quiz/attempts/{attempt.id}").get_data(as_text=True)


def test_an_autosave_keeps_the_newest_answer_whatever_order_they_arrive_in(trainee):
    attempt, page = started(trainee, "statements")
    slot = next(s for s, e in enumerate(attempt.layout) if item_of(e["version_id"]).type == "true_false")
    right = right_fields(item_of(attempt.layout[slot]["version_id"]), slot)
    wrong = {name: ["true" if values == ["false"] else "false"] for name, values in right.items()}
    assert save(trainee, attempt, page, right, 7).get_json() == {"saved": [slot]}
    # A retry of an older save, arriving late, must not undo the newer answer.
    assert save(trainee, attempt, page, wrong, 6).get_json() == {"saved": []}
    [answer] = db.session.execute(select(AttemptAnswer)).scalars().all()
    assert (answer.sequence, answer.response["choice"]) == (7, right[f"q{slot}-choice"] == ["true"])


def test_a_question_sent_empty_that_was_never_answered_leaves_nothing_behind(trainee):
    attempt, page = started(trainee, "statements")
    slot = next(s for s, e in enumerate(attempt.layout) if item_of(e["version_id"]).type == "true_false")
    right = right_fields(item_of(attempt.layout[slot]["version_id"]), slot)
    # The whole form posted (the page without its script): an untouched question comes empty.
    assert save(trainee, attempt, page, {name: [""] for name in right}, 5).get_json() == {"saved": []}
    assert db.session.execute(select(AttemptAnswer)).scalars().all() == []
    assert save(trainee, attempt, page, right, 6).get_json() == {"saved": [slot]}
    assert save(trainee, attempt, page, {name: [""] for name in right}, 7).get_json() == {"saved": [slot]}
    [answer] = db.session.execute(select(AttemptAnswer)).scalars().all()
    assert (answer.slot, answer.response, answer.sequence) == (slot, None, 7)
    # Answered again, then an older clearing arrives late: the newer answer stays.
    assert save(trainee, attempt, page, right, 9).get_json() == {"saved": [slot]}
    assert save(trainee, attempt, page, {name: [""] for name in right}, 8).get_json() == {"saved": []}
    db.session.expire_all()
    [answer] = db.session.execute(select(AttemptAnswer)).scalars().all()
    assert (answer.sequence, answer.response is not None) == (9, True)


def test_question_and_quiz_versions_are_read_once_then_starts_pages_saves_and_submits_use_them_from_memory(
        trainee, app):
    from sqlalchemy import event

    attempt, page = started(trainee, "statements")
    read_versions = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "quiz_question_versions" in statement or "quiz_versions" in statement:
            read_versions.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        slot = next(s for s, e in enumerate(attempt.layout) if item_of(e["version_id"]).type == "true_false")
        assert save(trainee, attempt, page, right_fields(item_of(attempt.layout[slot]["version_id"]), slot),
                    1).get_json() == {"saved": [slot]}
        assert trainee.get(f"/quiz/attempts/{attempt.id}").status_code == 200
        assert trainee.post(f"/quiz/attempts/{attempt.id}/submit",
                            data={"csrf_token": csrf_of(page)}).status_code == 303
        again, _ = started(trainee, "statements")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert again.id != attempt.id
    assert read_versions == []


def test_once_a_server_knows_an_attempt_a_save_is_one_statement_that_checks_the_attempt_itself(trainee,
                                                                                                monkeypatch):
    from sqlalchemy import event

    from ibm_lms import database

    attempt, page = started(trainee, "practice")
    fields = [right_fields(item_of(entry["version_id"]), slot) for slot, entry in enumerate(attempt.layout)]
    assert save(trainee, attempt, page, fields[0], 1).status_code == 200
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(str(statement))

    run = database._run  # the cursor path: hot statements bypass Core's events

    def counted_run(dialect, connection, statement, params):
        statements.append(str(statement.compile(dialect=dialect)))
        return run(dialect, connection, statement, params)

    monkeypatch.setattr(database, "_run", counted_run)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert save(trainee, attempt, page, fields[1], 2).get_json() == {"saved": [1]}
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    [write] = statements
    assert write.lstrip().upper().startswith("INSERT INTO QUIZ_ATTEMPT_ANSWERS") and "FROM quiz_attempts" in write


def test_a_lost_connection_loses_nothing_and_a_new_launch_resumes_the_attempt(trainee, launcher, client):
    attempt, page = started(trainee, "final-exam")
    fields = all_right(attempt)
    first_half = {k: v for k, v in fields.items() if int(k[1:].split("-")[0]) < len(attempt.layout) // 2}
    assert save(trainee, attempt, page, first_half, 1).status_code == 200
    client._cookies.clear()
    assert launcher.launch(locale="en").status_code == 303
    quiz_page = client.get(f"{QUIZZES}/final-exam").get_data(as_text=True)
    assert f'href="/quiz/attempts/{attempt.id}"' in quiz_page and 'id="resume-attempt"' in quiz_page
    resumed = client.get(f"/quiz/attempts/{attempt.id}").get_data(as_text=True)
    for name, values in first_half.items():
        if name.endswith("-choice") or name.endswith("-choices"):
            for value in values:  # a radio or box checked, or (a cloze gap) a list with the option selected
                assert (re.search(rf'name="{name}" value="{value}"[^>]*checked', resumed)
                        or re.search(rf'name="{name}"[^>]*>(?:(?!</select>).)*<option value="{value}" selected>',
                                     resumed, re.S)), name
        elif name.endswith("-answer"):
            assert re.search(rf'name="{name}" value="{re.escape(escape(values[0]))}"', resumed), name
    assert f"{len(attempt.layout) // 2} of {len(attempt.layout)} answered" in resumed


def test_a_full_marks_attempt_is_scored_published_once_and_reviewed_by_its_settings(trainee, events):
    attempt, page = started(trainee, "twice")
    save(trainee, attempt, page, all_right(attempt), 1)
    first = trainee.post(f"/quiz/attempts/{attempt.id}/submit", data={"csrf_token": csrf_of(page)})
    again = trainee.post(f"/quiz/attempts/{attempt.id}/submit", data={"csrf_token": csrf_of(page)})
    assert first.status_code == again.status_code == 303
    submitted = [e for e in events if isinstance(e, QuizAttemptSubmitted)]
    assert len(submitted) == 1
    event = submitted[0]
    assert (event.score_scaled, event.grade_scaled, event.passed, event.attempt_number) == (1.0, 1.0, True, 1)
    assert len(event.answers) == 3 and all(a["score"] == 1.0 for a in event.answers)
    review = trainee.get(f"/quiz/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "Your score: 100%" in review
    # One attempt is left: the settings show only the score until none is.
    assert "The right answer" not in review and 'class="review-question"' not in review
    second, page = started(trainee, "twice")
    trainee.post(f"/quiz/attempts/{second.id}/submit", data={"csrf_token": csrf_of(page)})
    review = trainee.get(f"/quiz/attempts/{second.id}/review").get_data(as_text=True)
    assert "Your score: 0%" in review and "The right answer" in review and review.count("Not answered.") == 3
    grades = [e.grade_scaled for e in events if isinstance(e, QuizAttemptSubmitted)]
    assert grades == [1.0, 1.0]  # highest of 1.0 and 0.0
    assert error_code(start(trainee, "twice")) == "no_attempt_left"


def test_an_answer_in_progress_is_kept_shown_again_and_scored_by_the_parts_given(trainee):
    attempt, page = started(trainee, "parts")
    halves = {}
    for slot, entry in enumerate(attempt.layout):
        fields = sorted(right_fields(item_of(entry["version_id"]), slot).items())
        halves[slot] = dict(fields[: max(1, len(fields) // 2)])
    assert save(trainee, attempt, page, {k: v for half in halves.values() for k, v in half.items()},
                1).get_json() == {"saved": [0, 1, 2, 3]}
    answers = db.session.execute(select(AttemptAnswer).order_by(AttemptAnswer.slot)).scalars().all()
    assert [a.complete for a in answers] == [False] * 4
    shown = trainee.get(f"/quiz/attempts/{attempt.id}").get_data(as_text=True)
    assert "0 of 4 answered" in shown and "4 answers not complete" in shown
    for name, [value] in halves[0].items():  # the matching question's lists show what was chosen
        assert re.search(rf'name="{name}".*?<option value="{value}" selected>', shown, re.S), name
    # Clearing a question's fields clears its answer; a late copy of the old save cannot bring it back.
    cleared = {name: [""] for name in halves[1]}
    assert save(trainee, attempt, page, cleared, 3).get_json() == {"saved": [1]}
    assert save(trainee, attempt, page, halves[1], 2).get_json() == {"saved": []}
    assert trainee.post(f"/quiz/attempts/{attempt.id}/submit", data={"csrf_token": csrf_of(page)}).status_code == 303
    db.session.expire_all()
    scores = {a.slot: a.score for a in db.session.execute(select(AttemptAnswer)).scalars() if a.response}
    assert 1 not in scores and all(0 < scores[slot] < 1 for slot in (0, 3)), scores
    review = trainee.get(f"/quiz/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "Not every part was answered." in review and "Not answered." in review


def test_another_trainees_attempt_is_not_there(trainee, launcher, app):
    attempt, _ = started(trainee, "practice")
    other = app.test_client()
    launcher.client = other
    launcher.platform.user = DemoUser("other-trainee", "Ana", "Rusu", "ana@demo.invalid", (LEARNER,))
    assert launcher.launch(locale="en").status_code == 303
    for url in (f"/quiz/attempts/{attempt.id}", f"/quiz/attempts/{attempt.id}/review"):
        response = other.get(url)
        assert response.status_code == 404 and error_code(response) == "attempt_not_found"
    page = other.get(f"{QUIZZES}/practice").get_data(as_text=True)
    response = other.post(f"/quiz/attempts/{attempt.id}/submit", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status == "in_progress"


def test_a_save_after_the_submission_is_refused_and_changes_nothing(trainee):
    attempt, page = started(trainee, "practice")
    first = right_fields(item_of(attempt.layout[0]["version_id"]), 0)
    assert save(trainee, attempt, page, first, 1).get_json() == {"saved": [0]}  # the server now knows the attempt
    assert trainee.post(f"/quiz/attempts/{attempt.id}/submit", data={"csrf_token": csrf_of(page)}).status_code == 303
    second = right_fields(item_of(attempt.layout[1]["version_id"]), 1)
    for late in (second, {"q0-present": ["1"]}):  # a new answer, and the first one cleared
        response = save(trainee, attempt, page, late, 2)
        assert response.status_code == 409 and response.get_json()["error"] == "attempt_finished"
    db.session.expire_all()
    kept = {a.slot: a for a in db.session.execute(
        select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)).scalars()}
    assert set(kept) == {0} and kept[0].sequence == 1 and kept[0].response is not None


def test_another_trainee_cannot_save_into_an_attempt_the_server_remembers(trainee, launcher, app):
    attempt, page = started(trainee, "practice")
    fields = right_fields(item_of(attempt.layout[0]["version_id"]), 0)
    assert save(trainee, attempt, page, fields, 1).status_code == 200
    other = app.test_client()
    launcher.client = other
    launcher.platform.user = DemoUser("other-trainee", "Ana", "Rusu", "ana@demo.invalid", (LEARNER,))
    assert launcher.launch(locale="en").status_code == 303
    own_page = other.get(f"{QUIZZES}/practice").get_data(as_text=True)
    response = other.post(f"/quiz/attempts/{attempt.id}/save", headers={"Accept": "application/json"},
                          data={**fields, "csrf_token": csrf_of(own_page), "sequence": "5"})
    assert response.status_code == 404 and response.get_json()["error"] == "attempt_not_found"
    db.session.expire_all()
    assert db.session.execute(select(AttemptAnswer.sequence).where(
        AttemptAnswer.attempt_id == attempt.id)).scalars().all() == [1]


def hostile(item, slot: int) -> dict[str, list[str]]:
    """A value the question cannot take, in the field its own type reads."""
    spec, prefix = item.spec, f"q{slot}-"
    if item.type == "matching":
        return {f"{prefix}match-{spec['pairs'][0]['id']}": ["no-such-answer"]}
    if item.type == "ordering":
        return {f"{prefix}position-{spec['items'][0]['id']}": ["99"]}
    if item.type == "risk_rating":
        return {f"{prefix}rating-{spec['dimensions'][0]['id']}": ["9"]}
    if item.type == "multiple_response":
        return {f"{prefix}choices": ["no-such-option"]}
    if item.type in ("numeric", "short_answer"):
        return {f"{prefix}answer": ["x" * 5000]}
    if item.type == "cloze":
        return hostile(item_like(spec["gaps"][spec["order"][0]]), slot) and {
            f"{prefix}{spec['order'][0]}-{name.split('-', 1)[1]}": value
            for name, value in hostile(item_like(spec["gaps"][spec["order"][0]]), slot).items()}
    if item.type == "scenario":
        return {f"{prefix}part0-{name.split('-', 1)[1]}": value
                for name, value in hostile(item_like(spec["parts"][0]), slot).items()}
    if item.type == "mrz_check":
        return {f"{prefix}verdict": ["maybe"]}
    return {f"{prefix}choice": ["no-such-option"]}


def item_like(part: dict):
    from ibm_lms.items.data import Item

    return Item(key="part", type=part["type"], outcomes=(), title={}, prompt={}, feedback={}, spec=part["spec"])


def test_an_answer_the_attempt_cannot_hold_is_refused_and_nothing_is_kept(trainee):
    attempt, page = started(trainee, "final-exam")
    response = save(trainee, attempt, page, {"q99-choice": ["a"]}, 1)
    assert response.status_code == 400 and "question 100 is not part of this attempt" in response.get_json()["message"]
    for slot, entry in enumerate(attempt.layout):
        good = right_fields(item_of(attempt.layout[(slot + 1) % len(attempt.layout)]["version_id"]),
                            (slot + 1) % len(attempt.layout))
        response = save(trainee, attempt, page, {**good, **hostile(item_of(entry["version_id"]), slot)}, slot + 2)
        assert response.status_code == 400, (entry["key"], response.get_json())
        assert response.get_json()["error"] == "answer_refused"
        assert f"question {slot + 1}:" in response.get_json()["message"]
    assert db.session.execute(select(AttemptAnswer)).first() is None


def test_a_save_without_the_forms_token_is_refused(trainee):
    attempt, _page = started(trainee, "practice")
    response = trainee.post(f"/quiz/attempts/{attempt.id}/save", data={"q0-choice": ["a"], "sequence": "1"})
    assert response.status_code == 400
    assert db.session.execute(select(AttemptAnswer)).first() is None


def test_time_runs_out_on_the_server_and_what_was_saved_counts(trainee, events):
    attempt, page = started(trainee, "timed")
    assert attempt.deadline_at is not None and 'id="timer"' in page
    fields = right_fields(item_of(attempt.layout[0]["version_id"]), 0)
    assert save(trainee, attempt, page, fields, 1).status_code == 200
    db.session.execute(update(Attempt).values(deadline_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    late = save(trainee, attempt, page, all_right(attempt), 2)
    assert late.status_code == 409 and late.get_json()["error"] == "time_is_up"
    db.session.expire_all()
    closed = db.session.get(Attempt, attempt.id)
    assert closed.status == "finished" and closed.score == 0.25
    [event] = [e for e in events if isinstance(e, QuizAttemptSubmitted)]
    assert event.expired and event.score_scaled == 0.25
    # The page the trainee lands on says why the attempt ended.
    review = trainee.get(f"/quiz/attempts/{attempt.id}/review").get_data(as_text=True)
    assert 'id="time-ran-out"' in review and "It was submitted with the answers saved" in review


def test_the_worker_submits_an_attempt_nobody_came_back_to(trainee, events, cli):
    attempt, page = started(trainee, "timed")
    save(trainee, attempt, page, all_right(attempt), 1)
    attempt_id = attempt.id
    db.session.execute(update(Attempt).values(deadline_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    result = cli.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert db.session.get(Attempt, attempt_id).score == 1.0
    assert [e.expired for e in events if isinstance(e, QuizAttemptSubmitted)] == [True]


def test_a_question_changed_during_an_attempt_keeps_the_version_the_trainee_saw(trainee, course_folder):
    from ibm_lms.content import service

    attempt, _ = started(trainee, "twice")
    key = attempt.layout[0]["key"]
    path = course_folder / COURSE / "questions" / f"{key}.toml"
    path.write_text(path.read_text().replace("difficulty = ", 'tags = ["edited"]\ndifficulty = ', 1)
                    if "\ntags" not in path.read_text() else path.read_text().replace("tags = [", 'tags = ["edited", ', 1))
    service.load(course_folder)
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).layout[0]["version_id"] == attempt.layout[0]["version_id"]
    page = trainee.get(f"/quiz/attempts/{attempt.id}")
    assert page.status_code == 200


def test_an_unknown_quiz_is_a_clear_404(trainee):
    for url in (f"{QUIZZES}/no-such-quiz", "/courses/no-such-course/quizzes/", "/quiz/attempts/999999"):
        response = trainee.get(url)
        assert response.status_code == 404, url


def test_a_quiz_launched_from_moodle_sends_its_grade_to_the_gradebook(launcher, client, course_folder):
    from ibm_lms.lti.models import GradeOutbox

    assert launcher.launch(target=f"{TOOL_BASE_URL}{QUIZZES}/twice").status_code == 303
    attempt, page = started(client, "twice")
    save(client, attempt, page, all_right(attempt), 1)
    client.post(f"/quiz/attempts/{attempt.id}/submit", data={"csrf_token": csrf_of(page)})
    [row] = db.session.execute(select(GradeOutbox)).scalars().all()
    assert (row.resource_id, row.score_given, row.status) == (f"{COURSE}/quiz:twice", 100.0, "pending")


def test_a_quiz_with_no_attempt_left_says_not_passed_not_yet(trainee):
    attempt, page = started(trainee, "timed")
    trainee.post(f"/quiz/attempts/{attempt.id}/submit", data={"csrf_token": csrf_of(page)})
    # Submitted in time: nothing says the time ran out.
    assert 'id="time-ran-out"' not in trainee.get(f"/quiz/attempts/{attempt.id}/review").get_data(as_text=True)
    quiz_page = trainee.get(f"{QUIZZES}/timed").get_data(as_text=True)
    assert "You have used every attempt this quiz allows." in quiz_page
    assert "Not passed yet" not in quiz_page and "Not passed" in quiz_page


def test_an_attempt_page_numbers_answers_by_the_servers_clock_and_counts_down_from_it(trainee):
    """The page's starting number is the time since the attempt began (tenths of a second), so a page opened
    later, on any computer, numbers its answers after every earlier page's; its countdown starts from the
    seconds the server says are left."""
    attempt, first_page = started(trainee, "timed")
    sequence = re.compile(r'name="sequence" value="(\d+)"')
    # Thirty seconds later (the attempt and its deadline moved back instead).
    db.session.execute(update(Attempt).where(Attempt.id == attempt.id).values(
        started_at=attempt.started_at - timedelta(seconds=30), deadline_at=attempt.deadline_at - timedelta(seconds=30)))
    db.session.commit()
    later_page = trainee.get(f"/quiz/attempts/{attempt.id}").get_data(as_text=True)
    assert int(sequence.search(later_page).group(1)) >= int(sequence.search(first_page).group(1)) + 300
    left = int(re.search(r'data-seconds-left="(\d+)"', later_page).group(1))
    assert 10 * 60 - 31 <= left <= 10 * 60 - 29
