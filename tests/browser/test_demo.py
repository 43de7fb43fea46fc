"""The demo a newcomer tries: the built-in platform frames the tool over plain http on loopback."""

from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

from ibm_lms.extensions import db
from ibm_lms.worker import deliver_in_background
from tests.conftest import ROOT, make_app, translated


@pytest.fixture
def demo_url(app, database_url, tmp_path):
    with make_server("127.0.0.1", 0, lambda e, s: None) as probe:
        port = probe.server_port
    base = f"http://127.0.0.1:{port}"
    demo = make_app(database_url, tmp_path / "demo-instance", BASE_URL=base, DEMO_MODE=True)
    with demo.app_context():
        from ibm_lms.content import service as content
        from ibm_lms.demo.service import register_demo_platform

        content.load(ROOT / "courses")
        register_demo_platform()
        db.session.remove()
    server = make_server("127.0.0.1", port, demo, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # As `ibm-lms demo` does: the outboxes are delivered from a thread of the server's process.
    stop = threading.Event()
    delivery = deliver_in_background(demo, stop=stop, idle_seconds=0.2)
    yield base
    stop.set()
    delivery.join(timeout=10)
    server.shutdown()


def _launch_from_demo(page, demo_url: str, locale: str, button_value: str, activity: str = "catalogue"):
    """Picks an activity, a language and a launch button on the demo page; returns the frame the tool opens in."""
    page.goto(demo_url + "/demo/")
    page.select_option("#demo-activity", activity)
    page.select_option("#demo-locale", locale)
    page.click(f"button[value='{button_value}']")
    return page.frame_locator("#tool-frame")


def test_trainee_launch_from_the_demo_page(page, demo_url):
    frame = _launch_from_demo(page, demo_url, "be", "trainee")
    frame.locator(".course-card").first.wait_for(timeout=15000)
    assert frame.locator("html").get_attribute("lang") == "be"
    assert "Nino Beridze" in frame.locator(".identity").inner_text()


def test_a_trainees_quiz_score_reaches_the_demo_gradebook(page, demo_url):
    frame = _launch_from_demo(page, demo_url, "uk", "trainee", activity="anti-corruption-post-test")
    frame.locator("#start-attempt").click(timeout=15000)
    questions = frame.locator("fieldset.question")
    questions.first.wait_for(timeout=10000)
    for index in range(questions.count()):
        choice = questions.nth(index).locator("input[type=radio]:not([disabled]), input[type=checkbox]:not([disabled])")
        if choice.count():
            choice.first.check()
    page.once("dialog", lambda dialog: dialog.accept())
    frame.locator("#submit-attempt").click()
    shown = frame.locator("#attempt-score").inner_text(timeout=10000)
    percent = re.search(r"(\d+(?:[.,]\d+)?)\s*%", shown).group(1).replace(",", ".")
    # Nothing else to start: the score is delivered to the platform, whose gradebook shows it in its column.
    gradebook = page.context.new_page()
    for _ in range(50):
        gradebook.goto(demo_url + "/demo/gradebook")
        row = gradebook.locator("#demo-gradebook tbody tr", has_text="Nino Beridze")
        if "/ 100" in row.inner_text():
            break
        gradebook.wait_for_timeout(200)
    headings = gradebook.locator("#demo-gradebook thead th").all_inner_texts()
    cells = row.locator("td").all_inner_texts()
    # The gradebook speaks the language the browser chose in the tool, as the rest of the demo does.
    given, maximum = cells[headings.index(translated("uk", "Anti-corruption: post-test")) - 1].split(" / ")
    # The page rounds to whole percent; the gradebook holds the score to two decimals.
    assert maximum == "100" and abs(float(given) - float(percent)) <= 0.5
    assert gradebook.locator("#no-grades").count() == 0


def test_instructor_selects_content_and_the_demo_platform_receives_it(page, demo_url):
    frame = _launch_from_demo(page, demo_url, "en", "instructor:select")
    frame.locator("#course-risk-analysis").check(timeout=15000)
    frame.locator("#course-anti-corruption").check()
    frame.locator(".deep-link-form button").click()
    frame.locator("#selected-count").wait_for(timeout=15000)
    assert "received 2 activities" in frame.locator("#selected-count").inner_text()
    urls = frame.locator(".selected-items code").all_inner_texts()
    assert urls == [demo_url + "/courses/risk-analysis", demo_url + "/courses/anti-corruption"]


def test_the_academy_administrator_reaches_the_certification_dashboard(page, demo_url):
    frame = _launch_from_demo(page, demo_url, "ka", "administrator")
    frame.locator(".identity a[href*='/certification/']").click(timeout=15000)
    frame.locator("#pipeline").wait_for(timeout=15000)
    assert frame.locator("html").get_attribute("lang") == "ka"
    # Fourteen programmes (two levels in seven areas) in the regional default.
    assert frame.locator("#pipeline tbody tr").count() == 14
    # Its stage headings do not fit side by side in the frame: one card per programme, nothing scrolls sideways,
    # and every count says its stage as the column heading does.
    pipeline = frame.locator("#pipeline")
    assert "stacked" in pipeline.get_attribute("class")
    assert pipeline.evaluate("t => t.parentElement.scrollWidth <= t.parentElement.clientWidth + 1")
    headings = frame.locator("#pipeline thead th").all_inner_texts()[1:]
    first_row = frame.locator("#pipeline tbody tr").first
    shown = first_row.locator("td").evaluate_all("cells => cells.map(c => getComputedStyle(c, '::before').content)")
    assert shown == [f'"{heading}"' for heading in headings]
    # Where the columns fit, the table stays a table.
    pipeline.evaluate("t => { t.parentElement.style.width = '4000px'; t.parentElement.style.maxWidth = 'none'; }")
    frame.locator("html").evaluate("h => h.ownerDocument.defaultView.dispatchEvent(new Event('resize'))")
    frame.locator("#pipeline:not(.stacked)").wait_for(timeout=5000)


def test_the_login_says_it_is_connecting_only_while_its_script_runs(page, demo_url):
    # Without its script (JavaScript off, or the file not loaded) the page connects nothing, so it must not say so:
    # the <noscript> advice, or nothing, is what stands.
    page.context.clear_cookies()  # a browser the tool has not seen yet: the login checks its cookies first
    page.route("**/js/login_check.js*", lambda route: route.abort())
    frame = _launch_from_demo(page, demo_url, "ka", "trainee")
    frame.locator("#login-check").wait_for(timeout=15000)
    assert frame.locator("#connecting").is_hidden()
    page.unroute("**/js/login_check.js*")
    frame = _launch_from_demo(page, demo_url, "ka", "trainee")
    frame.locator(".course-card").first.wait_for(timeout=15000)
