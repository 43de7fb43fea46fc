"""Instructors write their academy's bank through the pages: copy, edit, translate, preview, build quizzes."""

from __future__ import annotations

import html
import io
import re
from html import unescape

import pytest
from sqlalchemy import select

from ibm_lms.demo.platform import DEMO_USERS
from ibm_lms.extensions import db
from ibm_lms.quiz.models import Question, QuestionVersion, Quiz
from tests.conftest import course_order, course_without_locale

from .helpers import csrf_of

COURSE = "anti-corruption"
BANK = f"/authoring/courses/{COURSE}"
SHARED_KEY = "ac-q-banknote-hand-back"


@pytest.fixture
def instructor(launcher, client, courses):
    launcher.platform.user = DEMO_USERS["instructor"]
    assert launcher.launch(locale="en").status_code == 303
    return client


@pytest.fixture
def learner(launcher, client, courses):
    assert launcher.launch(locale="en").status_code == 303
    return client


def definition_of(page: str) -> str:
    return unescape(re.search(r'<textarea id="definition"[^>]*>(.*?)</textarea>', page, re.S).group(1))


def copy(client, key: str = SHARED_KEY):
    page = client.get(f"{BANK}/").get_data(as_text=True)
    return client.post(f"{BANK}/questions/{key}/copy", data={"csrf_token": csrf_of(page)})


def own(key: str) -> Question:
    db.session.expire_all()
    return db.session.execute(select(Question).where(Question.key == key, Question.bank != 0)).scalar_one()


def test_a_learner_reaches_no_authoring_page_or_action(learner):
    page = learner.get(f"/courses/{COURSE}").get_data(as_text=True)
    assert "/authoring/" not in page
    token = csrf_of(learner.get(f"/courses/{COURSE}/quizzes/practice").get_data(as_text=True))
    for method, url in (("get", f"{BANK}/"), ("get", f"{BANK}/questions/new"), ("post", f"{BANK}/questions/new"),
                        ("post", f"{BANK}/questions/{SHARED_KEY}/copy"), ("get", f"{BANK}/quizzes/new"),
                        ("post", f"{BANK}/quizzes/new")):
        response = getattr(learner, method)(url, data={"csrf_token": token} if method == "post" else None)
        assert response.status_code == 403, url
    assert db.session.execute(select(Question).where(Question.bank != 0)).first() is None


def test_the_bank_lists_the_shared_questions_and_a_copy_stands_in_for_one(instructor):
    page = instructor.get(f"{BANK}/").get_data(as_text=True)
    assert page.count('<tr id="q-') >= 40 and f'id="q-{SHARED_KEY}"' in page
    response = copy(instructor)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/questions/{SHARED_KEY}/edit")
    row = own(SHARED_KEY)
    assert row.origin == "copied" and row.copied_from_id is not None
    # A second copy changes nothing: the tenant already has its own.
    copy(instructor)
    assert db.session.execute(select(Question).where(Question.key == SHARED_KEY)).scalars().all().__len__() == 2


def test_an_edit_is_a_new_version_and_problems_name_their_line(instructor):
    copy(instructor)
    page = instructor.get(f"{BANK}/questions/{SHARED_KEY}/edit").get_data(as_text=True)
    text = definition_of(page)
    changed = text.replace('difficulty = "easy"', 'difficulty = "hard"')
    assert changed != text
    response = instructor.post(f"{BANK}/questions/{SHARED_KEY}/edit", data={
        "csrf_token": csrf_of(page), "definition": changed, "base_version": "1", "action": "save"})
    assert response.status_code == 303
    row = own(SHARED_KEY)
    assert row.difficulty == "hard" and db.session.get(QuestionVersion, row.current_version_id).number == 2
    broken = re.sub(r"^answer = (true|false)$", "answer = maybe", changed, count=1, flags=re.M)
    response = instructor.post(f"{BANK}/questions/{SHARED_KEY}/edit", data={
        "csrf_token": csrf_of(page), "definition": broken, "base_version": "2", "action": "save"})
    line = next(n for n, text_line in enumerate(broken.splitlines(), 1) if text_line == "answer = maybe")
    assert response.status_code == 422 and f"Line {line}:" in response.get_data(as_text=True)
    wrong_type = changed.replace("answer = false", 'answer = "no"').replace("answer = true", 'answer = "no"')
    response = instructor.post(f"{BANK}/questions/{SHARED_KEY}/edit", data={
        "csrf_token": csrf_of(page), "definition": wrong_type, "base_version": "2", "action": "save"})
    assert response.status_code == 422 and "answer" in response.get_data(as_text=True)
    assert db.session.get(QuestionVersion, own(SHARED_KEY).current_version_id).number == 2


def test_a_stale_edit_is_refused_rather_than_overwriting_a_colleagues(instructor):
    copy(instructor)
    page = instructor.get(f"{BANK}/questions/{SHARED_KEY}/edit").get_data(as_text=True)
    text = definition_of(page)
    first = instructor.post(f"{BANK}/questions/{SHARED_KEY}/edit", data={
        "csrf_token": csrf_of(page), "definition": text.replace('difficulty = "easy"', 'difficulty = "medium"'),
        "base_version": "1", "action": "save"})
    assert first.status_code == 303
    late = instructor.post(f"{BANK}/questions/{SHARED_KEY}/edit", data={
        "csrf_token": csrf_of(page), "definition": text.replace('difficulty = "easy"', 'difficulty = "hard"'),
        "base_version": "1", "action": "save"})
    assert late.status_code == 409 and "while you were editing" in late.get_data(as_text=True)
    assert own(SHARED_KEY).difficulty == "medium"
    # The form keeps the author's change, now based on the colleague's version: saving again is a decision.
    kept = late.get_data(as_text=True)
    assert 'difficulty = &#34;hard&#34;' in kept or 'difficulty = "hard"' in definition_of(kept)
    assert 'name="base_version" value="2"' in kept
    again = instructor.post(f"{BANK}/questions/{SHARED_KEY}/edit", data={
        "csrf_token": csrf_of(kept), "definition": definition_of(kept), "base_version": "2", "action": "save"})
    assert again.status_code == 303 and own(SHARED_KEY).difficulty == "hard"


def test_a_refused_translation_keeps_what_was_typed_and_a_stale_one_is_not_lost(instructor):
    copy(instructor)
    url = f"{BANK}/questions/{SHARED_KEY}/translate?from=en&to=hy"
    page = instructor.get(url).get_data(as_text=True)
    typed = {name: f"Հայերեն {name}" for name in re.findall(r'name="(text-[^"]+)"', page)}
    first = instructor.post(url, data={"csrf_token": csrf_of(page), "base_version": "1", **typed})
    assert first.status_code == 303
    stale = instructor.post(url, data={"csrf_token": csrf_of(page), "base_version": "1",
                                       **{name: value + " (երկրորդ)" for name, value in typed.items()}})
    shown = html.unescape(stale.get_data(as_text=True))
    assert stale.status_code == 409 and "while you were editing" in shown
    assert all(value + " (երկրորդ)" in shown for value in typed.values())


def test_scripts_and_handlers_in_authored_text_are_gone_on_save(instructor):
    page = instructor.get(f"{BANK}/questions/new?type=true_false").get_data(as_text=True)
    text = definition_of(page).replace(
        'en = "The question, in Markdown."',
        'en = "Is this <b onclick=\\"steal()\\">safe</b>? <script>alert(1)</script><img src=x onerror=alert(2)>"')
    response = instructor.post(f"{BANK}/questions/new", data={
        "csrf_token": csrf_of(page), "key": "ac-q-authored", "definition": text, "action": "save"})
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]
    version = db.session.get(QuestionVersion, own("ac-q-authored").current_version_id)
    prompt = version.definition["prompt"]["en"]
    assert "<b>safe</b>" in prompt and "script" not in prompt and "onerror" not in prompt and "onclick" not in prompt
    preview = instructor.get(f"{BANK}/questions/ac-q-authored/preview").get_data(as_text=True)
    assert "alert(" not in preview and "onclick" not in preview and "Is this" in preview


MRZ_NAME = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"


@pytest.mark.parametrize(("text", "cleaned"), [
    (f"Line 1 reads `{MRZ_NAME}`; the names follow `<<`.", None),
    (f"```\n{MRZ_NAME}\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\n```", None),
    (f"Without a code span: {MRZ_NAME}, and 2 < 3 > 1 & 4 <= 5.", None),
    ("I<UTOD231458907<<<<<<<<<<<<<<<", None),
    ("Keep <b>bold</b>, <EM>this</EM> and a<br/>break.", "Keep <b>bold</b>, <em>this</em> and a<br>break."),
    (f"`P<UTO` <script>alert(1)</script><img src=x onerror=alert(2)> `{MRZ_NAME}`", f"`P<UTO`  `{MRZ_NAME}`"),
    ('<b onclick="steal()">x</b><!-- note --><iframe src="https://evil.example"></iframe>', "<b>x</b>"),
    ("<scr<script></script>ipt>alert(1)</script>end", ">alert(1)end"),
    ("<style>p{display:none}</style>P<UTO<<A", "P<UTO<<A"),
    ("<script src=x\nno close", " src=x\nno close"),
    ("<!DOCTYPE html><!x <b>y</b> P<UTO", "y</b> P<UTO"),
    # Tags nested in tags come apart a level a pass; past a few passes what is left of markup is made text.
    ("<a" * 50 + ">" * 50 + " P<UTO", "&lt;a" * 46 + ">" * 46 + " P&lt;UTO"),
])
def test_cleaning_removes_markup_only_and_keeps_an_mrz_as_written(text, cleaned):
    from ibm_lms.quiz.texts import clean_text

    assert clean_text(text) == (text if cleaned is None else cleaned)


def test_a_copied_shared_question_keeps_its_mrz_texts_exactly(instructor):
    bank = "/authoring/courses/document-security"
    page = instructor.get(f"{bank}/").get_data(as_text=True)
    response = instructor.post(f"{bank}/questions/ds-q-name-field/copy", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 303
    row = own("ds-q-name-field")
    shared = db.session.execute(select(Question).where(Question.key == "ds-q-name-field", Question.bank == 0)
                                ).scalar_one()
    copied = db.session.get(QuestionVersion, row.current_version_id).definition
    original = db.session.get(QuestionVersion, shared.current_version_id).definition
    assert copied["feedback"] == original["feedback"] and copied["prompt"] == original["prompt"]
    assert copied["feedback"]["ru"].startswith("**`OHARA<POPA<<ANA<MARIA`**\n\nПравила Doc 9303")


def test_a_new_question_may_not_take_the_id_of_one_the_bank_has(instructor):
    page = instructor.get(f"{BANK}/questions/new?type=true_false").get_data(as_text=True)
    first = instructor.post(f"{BANK}/questions/new", data={
        "csrf_token": csrf_of(page), "key": "ac-q-authored", "definition": definition_of(page), "action": "save"})
    assert first.status_code == 303
    kept = own("ac-q-authored").current_version_id
    for taken in ("ac-q-authored", SHARED_KEY):
        again = instructor.post(f"{BANK}/questions/new", data={
            "csrf_token": csrf_of(page), "key": taken, "action": "save",
            "definition": definition_of(page).replace('en = "The question, in Markdown."', 'en = "Overwritten?"')})
        assert again.status_code == 422
        # The id is a field of the form, named by its label there.
        assert (f"<li>Question id: {taken!r} is already the id of a question in this course's bank"
                in html.unescape(again.get_data(as_text=True)))
    assert own("ac-q-authored").current_version_id == kept
    assert db.session.execute(select(Question).where(Question.key == SHARED_KEY, Question.bank != 0)).first() is None


def test_every_type_starts_from_a_valid_template_that_previews(instructor):
    for item_type in ("single_choice", "multiple_response", "true_false", "matching", "ordering", "numeric",
                      "short_answer", "cloze", "scenario", "dilemma", "risk_rating", "mrz_check", "mrz_spot"):
        page = instructor.get(f"{BANK}/questions/new?type={item_type}").get_data(as_text=True)
        response = instructor.post(f"{BANK}/questions/new", data={
            "csrf_token": csrf_of(page), "key": f"ac-q-new-{item_type.replace('_', '-')}",
            "definition": definition_of(page), "action": "preview"})
        assert response.status_code == 200, (item_type, response.get_data(as_text=True)[-600:])
        assert 'id="preview-title"' in response.get_data(as_text=True)
    assert db.session.execute(select(Question).where(Question.bank != 0)).first() is None  # previews save nothing


def test_a_translation_is_saved_as_a_version_and_shown_in_that_language(instructor, launcher, app):
    copy(instructor)
    page = instructor.get(f"{BANK}/questions/{SHARED_KEY}/translate?from=en&to=uk").get_data(as_text=True)
    names = re.findall(r'name="(text-[^"]+)"', page)
    assert "text-prompt" in names and "text-title" in names
    form = {name: f"UK {name}" for name in names}
    response = instructor.post(f"{BANK}/questions/{SHARED_KEY}/translate", data={
        **form, "csrf_token": csrf_of(page), "base_version": "1", "from": "en", "to": "uk"})
    assert response.status_code == 303
    version = db.session.get(QuestionVersion, own(SHARED_KEY).current_version_id)
    assert version.number == 2 and version.definition["prompt"]["uk"] == "UK text-prompt"
    assert version.item["prompt"]["uk"] == "UK text-prompt"
    assert launcher.launch(locale="uk").status_code == 303
    preview = instructor.get(f"{BANK}/questions/{SHARED_KEY}/preview").get_data(as_text=True)
    assert "UK text-prompt" in preview and "UK text-title" in preview


def test_a_quiz_built_on_the_page_is_offered_to_trainees(instructor, launcher, app):
    page = instructor.get(f"{BANK}/quizzes/new").get_data(as_text=True)
    form = {"csrf_token": csrf_of(page), "key": "academy-check", "title-en": "Academy check", "title-ru": "Проверка",
            "kind": "practice", "time_limit_minutes": "20", "attempts": "3", "pass_mark": "80", "grading": "last",
            "shuffle_questions": "on", "review_after_submit": "feedback", "review_after_close": "answers",
            "draws": "8", "draw-0-count": "2", "draw-0-outcomes": "AC-1", "draw-1-questions": SHARED_KEY}
    too_many = instructor.post(f"{BANK}/quizzes/new", data={**form, "draw-0-count": "500"})
    assert too_many.status_code == 422 and "Row 1, Count: asks for 500 questions" in too_many.get_data(as_text=True)
    # Problems name the builder's fields, not the quiz file's keys, and give no quiz-file example as the fix.
    wrong = html.unescape(instructor.post(f"{BANK}/quizzes/new", data={
        **form, "pass_mark": "150", "title-en": "", "draw-0-count": "", "draw-0-outcomes": "", "draw-2-count": "900"}
    ).get_data(as_text=True))
    assert "Pass mark (%): a whole number from 0 to 100" in wrong and "Title: has no English text" in wrong
    assert "Row 3, Count: asks for 900" in wrong
    assert "pass_mark" not in wrong.split('id="problems"')[1].split("</section>")[0]
    assert "draw." not in wrong and "= 0.7" not in wrong
    assert db.session.execute(select(Quiz).where(Quiz.bank != 0)).first() is None
    response = instructor.post(f"{BANK}/quizzes/new", data=form)
    assert response.status_code == 303
    listing = instructor.get(f"/courses/{COURSE}/quizzes/").get_data(as_text=True)
    assert "Academy check" in listing
    quiz = instructor.get(f"/courses/{COURSE}/quizzes/academy-check").get_data(as_text=True)
    assert "20 min" in quiz and "80%" in quiz


def test_an_authoring_form_without_its_token_is_refused(instructor):
    response = instructor.post(f"{BANK}/questions/{SHARED_KEY}/copy")
    assert response.status_code == 400
    assert db.session.execute(select(Question).where(Question.bank != 0)).first() is None


def png(width: int = 40, height: int = 30) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def upload(client, data: bytes, name: str = "stamp.png"):
    page = client.get(f"{BANK}/questions/new?type=true_false").get_data(as_text=True)
    return client.post(f"{BANK}/images", headers={"Accept": "application/json"}, content_type="multipart/form-data",
                       data={"csrf_token": csrf_of(page), "alt": "An entry stamp", "image": (io.BytesIO(data), name)})


def test_an_uploaded_image_is_decoded_written_anew_and_shown_in_the_question(instructor):
    from PIL import Image

    source = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Camera maker with a secret"
    Image.new("RGB", (64, 48), (10, 120, 10)).save(source, "JPEG", exif=exif.tobytes())
    response = upload(instructor, source.getvalue() + b"<script>alert(1)</script>", "photo.jpg")
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    served = instructor.get(answer["url"])
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    assert b"secret" not in served.data and b"<script>" not in served.data
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.size == (64, 48) and not image.getexif()
    page = instructor.get(f"{BANK}/questions/new?type=true_false").get_data(as_text=True)
    text = definition_of(page).replace('en = "The question, in Markdown."', f'en = "Look: {answer["markdown"]}"')
    saved = instructor.post(f"{BANK}/questions/new", data={
        "csrf_token": csrf_of(page), "key": "ac-q-with-image", "definition": text, "action": "save"})
    assert saved.status_code == 303
    preview = instructor.get(f"{BANK}/questions/ac-q-with-image/preview").get_data(as_text=True)
    assert f'src="{answer["url"]}" alt="An entry stamp"' in preview


@pytest.mark.parametrize("data, status", [
    (b"GIF89a not really an image", 400),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", 400),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 400),
    (png(5000, 4000), 400),
    (b"\x00" * (3 * 1024 * 1024), 413),
])
def test_a_fake_or_oversized_image_is_refused(instructor, data, status):
    from ibm_lms.quiz.models import QuizImage

    response = upload(instructor, data)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert db.session.execute(select(QuizImage)).first() is None


def test_a_question_cannot_point_at_an_image_never_uploaded(instructor):
    page = instructor.get(f"{BANK}/questions/new?type=true_false").get_data(as_text=True)
    text = definition_of(page).replace('en = "The question, in Markdown."', f'en = "![x](image:{"ab" * 32})"')
    response = instructor.post(f"{BANK}/questions/new", data={
        "csrf_token": csrf_of(page), "key": "ac-q-ghost-image", "definition": text, "action": "save"})
    assert response.status_code == 422 and "images not uploaded" in response.get_data(as_text=True)


def test_another_academys_image_is_not_there(instructor, launcher, app):
    url = upload(instructor, png()).get_json()["url"]
    from ibm_lms.lti import service as lti
    from ibm_lms.tenancy import service as tenancy

    tenancy.ensure_tenant("md-academy")
    other_platform = launcher.platform
    other = app.test_client()
    launcher.client = other
    db.session.commit()
    assert other.get(url).status_code in (401, 403)  # not signed in at all
    assert lti is not None and other_platform is not None


def test_item_types_and_quiz_settings_are_named_in_the_authors_language(launcher, client, courses):
    from ibm_lms.items.service import item_types
    from ibm_lms.quiz import labels, settings
    from tests.conftest import translated

    assert set(labels.ITEM_TYPES) == set(item_types())
    assert (set(labels.KINDS), set(labels.GRADING), set(labels.REVIEW_LEVELS)) == (
        set(settings.KINDS), set(settings.GRADING), set(settings.REVIEW_LEVELS))
    launcher.platform.user = DEMO_USERS["instructor"]
    assert launcher.launch(locale="uk").status_code == 303
    bank = html.unescape(client.get(f"{BANK}/").get_data(as_text=True))
    for code, msgid in labels.ITEM_TYPES.items():
        assert f'<option value="{code}">{translated("uk", msgid)}</option>' in bank
    assert f"<td>{translated('uk', labels.ITEM_TYPES['true_false'])}</td>" in bank
    assert ">single_choice<" not in bank and ">easy<" not in bank and ">medium<" not in bank
    editor = html.unescape(client.get(f"{BANK}/quizzes/final-exam/edit").get_data(as_text=True))
    assert f'<option value="exam" selected>{translated("uk", "Final exam")}</option>' in editor
    for code, msgid in {**labels.GRADING, **labels.REVIEW_LEVELS, **labels.DIFFICULTIES}.items():
        assert f'value="{code}"' in editor and translated("uk", msgid) in editor and f">{code}<" not in editor
    preview = html.unescape(client.get(f"{BANK}/questions/{SHARED_KEY}/preview").get_data(as_text=True))
    shared = db.session.execute(select(Question).where(Question.key == SHARED_KEY)).scalar_one()
    kind, level = db.session.get(QuestionVersion, shared.current_version_id).item["type"], shared.difficulty
    assert f"· {translated('uk', labels.ITEM_TYPES[kind])} ·" in preview and f"· {kind} ·" not in preview
    assert translated("uk", labels.DIFFICULTIES[level]) in preview and f"· {level} ·" not in preview


def test_categories_are_named_in_the_authors_language_and_still_filter_and_draw_by_id(launcher, client, courses):
    launcher.platform.user = DEMO_USERS["instructor"]
    assert launcher.launch(locale="uk").status_code == 303
    bank = html.unescape(client.get(f"{BANK}/").get_data(as_text=True))
    assert '<option value="gifts-and-bribes">Подарунки та хабарі</option>' in bank
    assert "<td>Подарунки та хабарі</td>" in bank and "<td>gifts-and-bribes</td>" not in bank
    only = html.unescape(client.get(f"{BANK}/?category=gifts-and-bribes").get_data(as_text=True))
    assert '<option value="gifts-and-bribes" selected>Подарунки та хабарі</option>' in only
    in_category = db.session.execute(select(Question).where(
        Question.course_slug == COURSE, Question.category == "gifts-and-bribes")).scalars().all()
    assert only.count("<td>Подарунки та хабарі</td>") == len(in_category) and "<td>Конфлікт інтересів</td>" not in only
    preview = html.unescape(client.get(f"{BANK}/questions/{in_category[0].key}/preview").get_data(as_text=True))
    assert "· Подарунки та хабарі ·" in preview
    builder = html.unescape(client.get(f"{BANK}/quizzes/new").get_data(as_text=True))
    assert '<option value="reporting">Повідомлення про порушення</option>' in builder
    form = {"csrf_token": csrf_of(builder), "key": "by-category", "title-en": "Gifts", "kind": "practice",
            "attempts": "0", "pass_mark": "60", "grading": "highest", "review_after_submit": "feedback",
            "review_after_close": "answers", "draws": "8", "draw-0-count": "2", "draw-0-category": "gifts-and-bribes"}
    assert client.post(f"{BANK}/quizzes/new", data=form).status_code == 303
    editor = html.unescape(client.get(f"{BANK}/quizzes/by-category/edit").get_data(as_text=True))
    assert '<option value="gifts-and-bribes" selected>Подарунки та хабарі</option>' in editor


def test_a_category_without_a_name_is_shown_by_its_id(launcher, client, courses, app):
    from ibm_lms.quiz.models import QuestionCategory

    db.session.execute(QuestionCategory.__table__.delete().where(QuestionCategory.category == "reporting"))
    db.session.commit()
    launcher.platform.user = DEMO_USERS["instructor"]
    assert launcher.launch(locale="ka").status_code == 303
    bank = html.unescape(client.get(f"{BANK}/").get_data(as_text=True))
    assert "<td><code>reporting</code></td>" in bank and '<option value="reporting">reporting</option>' in bank
    assert "<td>საჩუქრები და ქრთამი</td>" in bank


def test_feedback_shown_in_a_fallback_language_is_marked_with_it(launcher, client, courses, tmp_path):
    from ibm_lms.content import service

    service.load(course_without_locale(COURSE, "hy", tmp_path, slug=COURSE, order=course_order(COURSE)))
    launcher.platform.user = DEMO_USERS["instructor"]
    assert launcher.launch(locale="hy").status_code == 303
    preview = client.get(f"{BANK}/questions/{SHARED_KEY}/preview").get_data(as_text=True)
    # The bank has no Armenian: its Russian feedback is read as Russian, not as Armenian.
    assert '<div class="reasoning" lang="ru">' in preview


def test_the_translation_page_offers_the_authors_own_language_first(launcher, client, courses):
    launcher.platform.user = DEMO_USERS["instructor"]
    for locale, offered in (("ka", "ka"), ("en", "ru")):
        assert launcher.launch(locale=locale).status_code == 303
        page = client.get(f"{BANK}/questions/{SHARED_KEY}/translate").get_data(as_text=True)
        assert f'<option value="{offered}" selected>' in page, locale


def test_the_translation_page_names_each_text_in_the_authors_words(launcher, client, courses):
    launcher.platform.user = DEMO_USERS["instructor"]
    assert launcher.launch(locale="uk").status_code == 303
    page = html.unescape(client.get(f"{BANK}/questions/{SHARED_KEY}/translate?from=en&to=ka").get_data(as_text=True))
    rows = re.findall(r'<th scope="row">([^<]*)</th>', page)
    assert rows[:2] == ["Назва", "Питання"] and "Пояснення до відповіді «правда»" in rows, rows
    choice = html.unescape(client.get(f"{BANK}/questions/ac-q-bribery-elements/translate?from=en&to=ka").get_data(
        as_text=True))
    assert "Варіант 1 › Текст" in re.findall(r'<th scope="row">([^<]*)</th>', choice)


@pytest.mark.parametrize("locale", ["ru", "ka"])
def test_a_definitions_problems_and_fixes_read_in_the_authors_language(launcher, client, courses, locale):
    from tests.conftest import translated

    launcher.platform.user = DEMO_USERS["instructor"]
    assert launcher.launch(locale=locale).status_code == 303
    copy(client)
    page = client.get(f"{BANK}/questions/{SHARED_KEY}/edit").get_data(as_text=True)
    text = definition_of(page)
    broken = re.sub(r"^answer = (true|false)$", "answer = maybe", text, count=1, flags=re.M)
    response = client.post(f"{BANK}/questions/{SHARED_KEY}/edit", data={
        "csrf_token": csrf_of(page), "definition": broken, "base_version": "1", "action": "save"})
    shown = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert translated(locale, "not valid TOML: %(reason)s").split("%(reason)s")[0] in shown
    # The TOML reader's own words are English, and marked so inside the translated sentence.
    problems = response.get_data(as_text=True).split('id="problems"')[1].split("</section>")[0]
    assert re.search(r'<span lang="en">Invalid [^<]+</span>', problems), problems
    assert translated(locale, "correct the TOML syntax on that line") in shown
    wrong = re.sub(r"^answer = (true|false)$", 'answer = "no"', text, count=1, flags=re.M)
    wrong = wrong.replace('difficulty = "easy"', 'difficulty = "extreme"')
    response = client.post(f"{BANK}/questions/{SHARED_KEY}/edit", data={
        "csrf_token": csrf_of(page), "definition": wrong, "base_version": "1", "action": "save"})
    shown = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    # The key path stays as written in the definition; what is wrong and the fix are in the author's language.
    assert f"answer: {translated(locale, 'must be true or false')}" in shown
    assert f"difficulty: {translated(locale, 'must be easy, medium or hard')}" in shown
    assert "must be true or false" not in shown and "must be easy, medium or hard" not in shown


def test_the_same_problems_read_in_english_on_the_command_line(cli, tmp_path):
    import shutil

    from tests.conftest import ROOT

    target = tmp_path / "courses" / COURSE
    shutil.copytree(ROOT / "courses" / COURSE, target)
    question = next((target / "questions").glob("*.toml"))
    question.write_text(question.read_text().replace("difficulty = ", 'difficulty = "extreme"\n# ', 1))
    result = cli.invoke(args=["content", "check", "--dir", str(tmp_path / "courses")])
    assert result.exit_code != 0 and "difficulty: must be easy, medium or hard" in result.output


def test_an_image_far_past_the_pixel_limit_is_refused_for_its_size():
    import struct
    import zlib

    from ibm_lms.quiz import images
    from ibm_lms.quiz.errors import ImageRefused

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # A header that claims 30,000 × 30,000 pixels: Pillow itself stops at opening it.
    header = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30_000, 30_000, 8, 2, 0, 0, 0))
    with pytest.raises(ImageRefused) as refused:
        images.cleaned(header + chunk(b"IEND", b""))
    assert refused.value.params["reason"].msgid == "it has more than 4096 × 4096 pixels"


def test_a_definition_within_the_editors_limits_is_never_refused_for_its_bytes(instructor):
    """Georgian texts travel URL-encoded at nine bytes a letter: four of 19,900 letters must still reach the
    editor's own checks (which accept them), not a generic 'too large' page."""
    page = instructor.get(f"{BANK}/questions/new?type=true_false").get_data(as_text=True)
    long_prompts = "\n".join(f'{locale} = "{"ა" * 19_900}"' for locale in ("ka", "ru", "uk", "be"))
    text = definition_of(page).replace("[prompt]\n", "[prompt]\n" + long_prompts + "\n", 1)
    response = instructor.post(f"{BANK}/questions/new", data={
        "csrf_token": csrf_of(page), "key": "ac-q-long", "definition": text, "action": "preview"})
    assert response.status_code == 200, response.get_data(as_text=True)[-400:]
