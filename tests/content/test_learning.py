"""A trainee studies: lessons viewed and completed, exercises answered, progress resumed, every event complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from ibm_lms.content import service
from ibm_lms.content.models import CourseProgress, ExerciseAnswer, LessonProgress
from ibm_lms.events import CourseCompleted, ExerciseAnswered, LearningEvent, LessonCompleted, LessonViewed
from ibm_lms.extensions import db
from ibm_lms.unit_of_work import event_bus
from tests.conftest import count_rows, course_without_locale, csrf_token, error_code

SLUG = "anti-corruption"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def events(app):
    seen: list[LearningEvent] = []
    event_bus(app).subscribe(LearningEvent, seen.append)
    return seen


@pytest.fixture
def trainee(launcher, client, courses):
    assert launcher.launch(locale="en").status_code == 303
    return client


def lesson_keys() -> list[str]:
    import tomllib

    course = tomllib.loads((ROOT / "courses" / SLUG / "course.toml").read_text())
    return [lesson["id"] for module in course["modules"] for lesson in module["lessons"]]


def forms_of(html: str) -> dict[str, dict]:
    """Each exercise form of a lesson page: its action, version, token and CSRF token."""
    found = {}
    for match in re.finditer(r'<form method="post" action="([^"]+/exercises/([a-z0-9-]+))"[^>]*>(.*?)</form>', html, re.S):
        body = match.group(3)
        found[match.group(2)] = {"action": match.group(1), "csrf_token": csrf_token(body),
                                 "version": re.search(r'name="version" value="(\d+)"', body).group(1),
                                 "token": re.search(r'name="token" value="([^"]+)"', body).group(1)}
    return found


def right_answer(item) -> dict[str, list[str]]:
    """The form fields that answer an item with its model answer."""
    from ibm_lms.items.service import correct_response

    model = correct_response(item)
    if "choice" in model:
        return {"choice": [model["choice"]]}
    if "choices" in model:
        return {"choices": model["choices"]}
    if "order" in model:
        return {f"position-{step}": [str(i + 1)] for i, step in enumerate(model["order"])}
    if "ratings" in model:
        return {f"rating-{k}": [str(v)] for k, v in model["ratings"].items()}
    form = {f"field-{k}": [v] for k, v in model["fields"].items()}
    form.update({f"digit-{k}": [v] for k, v in model["digits"].items()})
    if model["verdict"]:
        form["verdict"] = [model["verdict"]]
    return form


def answer_all(client, key: str, slug: str = SLUG) -> str:
    """Answers every exercise of a lesson with its model answer; returns the lesson page as it was."""
    from ibm_lms.content import catalogue

    page = client.get(f"/courses/{slug}/lessons/{key}").get_data(as_text=True)
    for exercise, form in forms_of(page).items():
        item = catalogue.exercise_version(int(form["version"]))[0]
        response = client.post(form["action"], data={**right_answer(item), "csrf_token": form["csrf_token"],
                                                     "version": form["version"], "token": form["token"]})
        assert response.status_code == 303, (exercise, response.get_data(as_text=True)[-600:])
    return page


def test_a_lesson_view_is_recorded_and_published(trainee, events):
    first = lesson_keys()[0]
    page = trainee.get(f"/courses/{SLUG}/lessons/{first}")
    assert page.status_code == 200
    [event] = [e for e in events if isinstance(e, LessonViewed)]
    assert (event.course_slug, event.lesson_key, event.lesson_version, event.course_version) == (SLUG, first, 1, 1)
    assert event.context_id is not None and event.resource_link_id is not None and event.locale == "en"
    progress = db.session.execute(select(LessonProgress)).scalar_one()
    assert progress.views == 1 and progress.completed_at is None


def test_an_answer_is_scored_kept_and_published_with_everything(trainee, events):
    first = lesson_keys()[0]
    answer_all(trainee, first)
    answered = [e for e in events if isinstance(e, ExerciseAnswered)]
    assert answered and all(e.score_scaled == 1.0 and e.success and e.attempt == 1 for e in answered)
    event = answered[0]
    assert event.response and event.item_type and event.exercise_version == 1 and event.lesson_key == first
    assert event.tenant_id and event.user_id and event.resource_link_id and event.duration_seconds is not None
    assert count_rows(ExerciseAnswer) == len(answered)


def test_the_last_answer_fills_the_form_again(trainee):
    from html import unescape

    from ibm_lms.content import catalogue

    url = "/courses/document-security/lessons/check-digits"
    form = forms_of(trainee.get(url).get_data(as_text=True))["ds-mrz-check-td3"]
    answer = right_answer(catalogue.exercise_version(int(form["version"]))[0])
    first_field = next(name for name in answer if name.startswith("field-"))
    answer[first_field] = ["<b>not it</b>"]
    sent = trainee.post(form["action"], data={**answer, "csrf_token": form["csrf_token"], "version": form["version"],
                                              "token": form["token"]})
    assert sent.status_code == 303
    page = trainee.get(url).get_data(as_text=True)
    section = page[page.index('id="exercise-ds-mrz-check-td3"'):]
    section = section[:section.index("</section>")]
    assert f'name="{first_field}" value="&lt;b&gt;not it&lt;/b&gt;"' in section
    for name, (value,) in answer.items():
        if name.startswith("digit-"):
            assert f'name="{name}" value="{value}"' in section
    assert unescape(section).count(" checked") == (1 if "verdict" in answer else 0)


def test_code_in_an_option_or_step_shows_as_code_not_as_backticks(trainee):
    page = trainee.get("/courses/document-security/lessons/check-digits").get_data(as_text=True)
    labels = re.findall(r"<label [^>]*>(.*?)</label>", page, re.S)
    assert labels and not [label for label in labels if "`" in label]
    assert any("<code>&lt;</code>" in label for label in labels)


def test_sources_and_labels_are_marked_with_the_language_they_are_in(launcher, client, courses):
    assert launcher.launch(locale="ka").status_code == 303
    page = client.get("/courses/document-security/lessons/check-digits").get_data(as_text=True)
    # The works are cited in English on every page; the heading is in the reader's language.
    sources = page[page.index('<section class="references"'):]
    assert '<h2 id="sources-title" lang="ka">' in sources and '<li id="ref-icao-9303-p3" lang="en">' in sources
    # A block's label is read in the reader's language even inside a lesson shown in another.
    for found in re.finditer(r'<aside [^>]*aria-labelledby="([^"]+)"', page):
        assert f'id="{found.group(1)}" lang="ka"' in page
    assert "<aside" in page and not re.search(r"<aside [^>]*aria-label=", page)


def test_a_replayed_answer_is_refused_and_changes_nothing(trainee, events):
    first = lesson_keys()[0]
    page = trainee.get(f"/courses/{SLUG}/lessons/{first}").get_data(as_text=True)
    form = next(iter(forms_of(page).values()))
    from ibm_lms.content import catalogue

    data = {**right_answer(catalogue.exercise_version(int(form["version"]))[0]), "csrf_token": form["csrf_token"],
            "version": form["version"], "token": form["token"]}
    assert trainee.post(form["action"], data=data).status_code == 303
    events.clear()
    replay = trainee.post(form["action"], data=data)
    assert replay.status_code == 409 and error_code(replay) == "answer_replayed"
    assert count_rows(ExerciseAnswer) == 1 and events == []


@pytest.mark.parametrize("change", [
    {"choice": ["no-such-option"]}, {"choice": ["a", "b"]}, {}, {"token": "short", "choice": ["a"]},
    {"version": "999999", "choice": ["a"]},
])
def test_an_out_of_range_answer_is_a_clear_4xx_and_changes_nothing(trainee, change):
    first = lesson_keys()[0]
    page = trainee.get(f"/courses/{SLUG}/lessons/{first}").get_data(as_text=True)
    form = next(iter(forms_of(page).values()))
    data = {"csrf_token": form["csrf_token"], "version": form["version"], "token": form["token"], **change}
    response = trainee.post(form["action"], data=data)
    assert 400 <= response.status_code < 500
    assert error_code(response) in ("answer_refused", "exercise_changed")
    assert count_rows(ExerciseAnswer) == 0


def test_an_exercise_of_another_lesson_is_refused(trainee):
    first, second = lesson_keys()[:2]
    page = trainee.get(f"/courses/{SLUG}/lessons/{second}").get_data(as_text=True)
    exercise, form = next(iter(forms_of(page).items()))
    response = trainee.post(f"/courses/{SLUG}/lessons/{first}/exercises/{exercise}",
                            data={"choice": ["a"], "csrf_token": form["csrf_token"], "version": form["version"],
                                  "token": form["token"]})
    assert response.status_code == 404 and error_code(response) == "exercise_not_found"
    assert count_rows(ExerciseAnswer) == 0


def test_a_lesson_is_completed_only_after_its_exercises(trainee, events):
    first = lesson_keys()[0]
    page = trainee.get(f"/courses/{SLUG}/lessons/{first}").get_data(as_text=True)
    refused = trainee.post(f"/courses/{SLUG}/lessons/{first}/complete", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 409 and error_code(refused) == "lesson_not_finished"
    answer_all(trainee, first)
    done = trainee.post(f"/courses/{SLUG}/lessons/{first}/complete",
                        data={"csrf_token": csrf_token(page), "next": lesson_keys()[1]})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/lessons/{lesson_keys()[1]}")
    [completed] = [e for e in events if isinstance(e, LessonCompleted)]
    assert completed.lesson_key == first and completed.duration_seconds >= 0 and completed.module_key
    trainee.post(f"/courses/{SLUG}/lessons/{first}/complete", data={"csrf_token": csrf_token(page)})
    assert len([e for e in events if isinstance(e, LessonCompleted)]) == 1  # completing twice is one completion


def test_the_course_page_resumes_on_the_next_lesson(trainee):
    keys = lesson_keys()
    answer_all(trainee, keys[0])
    page = trainee.get(f"/courses/{SLUG}/lessons/{keys[0]}").get_data(as_text=True)
    trainee.post(f"/courses/{SLUG}/lessons/{keys[0]}/complete", data={"csrf_token": csrf_token(page)})
    trainee.get(f"/courses/{SLUG}/lessons/{keys[2]}")  # opened, not finished
    course = trainee.get(f"/courses/{SLUG}").get_data(as_text=True)
    assert re.search(rf'id="continue" href="/courses/{SLUG}/lessons/{keys[2]}"', course)
    assert "1 of 6 lessons completed" in course
    resume = trainee.get(f"/courses/{SLUG}/continue")
    assert resume.status_code == 303 and resume.headers["Location"].endswith(f"/lessons/{keys[2]}")


def test_the_course_completes_by_its_rule_once(trainee, events):
    for key in lesson_keys():
        page = answer_all(trainee, key)
        trainee.post(f"/courses/{SLUG}/lessons/{key}/complete", data={"csrf_token": csrf_token(page)})
    [completed] = [e for e in events if isinstance(e, CourseCompleted)]
    assert completed.score_scaled == 1.0 and completed.min_score == 0.7 and completed.course_slug == SLUG
    modules = [e.module_key for e in events if type(e).__name__ == "ModuleCompleted"]
    assert len(modules) == len(set(modules)) == 3
    progress = db.session.execute(select(CourseProgress)).scalar_one()
    assert progress.completed_at is not None and progress.score == 1.0
    assert "You have completed this course." in trainee.get(f"/courses/{SLUG}").get_data(as_text=True)


def test_a_low_exercise_score_holds_the_course_back(trainee, events):
    from ibm_lms.content import catalogue

    for key in lesson_keys():
        page = trainee.get(f"/courses/{SLUG}/lessons/{key}").get_data(as_text=True)
        for form in forms_of(page).values():
            item = catalogue.exercise_version(int(form["version"]))[0]
            if item.type == "single_choice":
                wrong = {"choice": [next(o["id"] for o in item.spec["options"] if o["id"] != item.spec["answer"])]}
            elif item.type == "dilemma":
                wrong = {"choice": [min(item.spec["options"], key=lambda o: o["score"])["id"]]}
            elif item.type == "multiple_response":
                wrong = {"choices": []}
            else:
                wrong = right_answer(item)
            trainee.post(form["action"], data={**wrong, "csrf_token": form["csrf_token"], "version": form["version"],
                                               "token": form["token"]})
        trainee.post(f"/courses/{SLUG}/lessons/{key}/complete", data={"csrf_token": csrf_token(page)})
    assert not [e for e in events if isinstance(e, CourseCompleted)]
    assert "Try the exercises again" in trainee.get(f"/courses/{SLUG}").get_data(as_text=True)


def test_an_untranslated_lesson_falls_back_with_a_marker(launcher, client, courses, tmp_path):
    service.load(course_without_locale(SLUG, "hy", tmp_path, slug="ac-untranslated", order=90))
    launcher.launch(locale="hy")
    keys = lesson_keys()
    page = client.get(f"/courses/ac-untranslated/lessons/{keys[0]}").get_data(as_text=True)
    assert '<article class="lesson" lang="ru">' in page and 'class="fallback-note"' in page
    assert 'class="prompt" lang="ru"' in page  # the exercises fall back too, each marked
    course = client.get("/courses/ac-untranslated").get_data(as_text=True)
    assert 'class="fallback-note"' in course
    # The same course translated into Armenian shows no such note.
    translated_page = client.get(f"/courses/{SLUG}/lessons/{keys[0]}").get_data(as_text=True)
    assert '<article class="lesson">' in translated_page and 'class="fallback-note"' not in translated_page


def test_another_tenants_private_course_is_not_there(launcher, client, courses, tmp_path):
    import shutil

    from ibm_lms.tenancy.service import ensure_tenant
    from ibm_lms.unit_of_work import unit_of_work

    with unit_of_work():
        ensure_tenant("md-academy")
    private = tmp_path / "private"
    shutil.copytree(ROOT / "courses" / SLUG, private / "md-integrity")
    course = private / "md-integrity" / "course.toml"
    course.write_text(course.read_text().replace(f'slug = "{SLUG}"', 'slug = "md-integrity"').replace(
        "order = 7", "order = 70"))
    service.load(private, tenant_slug="md-academy")
    launcher.launch()  # a trainee of ge-academy
    assert client.get("/courses/md-integrity").status_code == 404
    assert client.get("/courses/md-integrity/lessons/klitgaard-formula").status_code == 404
    assert "md-integrity" not in client.get("/courses/").get_data(as_text=True)
    assert client.get(f"/courses/{SLUG}").status_code == 200


def test_every_lesson_page_is_light_and_loads_nothing_from_elsewhere(trainee):
    """National networks may be closed: a lesson with its figures stays under 200 KB, from this tool only."""
    import tomllib

    heaviest = 0
    for course_dir in sorted((ROOT / "courses").iterdir()):
        course = tomllib.loads((course_dir / "course.toml").read_text())
        for lesson in (e["id"] for m in course["modules"] for e in m["lessons"]):
            page = trainee.get(f"/courses/{course['slug']}/lessons/{lesson}")
            html = page.get_data(as_text=True)
            assert page.status_code == 200
            assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html), (course["slug"], lesson)
            size = len(page.data)
            for figure in set(re.findall(r'src="(/content/figures/[0-9a-f]{64}\.svg)"', html)):
                answer = trainee.get(figure)
                assert answer.status_code == 200 and "immutable" in answer.headers["Cache-Control"]
                size += len(answer.data)
            heaviest = max(heaviest, size)
    assert heaviest < 200 * 1024, heaviest


def test_static_files_carry_their_fingerprint_and_live_a_year(trainee):
    page = trainee.get("/courses/").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', page).group(1)
    answer = trainee.get(stylesheet)
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "max-age=300" in trainee.get("/static/css/app.css?v=000000000000").headers["Cache-Control"]


@pytest.mark.parametrize("locale", ["ru", "hy"])
def test_a_refused_answer_says_why_in_the_trainees_language(launcher, client, courses, locale):
    from html import unescape

    from tests.conftest import translated

    assert launcher.launch(locale=locale).status_code == 303
    first = lesson_keys()[0]
    page = client.get(f"/courses/{SLUG}/lessons/{first}").get_data(as_text=True)
    form = next(iter(forms_of(page).values()))
    base = {"csrf_token": form["csrf_token"], "version": form["version"], "token": form["token"]}
    for change, msgid, values in (
        ({}, "nothing is chosen or written for one of its parts", {}),
        ({"choice": ["no-such-option"]}, "not an option of this exercise", {}),
        ({"token": "short", "choice": ["a"]}, "the form has no valid token; open the lesson again", {}),
    ):
        response = client.post(form["action"], data={**base, **change})
        shown = unescape(response.get_data(as_text=True))
        reason = translated(locale, msgid) % values if values else translated(locale, msgid)
        assert response.status_code == 400 and reason in shown, shown[:2000]
        assert reason != msgid % values if values else reason != msgid
        # Said about the answer, not about the form: the field's name is the page's business.
        assert "choice:" not in shown
    # The refusal leads back to the lesson it came from, and never to another site.
    lesson_url = f"http://localhost/courses/{SLUG}/lessons/{first}"
    refused = client.post(form["action"], data=base, headers={"Referer": lesson_url}).get_data(as_text=True)
    assert f'id="error-back" href="{lesson_url}"' in refused
    assert translated(locale, "We could not do what you asked") in unescape(refused)
    elsewhere = client.post(form["action"], data=base, headers={"Referer": "https://evil.example/x"})
    assert 'id="error-back"' not in elsewhere.get_data(as_text=True)


def test_choices_carry_the_letters_their_feedback_names_them_by(trainee):
    # tm-sqf-level's feedback reads "Option c … Options a, b and d": the page letters the options in their order.
    lesson = "/courses/trainer-methodology/lessons/writing-learning-outcomes"
    page = trainee.get(lesson).get_data(as_text=True)
    form = forms_of(page)["tm-sqf-level"]
    choices = re.findall(r'<input type="radio" id="tm-sqf-level-([a-z])"[^>]*><label[^>]*>'
                         r'<span class="option-letter">([a-z])\.</span>', page)
    assert choices == [("a", "a"), ("b", "b"), ("c", "c"), ("d", "d")]
    response = trainee.post(form["action"], data={"choice": ["a"], "csrf_token": form["csrf_token"],
                                                  "version": form["version"], "token": form["token"]})
    assert response.status_code == 303
    shown = trainee.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'You chose: <span class="option-letter">a\.</span>', shown)
    assert re.search(r'The best answer: <span class="option-letter">c\.</span>', shown)
