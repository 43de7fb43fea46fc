"""Course packages played as a learning platform plays them, in a real Chromium.

A SCORM player is a page that holds the run-time API object (`API` for 1.2, `API_1484_11` for 2004) and frames
the package; the one here keeps the values it is given and records every call, as Moodle's player does with its
tracks. For cmi5 the platform double hands out the one-time token and the launch data, keeps state documents, and
passes statements to a real LRS (Ralph), which stores them; the tool's own xAPI rules check them too."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from ibm_lms.xapi.validation import problems
from tests.browser.test_lessons import _axe_violations
from tests.scorm.conftest import COURSE, built_packages  # noqa: F401 - a fixture
from tests.xapi.conftest import lrs  # noqa: F401 - a fixture

LESSONS = 7
ROOT = Path(__file__).resolve().parents[2]

RUNTIME = ROOT / ".cache" / "npm" / "node_modules" / "scorm-again" / "dist"
# The player's side of the SCORM API is scorm-again's (what several LMSs embed): it refuses what the
# standard refuses (a value of the wrong format, a call out of order), and each refusal is recorded here.
# `window.values` holds what the package set; the platform's stored data come in the address's fragment.
PLAYER = """<!doctype html><html><head><meta charset="utf-8"><title>player</title>
<script src="%SCRIPT%"></script><script>
window.calls = []; window.errors = []; window.values = {};
const api = new %CLASS%({autocommit: false, logLevel: 5});
api.loadFromJSON(JSON.parse(decodeURIComponent(location.hash.slice(1) || "%7B%7D")));
for (const name of %METHODS%) {
  const real = api[name].bind(api);
  api[name] = (...args) => {
    const result = real(...args);
    const code = String(api.%ERROR%());
    window.calls.push([name].concat(args));
    if (code !== "0") { window.errors.push([name].concat(args, [code])); }
    else if (name.endsWith("SetValue")) { window.values[args[0]] = args[1]; }
    return result;
  };
}
window.%GLOBAL% = api;
</script></head><body><iframe id="package" name="package" src="package/index.html%QUERY%"
 style="width:1200px;height:800px"></iframe></body></html>"""
PLAYERS = {
    "scorm12": {"%SCRIPT%": "scorm12.min.js", "%CLASS%": "Scorm12API", "%ERROR%": "LMSGetLastError",
                "%GLOBAL%": "API",
                "%METHODS%": '["LMSInitialize", "LMSGetValue", "LMSSetValue", "LMSCommit", "LMSFinish"]'},
    "scorm2004": {"%SCRIPT%": "scorm2004.min.js", "%CLASS%": "Scorm2004API", "%ERROR%": "GetLastError",
                  "%GLOBAL%": "API_1484_11",
                  "%METHODS%": '["Initialize", "GetValue", "SetValue", "Commit", "Terminate"]'},
}


class _Platform(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, lrs_endpoint: str = "", lrs_auth: tuple[str, str] = ("", "")):
        self.root, self.lrs_endpoint, self.lrs_auth = root, lrs_endpoint, lrs_auth
        self.state: dict[str, bytes] = {}
        self.tokens_given = 0
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(SimpleHTTPRequestHandler):
    server: _Platform

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(args[2].root), **kwargs)

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body: bytes = b"", kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _state_key(self) -> str:
        query = parse_qs(urlsplit(self.path).query)
        return "|".join(query.get(name, [""])[0] for name in ("activityId", "registration", "stateId"))

    def _authorised(self) -> bool:
        expected = "Basic " + base64.b64encode(":".join(self.server.lrs_auth).encode()).decode()
        return self.headers.get("Authorization") == expected

    def do_POST(self):
        path = urlsplit(self.path).path
        if path == "/fetch":
            # cmi5: the token is given once per launch.
            self.server.tokens_given += 1
            if self.server.tokens_given > 1:
                return self._answer(200, json.dumps({"error-code": "1", "error-text": "used"}).encode())
            token = base64.b64encode(":".join(self.server.lrs_auth).encode()).decode()
            return self._answer(200, json.dumps({"auth-token": token}).encode())
        if path == "/xapi/statements":
            answer = requests.post(self.server.lrs_endpoint + "statements", data=self._body(), timeout=10, headers={
                "Authorization": self.headers.get("Authorization", ""), "Content-Type": "application/json",
                "X-Experience-API-Version": "1.0.3"})
            return self._answer(answer.status_code, answer.content)
        return self._answer(404)

    def do_PUT(self):
        if urlsplit(self.path).path != "/xapi/activities/state" or not self._authorised():
            return self._answer(401)
        self.server.state[self._state_key()] = self._body()
        return self._answer(204)

    def do_GET(self):
        if urlsplit(self.path).path == "/xapi/activities/state":
            if not self._authorised():
                return self._answer(401)
            found = self.server.state.get(self._state_key())
            return self._answer(200, found) if found is not None else self._answer(404)
        return super().do_GET()


def _serve(package: Path, root: Path, query: str = "", **service) -> _Platform:
    with zipfile.ZipFile(package) as archive:
        archive.extractall(root / "package")
    for flavour, parts in PLAYERS.items():
        if f"-{flavour}." in package.name:
            if not (RUNTIME / parts["%SCRIPT%"]).exists():
                if os.environ.get("CI"):
                    pytest.fail("scorm-again is missing: scripts/test installs it with npm")
                pytest.skip("scorm-again is not installed (scripts/test installs it with npm)")
            shutil.copy(RUNTIME / parts["%SCRIPT%"], root / parts["%SCRIPT%"])
            player = PLAYER
            for mark, value in parts.items():
                player = player.replace(mark, value)
            (root / "player.html").write_text(player.replace("%QUERY%", query), encoding="utf-8")
    server = _Platform(root, **service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _contents(page):
    return page.frame_locator("#package")


def _lesson(page):
    return _contents(page).frame_locator("#lesson-frame")


def _complete_every_lesson(contents, lesson, after_each=None) -> None:
    """Marks each lesson complete in order, each on its own page (a click on the page still leaving is no click)."""
    keys = [link.get_attribute("data-lesson") for link in contents.locator("a[data-lesson]").all()]
    assert len(keys) == LESSONS
    for number, key in enumerate(keys, 1):
        # From the keyboard: a click's coordinates may meet a layout still moving as lazy figures load.
        lesson.locator(f'#complete-lesson[data-lesson="{key}"]:enabled').press("Enter")
        contents.locator(f'[data-done-for="{key}"]').wait_for()
        if after_each:
            after_each(number)


KEYS = ("formats-and-layouts", "check-digits", "mrz-at-the-desk", "security-features", "fraud-types",
        "facial-comparison", "limits-and-morphing")


def marks(bits: str) -> str:
    """The suspend data course.js keeps for these lessons: a version, an FNV-1a hash of the keys, a bit a lesson."""
    digest = 0x811C9DC5
    for character in ",".join(KEYS):
        digest = ((digest ^ ord(character)) * 0x01000193) & 0xFFFFFFFF
    return f"v2:{digest:x}:{bits}"


def _leave(page) -> dict:
    """The learner leaves the package (the player closes it): what the player holds afterwards."""
    page.frame(name="package").evaluate("window.dispatchEvent(new Event('pagehide'))")
    # Reading a value not set yet answers error 403 (not initialized) in SCORM 2004: a value, not a fault.
    refused = [call for call in page.evaluate("window.errors") if call[0] != "GetValue" or call[-1] != "403"]
    assert refused == [], "the SCORM run-time refused a call"
    return page.evaluate("window.values")


def _calls(page, name: str) -> list[list]:
    return [call for call in page.evaluate("window.calls") if call[0] == name]


def _cmi5_launch(platform: _Platform, activity: str, registration: str, actor: dict, launch_data: dict) -> str:
    """The address a cmi5 platform launches the unit with, its launch data stored where the unit reads it."""
    platform.state[f"{activity}|{registration}|LMS.LaunchData"] = json.dumps(launch_data).encode()
    return platform.url + "/package/index.html?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in (
        ("endpoint", platform.url + "/xapi/"), ("fetch", platform.url + "/fetch"), ("actor", json.dumps(actor)),
        ("registration", registration), ("activityId", activity)))


@pytest.fixture
def served(tmp_path):
    servers = []

    def serve(package: Path, query: str = "", **service) -> _Platform:
        server = _serve(package, tmp_path / f"platform-{len(servers)}", query, **service)
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_scorm12_records_each_lesson_and_completes_the_course(page, served, built_packages):  # noqa: F811
    platform = served(built_packages[("en", "scorm12")])
    page.goto(platform.url + "/player.html")
    _contents(page).locator("#package-status").filter(has_text="recorded by the learning platform").wait_for()
    assert _calls(page, "LMSInitialize") == [["LMSInitialize", ""]]
    _complete_every_lesson(_contents(page), _lesson(page))
    values = page.evaluate("window.values")
    assert values["cmi.core.lesson_status"] == "completed"
    assert values["cmi.suspend_data"] == marks("1" * LESSONS)
    assert values["cmi.core.lesson_location"] == "limits-and-morphing"
    assert _calls(page, "LMSCommit")
    _contents(page).locator("#package-status").filter(has_text="You have completed the course.").wait_for()
    # Leaving: the session time in CMITimespan, no suspension once complete, and the session finished.
    values = _leave(page)
    assert values["cmi.core.exit"] == "suspend"  # the next launch opens where the learner was
    assert re.fullmatch(r"\d{4}:\d{2}:\d{2}\.\d{2}", values["cmi.core.session_time"])
    assert _calls(page, "LMSFinish") == [["LMSFinish", ""]]


def test_scorm12_resumes_where_the_learner_left(page, served, built_packages):  # noqa: F811
    platform = served(built_packages[("en", "scorm12")])
    stored = {"core": {"lesson_status": "incomplete", "lesson_location": "mrz-at-the-desk", "entry": "resume"},
              "suspend_data": marks("1100000")}
    page.goto(platform.url + "/player.html#" + quote(json.dumps(stored)))
    _contents(page).locator("#package-progress").filter(has_text=f"2 of {LESSONS}").wait_for()
    assert page.frame(name="lesson-frame").url.endswith("lesson-mrz-at-the-desk.html")
    assert _contents(page).locator('a[data-lesson="mrz-at-the-desk"]').get_attribute("aria-current") == "page"
    # Not yet complete: leaving suspends, so the next launch resumes.
    assert _leave(page)["cmi.core.exit"] == "suspend"


def test_scorm2004_reports_progress_and_completion(page, served, built_packages):  # noqa: F811
    platform = served(built_packages[("ka", "scorm2004")])
    page.goto(platform.url + "/player.html")
    contents = _contents(page)

    def check_progress(number: int) -> None:
        values = page.evaluate("window.values")
        assert values["cmi.suspend_data"] == marks("1" * number + "0" * (LESSONS - number))
        if number < LESSONS:
            assert values["cmi.completion_status"] == "incomplete"
            assert float(values["cmi.progress_measure"]) == pytest.approx(number / LESSONS, abs=1e-3)

    _lesson(page).locator('#complete-lesson:enabled').wait_for()
    for frame in (page.frame(name="package"), page.frame(name="lesson-frame")):
        frame.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        assert _axe_violations(frame) == []
    _complete_every_lesson(contents, _lesson(page), check_progress)
    values = page.evaluate("window.values")
    assert values["cmi.completion_status"] == "completed" and float(values["cmi.progress_measure"]) == 1
    assert "success_status" not in " ".join(values), "a package of self-checks claims no success"
    assert contents.locator("html").get_attribute("lang") == "ka"
    values = _leave(page)
    assert values["cmi.exit"] == "suspend"  # "normal" would end the attempt: a new one starts afresh
    assert re.fullmatch(r"PT\d+H\d+M\d+\.\d{2}S", values["cmi.session_time"])
    assert _calls(page, "Terminate") == [["Terminate", ""]]


@pytest.mark.parametrize("entry", ["resume", "ab-initio"])
def test_scorm2004_resumes_where_the_player_kept_the_place(page, served, built_packages, entry):  # noqa: F811
    # Moodle says "ab-initio" after a session that ended without setting cmi.exit (a closed phone tab), yet keeps
    # the location and suspend data: the learner still resumes.
    platform = served(built_packages[("en", "scorm2004")])
    stored = {"entry": entry, "location": "fraud-types", "suspend_data": marks("1111000"),
              "completion_status": "incomplete", "progress_measure": "0.5714"}
    page.goto(platform.url + "/player.html#" + quote(json.dumps(stored)))
    _contents(page).locator("#package-progress").filter(has_text=f"4 of {LESSONS}").wait_for()
    assert page.frame(name="lesson-frame").url.endswith("lesson-fraud-types.html")
    assert page.evaluate("window.values")["cmi.exit"] == "suspend"  # set at once: an abrupt end resumes too
    # Progress is never lowered: 4 of 7 is what the player held.
    assert float(page.evaluate("window.values").get("cmi.progress_measure", "0.5714")) >= 0.5714


def test_marks_of_another_build_are_not_put_on_these_lessons_and_a_completed_course_stays_complete(
        page, served, built_packages):  # noqa: F811 - a fixture
    platform = served(built_packages[("en", "scorm2004")])
    stored = {"entry": "resume", "location": "check-digits", "suspend_data": "v2:deadbeef:1111111",
              "completion_status": "completed", "progress_measure": "1"}
    page.goto(platform.url + "/player.html#" + quote(json.dumps(stored)))
    contents = _contents(page)
    contents.locator("#package-status").filter(has_text="You have completed the course.").wait_for()
    contents.locator("#package-progress").filter(has_text=f"{LESSONS} of {LESSONS}").wait_for()
    values = page.evaluate("window.values")
    assert values.get("cmi.completion_status", "completed") == "completed"
    assert float(values.get("cmi.progress_measure", "1")) == 1


def test_without_a_player_the_package_keeps_progress_in_the_browser(page, served, built_packages):  # noqa: F811
    platform = served(built_packages[("en", "scorm12")])
    page.goto(platform.url + "/package/index.html")
    page.locator("#package-status").filter(has_text="kept in this browser only").wait_for()
    assert not page.locator("#package-exit").is_visible()  # nowhere to go back to
    page.frame_locator("#lesson-frame").locator("#complete-lesson:enabled").press("Enter")
    page.locator("#package-progress").filter(has_text=f"1 of {LESSONS}").wait_for()
    page.frame_locator("#lesson-frame").locator('#complete-lesson[data-lesson="check-digits"]:enabled').wait_for()
    page.reload()
    page.locator("#package-progress").filter(has_text=f"1 of {LESSONS}").wait_for()
    assert page.frame(name="lesson-frame").url.endswith("lesson-check-digits.html")


def test_cmi5_sends_its_statements_to_the_lrs_and_keeps_its_place(page, served, built_packages, lrs):  # noqa: F811
    registration = "5f1f6d1e-8d3a-4c5e-9d07-3c0b8b9a2f11"
    actor = {"objectType": "Agent", "account": {"homePage": "https://moodle.example", "name": "trainee-17"}}
    activity = f"http://localhost/courses/{COURSE}"
    platform = served(built_packages[("en", "cmi5")], lrs_endpoint=lrs.endpoint, lrs_auth=lrs.auth)
    launch_data = {"contextTemplate": {"contextActivities": {"grouping": [{"id": "https://moodle.example/cmi5/1"}]},
                                       "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid":
                                                      "session-1"}},
                   "launchMode": "Normal", "moveOn": "Completed"}
    page.goto(_cmi5_launch(platform, activity, registration, actor, launch_data))
    page.locator("#package-status").filter(has_text="recorded by the learning platform").wait_for()
    _complete_every_lesson(page, page.frame_locator("#lesson-frame"))
    page.evaluate("window.dispatchEvent(new Event('pagehide'))")

    def verbs() -> list[str]:
        return [statement["verb"]["id"].rsplit("/", 1)[1] for statement in lrs.statements()]

    page.wait_for_timeout(200)
    deadline = 50
    while verbs() != ["initialized", "completed", "terminated"] and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    stored = lrs.statements()
    assert [s["verb"]["id"].rsplit("/", 1)[1] for s in stored] == ["initialized", "completed", "terminated"]
    for statement in stored:
        sent = {name: value for name, value in statement.items() if name not in ("stored", "authority")}
        assert problems(sent) == [], problems(sent)
        assert statement["actor"] == actor and statement["object"]["id"] == activity
        assert statement["context"]["registration"] == registration
        # The platform's context template is kept, the cmi5 category added.
        context = statement["context"]
        assert context["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/sessionid"] == "session-1"
        categories = [entry["id"] for entry in context["contextActivities"]["category"]]
        assert "https://w3id.org/xapi/cmi5/context/categories/cmi5" in categories
    completed = stored[1]
    assert "https://w3id.org/xapi/cmi5/context/categories/moveon" in [
        entry["id"] for entry in completed["context"]["contextActivities"]["category"]]
    assert completed["result"]["completion"] is True and completed["result"]["duration"].startswith("PT")
    # Where the learner is, in the unit's own state document, saved once completed was accepted.
    for _ in range(50):
        [progress] = [json.loads(value) for key, value in platform.state.items() if key.endswith("package-progress")]
        if progress.get("completedSent"):
            break
        page.wait_for_timeout(100)
    assert progress == {"bookmark": "limits-and-morphing", "done": marks("1" * LESSONS), "completed": True,
                        "completedSent": True}


def test_cmi5_browse_sends_no_completion_and_a_later_normal_session_does(
        page, served, built_packages, lrs):  # noqa: F811 - fixtures
    registration = "0a5b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
    actor = {"objectType": "Agent", "mbox": "mailto:trainee@example.org"}
    activity = "https://moodle.example/cmi5/activity/42"
    platform = served(built_packages[("en", "cmi5")], lrs_endpoint=lrs.endpoint, lrs_auth=lrs.auth)
    page.goto(_cmi5_launch(platform, activity, registration, actor,
                           {"contextTemplate": {}, "launchMode": "Browse", "moveOn": "Completed"}))
    page.locator("#package-status").filter(has_text="recorded by the learning platform").wait_for()
    _complete_every_lesson(page, page.frame_locator("#lesson-frame"))
    page.evaluate("window.dispatchEvent(new Event('pagehide'))")
    _wait_for_statements(page, lrs, 2)
    assert _verbs(lrs) == ["initialized", "terminated"]

    # Back in Normal mode in the same registration: every lesson is done, so the unit completes now.
    platform.tokens_given = 0
    page.goto(_cmi5_launch(platform, activity, registration, actor, {
        "contextTemplate": {}, "launchMode": "Normal", "moveOn": "Completed",
        "returnURL": platform.url + "/back-in-moodle.html"}))
    page.locator("#package-status").filter(has_text="You have completed the course.").wait_for()
    _wait_for_statements(page, lrs, 4)
    assert _verbs(lrs) == ["initialized", "terminated", "initialized", "completed"]
    # Exit: terminated goes first, then the platform's page.
    page.locator("#package-exit").click()
    page.wait_for_url(platform.url + "/back-in-moodle.html")
    assert _verbs(lrs) == ["initialized", "terminated", "initialized", "completed", "terminated"]


def test_cmi5_without_launch_data_is_not_connected(page, served, built_packages, lrs):  # noqa: F811
    platform = served(built_packages[("en", "cmi5")], lrs_endpoint=lrs.endpoint, lrs_auth=lrs.auth)
    url = _cmi5_launch(platform, "https://moodle.example/cmi5/activity/7", "1b5b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
                       {"objectType": "Agent", "mbox": "mailto:t@example.org"}, {})
    platform.state.clear()
    page.goto(url)
    page.locator("#package-status").filter(has_text="kept in this browser only").wait_for()
    assert lrs.statements() == []


def _verbs(store) -> list[str]:
    return [statement["verb"]["id"].rsplit("/", 1)[1] for statement in store.statements()]


def _wait_for_statements(page, store, count: int) -> None:
    for _ in range(100):
        if len(store.statements()) >= count:
            return
        page.wait_for_timeout(100)
