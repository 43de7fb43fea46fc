"""An instructor adapts a question and builds a quiz; a trainee takes it in Moodle's frame, loses the
connection, comes back, submits; the grade reaches the test platform's gradebook. Third-party cookies blocked."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from ibm_lms.demo.platform import DEMO_USERS
from ibm_lms.extensions import db

COURSE = "anti-corruption"
SHARED_KEY = "ac-q-banknote-hand-back"
ADAPTED_PROMPT = "Водій залишив банкноту в паспорті. Ви повертаєте її й фіксуєте випадок."


def _open(page, platform, locale: str, target: str):
    page.goto(f"{platform.base_url}/course/view.php?locale={locale}&target={target}")
    frame = page.frame_locator("#tool")
    frame.locator(f"html[lang={locale}] main").wait_for(timeout=15000)
    return frame


def _instructor_adapts_a_question_and_builds_a_quiz(page, platform) -> None:
    platform.user = DEMO_USERS["instructor"]
    frame = _open(page, platform, "en", f"/courses/{COURSE}")
    frame.locator("#question-bank").click()
    frame.locator(f"#q-{SHARED_KEY} button", has_text="Copy to adapt").click()
    frame.locator("#translate-question").click()
    frame.locator("#to").select_option("uk")
    frame.locator("button", has_text="Show").click()
    frame.locator("#text-title").fill("Повернути банкноту")
    frame.locator("#text-prompt").fill(ADAPTED_PROMPT)
    frame.locator("#save-translation").click()
    expect(frame.locator(".panel.success")).to_contain_text("version 2")
    frame.locator("nav.breadcrumbs a", has_text="Question bank").click()
    frame.locator("#new-quiz").click()
    frame.locator("#key").fill("academy-check")
    frame.locator("#title-en").fill("Academy check")
    frame.locator("#title-uk").fill("Перевірка академії")
    frame.locator("input[name='draw-0-questions']").fill(SHARED_KEY)
    frame.locator("input[name='draw-1-count']").fill("3")
    frame.locator("input[name='draw-1-outcomes']").fill("AC-1")
    frame.locator("#save-quiz").click()
    expect(frame.locator("#quizzes")).to_contain_text("Academy check")


def _answer(question) -> bool:
    choice = question.locator("input[type=radio]:not([disabled]), input[type=checkbox]:not([disabled])")
    if not choice.count():
        return False
    choice.first.check()
    return True


def test_a_quiz_authored_taken_offline_resumed_and_graded(page, browser, cross_site):
    platform, _ = cross_site
    _instructor_adapts_a_question_and_builds_a_quiz(page, platform)

    platform.user = DEMO_USERS["trainee"]
    frame = _open(page, platform, "uk", f"/courses/{COURSE}/quizzes/academy-check")
    expect(frame.locator("h1")).to_have_text("Перевірка академії")
    frame.locator("#start-attempt").click()
    questions = frame.locator("fieldset.question")
    questions.first.wait_for(timeout=10000)
    assert questions.count() == 4
    form = frame.locator("#attempt-form")
    saved_text, offline_text = form.get_attribute("data-saved"), form.get_attribute("data-offline")
    adapted = frame.locator("fieldset.question", has_text=ADAPTED_PROMPT)
    expect(adapted).to_have_count(1)
    assert _answer(adapted)
    expect(frame.locator("#save-status")).to_have_text(saved_text, timeout=10000)

    others = [questions.nth(i) for i in range(4) if ADAPTED_PROMPT not in questions.nth(i).inner_text()]
    browser.set_offline(True)
    try:
        # The connection drops: the next answers wait in the page, which says so.
        answered_offline = sum(_answer(question) for question in others)
        assert answered_offline >= 1
        expect(frame.locator("#save-status")).to_have_text(offline_text, timeout=10000)
        # Leaving now would lose them: the browser asks first, and the trainee stays.
        asked = []
        page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
        page.frame("tool").evaluate("() => { window.location.href = 'about:blank'; }")
        page.wait_for_timeout(500)
        assert asked == ["beforeunload"]
    finally:
        browser.set_offline(False)
    # The connection is back: what waited goes out without the trainee doing anything.
    expect(frame.locator("#save-status")).to_have_text(saved_text, timeout=15000)
    page.goto("about:blank")

    # Later, from Moodle again: the attempt is there with every answer.
    frame = _open(page, platform, "uk", f"/courses/{COURSE}/quizzes/academy-check")
    frame.locator("#resume-attempt").click()
    frame.locator("fieldset.question").first.wait_for(timeout=10000)
    expect(frame.locator("fieldset.question input:checked")).to_have_count(1 + answered_offline)
    page.once("dialog", lambda dialog: dialog.accept())
    frame.locator("#submit-attempt").click()
    frame.locator("#attempt-score").wait_for(timeout=10000)

    tool = platform.tool_app
    with tool.app_context():
        from ibm_lms.quiz.models import Attempt, AttemptAnswer

        [attempt] = db.session.execute(select(Attempt)).scalars().all()
        kept = db.session.execute(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)).scalars()
        assert attempt.status == "finished" and len(list(kept)) == 1 + answered_offline
        score = round(attempt.score * 100, 2)
        db.session.remove()
    from ibm_lms.worker import drain

    drain(tool)
    [held] = platform.services.scores.values()
    posted = held[DEMO_USERS["trainee"].subject]
    assert (posted["scoreGiven"], posted["scoreMaximum"]) == (score, 100.0)
    assert posted["activityProgress"] == "Completed" and posted["gradingProgress"] == "FullyGraded"


def test_an_answer_the_server_refuses_is_said_and_the_other_questions_keep_saving(page, cross_site):
    platform, _ = cross_site
    platform.user = DEMO_USERS["trainee"]
    frame = _open(page, platform, "en", f"/courses/{COURSE}/quizzes/practice")
    frame.locator("#start-attempt").click()
    questions = frame.locator("fieldset.question:has(input[type=radio]:not([disabled]))")
    questions.first.wait_for(timeout=10000)
    assert questions.count() >= 2
    saved_text = frame.locator("#attempt-form").get_attribute("data-saved")
    # A value no option has (as a stale or tampered page would send) is refused by the server, which says why.
    questions.nth(0).locator("input[type=radio]").first.evaluate(
        "input => { input.value = 'no-such-option'; input.checked = true;"
        " input.dispatchEvent(new Event('change', {bubbles: true})); }")
    status = frame.locator("#save-status")
    # (The reason depends on the question drawn: "not an option…", "choose True or False"…)
    expect(status).to_contain_text("This answer cannot be accepted: question", timeout=10000)
    # Another question answered meanwhile is saved all the same, and the refusal stays in view.
    second = questions.nth(1)
    second.locator("input[type=radio]").first.check()
    slot = int(second.get_attribute("data-slot"))
    tool = platform.tool_app

    def saved_slots() -> set[int]:
        with tool.app_context():
            from ibm_lms.quiz.models import AttemptAnswer

            found = {answer.slot for answer in db.session.execute(select(AttemptAnswer)).scalars()}
            db.session.remove()
            return found

    for _ in range(50):
        if slot in saved_slots():
            break
        page.wait_for_timeout(200)
    assert slot in saved_slots()
    expect(status).to_contain_text("This answer cannot be accepted: question")
    # The trainee answers the first question properly: nothing is left unsaved.
    questions.nth(0).locator("input[type=radio]").nth(1).check()
    expect(status).to_have_text(saved_text, timeout=10000)


def _stored_answers(tool) -> dict[int, object]:
    with tool.app_context():
        from ibm_lms.quiz.models import AttemptAnswer

        found = {answer.slot: answer.response for answer in db.session.execute(select(AttemptAnswer)).scalars()}
        db.session.remove()
        return found


def _stored_after(page, tool, slot: int, unlike=None):
    """The slot's stored response once it is there (and differs from `unlike`), waiting for the autosave."""
    for _ in range(50):
        found = _stored_answers(tool).get(slot)
        if found is not None and found != unlike:
            return found
        page.wait_for_timeout(200)
    return _stored_answers(tool).get(slot)


def test_the_last_answer_wins_from_another_computer_and_after_another_launch(page, browser, cross_site):
    """An attempt continued where this browser's storage is gone (another computer, a frame whose storage is
    blocked) keeps the answers given there; an activity opened in another tab meanwhile breaks nothing."""
    platform, _ = cross_site
    platform.user = DEMO_USERS["trainee"]
    tool = platform.tool_app
    frame = _open(page, platform, "en", f"/courses/{COURSE}/quizzes/practice")
    frame.locator("#start-attempt").click()
    question = frame.locator("fieldset.question:has(input[type=radio]:not([disabled]))").first
    question.wait_for(timeout=10000)
    slot = int(question.get_attribute("data-slot"))
    saved_text = frame.locator("#attempt-form").get_attribute("data-saved")
    for index in (0, 1, 0, 1, 0):  # a trainee changing their mind counts up in this page
        question.locator("input[type=radio]").nth(index).check()
        expect(frame.locator("#save-status")).to_have_text(saved_text, timeout=10000)
    first = _stored_after(page, tool, slot)
    assert first is not None

    # The same attempt where nothing of this page's count is kept (in Moodle's frame with third-party cookies
    # blocked the tool has no storage at all; elsewhere another computer's has none): the change made there is
    # the one kept.
    page.frame("tool").evaluate("() => { try { localStorage.clear(); } catch (blocked) { /* none to clear */ } }")
    frame = _open(page, platform, "en", f"/courses/{COURSE}/quizzes/practice")
    frame.locator("#resume-attempt").click()
    question = frame.locator(f"fieldset.question[data-slot='{slot}']")
    question.wait_for(timeout=10000)
    question.locator("input[type=radio]").nth(1).check()
    assert _stored_after(page, tool, slot, unlike=first) != first
    expect(frame.locator("#save-status")).to_have_text(saved_text, timeout=10000)
    frame = _open(page, platform, "en", f"/courses/{COURSE}/quizzes/practice")
    frame.locator("#resume-attempt").click()
    question = frame.locator(f"fieldset.question[data-slot='{slot}']")
    expect(question.locator("input[type=radio]").nth(1)).to_be_checked(timeout=10000)

    # Another activity opened from Moodle in a second tab signs the trainee in again: this tab keeps saving.
    other = browser.new_page()
    try:
        _open(other, platform, "en", f"/courses/{COURSE}")
    finally:
        other.close()
    another = frame.locator("fieldset.question:has(input[type=radio]:not([disabled]))").nth(1)
    another_slot = int(another.get_attribute("data-slot"))
    another.locator("input[type=radio]").first.check()
    assert _stored_after(page, tool, another_slot) is not None
    expect(frame.locator("#save-status")).to_have_text(saved_text, timeout=10000)


def test_a_timed_exam_warns_before_the_end_whatever_this_computers_clock_says(page, cross_site):
    platform, _ = cross_site
    platform.user = DEMO_USERS["trainee"]
    frame = _open(page, platform, "ru", f"/courses/{COURSE}/quizzes/final-exam")
    frame.locator("#start-attempt").click()
    frame.locator("#timer").wait_for(timeout=10000)
    tool = platform.tool_app
    with tool.app_context():
        from ibm_lms.clock import utcnow
        from ibm_lms.quiz.models import Attempt

        [attempt] = db.session.execute(select(Attempt)).scalars().all()
        attempt.deadline_at = utcnow().replace(tzinfo=None) + timedelta(seconds=63)
        attempt_id = attempt.id
        db.session.commit()
        db.session.remove()
    # This computer's clock is an hour fast: the countdown follows the seconds the server says are left.
    page.add_init_script("(() => { const real = Date.now; Date.now = () => real() + 3600 * 1000; })()")
    page.frame("tool").evaluate("() => window.location.reload()")
    frame.locator("#timer").wait_for(timeout=10000)
    left = int(frame.locator("#timer").get_attribute("data-seconds-left"))
    assert 55 <= left <= 63
    expect(frame.locator("#timer-alert")).to_have_text("Осталась 1 минута", timeout=15000)
    assert page.frame("tool").url.endswith(f"/quiz/attempts/{attempt_id}")  # no reload loop: still the attempt


def test_the_quiz_builder_fits_a_phone_in_belarusian(page, cross_site):
    platform, _ = cross_site
    platform.user = DEMO_USERS["instructor"]
    page.set_viewport_size({"width": 360, "height": 740})
    frame = _open(page, platform, "be", f"/courses/{COURSE}")
    frame.locator("#question-bank").click()
    frame.locator("#new-quiz").click()
    frame.locator("#kind").wait_for(timeout=10000)
    tool = page.frame("tool")
    assert tool.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
