"""A launch inside a cross-site iframe over HTTPS, in Chromium with third-party cookies blocked."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from ibm_lms.config import LOCALES
from tests.browser.conftest import TOOL_HOST
from tests.conftest import course_count


def test_browser_blocks_plain_third_party_cookies_but_keeps_partitioned_ones(page, cross_site):
    platform, _ = cross_site
    probe = f"https://{TOOL_HOST}:{platform.port}/cookie-probe"
    page.goto(f"{platform.base_url}/frame-probe?src={probe}?set=1")
    page.wait_for_load_state("networkidle")
    page.goto(f"{platform.base_url}/frame-probe?src={probe}")
    frame = page.frame_locator("#probe")
    returned = json.loads(frame.locator("body").inner_text())
    assert "probe_partitioned" in returned
    assert "probe_plain" not in returned, "third-party cookies are not blocked: the test would prove nothing"


ACCESSIBILITY_PROBLEMS = """() => {
  const problems = [];
  for (const control of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const labelled = control.labels && control.labels.length || control.getAttribute("aria-label");
    if (!labelled) problems.push("unlabelled control " + (control.name || control.id));
  }
  for (const image of document.querySelectorAll("img")) {
    if (!image.hasAttribute("alt")) problems.push("image without alt " + image.src);
  }
  for (const button of document.querySelectorAll("button, a")) {
    if (!button.textContent.trim() && !button.getAttribute("aria-label")) problems.push("empty " + button.tagName);
  }
  if (document.querySelectorAll("h1").length !== 1) problems.push("pages need exactly one h1");
  if (!document.documentElement.lang) problems.push("no lang on html");
  if (!document.querySelector("main")) problems.push("no main landmark");
  const wide = [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1);
  if (wide.length) problems.push("wider than the screen: " + wide[0].tagName + "." + wide[0].className);
  return problems;
}"""


@pytest.mark.parametrize("page_of", ["catalogue", "course"])
def test_pages_are_accessible_and_fit_a_small_phone_in_every_locale(page, cross_site, page_of):
    platform, _ = cross_site
    # 320 CSS pixels: the narrowest phones in use, with Moodle's own margin around the frame.
    page.set_viewport_size({"width": 320, "height": 640})
    for locale in LOCALES:
        page.goto(f"{platform.base_url}/course/view.php?locale={locale}")
        frame = page.frame_locator("#tool")
        frame.locator(f"html[lang={locale}] .course-card").first.wait_for(timeout=15000)
        if page_of == "course":
            frame.locator(".course-card a").first.click()
            frame.locator(".outcomes").wait_for(timeout=10000)
        assert page.frame("tool").evaluate(ACCESSIBILITY_PROBLEMS) == [], (locale, page_of)


def _two_clicks_stay_signed_in(frame, *, course_index: int, locale: str) -> None:
    """A link to a course page, then the language form (CSRF token and session both needed)."""
    frame.locator(".course-card a").nth(course_index).click()
    frame.locator(".outcomes").wait_for(timeout=10000)
    assert "Nino Beridze" in frame.locator(".identity").inner_text()
    frame.locator("#locale-select").select_option(locale)
    frame.locator(".language-menu button").click()
    frame.locator(f"html[lang={locale}]").wait_for(timeout=10000)
    assert "Nino Beridze" in frame.locator(".identity").inner_text()


def test_launch_and_two_clicks_inside_the_moodle_frame(page, cross_site):
    platform, _tool_url = cross_site
    page.goto(f"{platform.base_url}/course/view.php?locale=uk")
    frame = page.frame_locator("#tool")
    # The launch lands on the catalogue, signed in, in the platform's language.
    frame.locator("h1", has_text="Курси").wait_for(timeout=15000)
    assert "Nino Beridze" in frame.locator(".identity").inner_text()
    assert frame.locator(".course-card").count() == course_count()
    _two_clicks_stay_signed_in(frame, course_index=2, locale="ka")
    assert page.url.startswith(platform.base_url)


def _wait_or_explain(page, locator, timeout=15000):
    """Waits for `locator` in the tool's frame; if it never shows, fails with what the frame shows instead."""
    try:
        locator.wait_for(timeout=timeout)
    except PlaywrightTimeoutError:
        # Frame URLs are known without asking the page; its text is asked for with a bound, as the page
        # may not answer any more.
        frames = ", ".join(f.url[:200] for f in page.frames)
        try:
            shown = page.frame_locator("#tool").locator("body").inner_text(timeout=2000)
        except PlaywrightTimeoutError:
            shown = "(no answer)"
        pytest.fail(f"the tool's frame never got there; frames: {frames}; it shows: {shown[:400]}")


@pytest.mark.parametrize("listens_after_ms", [0, 1000], ids=["platform-ready", "platform-listens-late"])
def test_launch_through_platform_storage_when_the_browser_keeps_no_tool_cookie(cookieless_page, cross_site,
                                                                               listens_after_ms):
    platform, _ = cross_site
    # The platform is this test's own (see cross_site), so the change ends with it.
    platform.storage_target = "_parent"
    # A message sent before the platform's page listens is lost; the tool sends it again.
    platform.storage_listens_after_ms = listens_after_ms
    page = cookieless_page
    page.goto(f"{platform.base_url}/course/view.php?locale=ro")
    frame = page.frame_locator("#tool")
    # The launch itself succeeds through the platform's storage and lands signed in.
    _wait_or_explain(page, frame.locator(".course-card").first)
    assert "Nino Beridze" in frame.locator(".identity").inner_text()
    assert frame.locator("html").get_attribute("lang") == "ro"
    # The session travels in the links and forms, so clicks inside the frame keep working.
    _two_clicks_stay_signed_in(frame, course_index=4, locale="hy")
