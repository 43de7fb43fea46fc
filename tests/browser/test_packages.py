"""Course packages played as a learning platform plays them, in a real Chromium.

A SCORM player is a page that holds the run-time API object (`API` for 1.2, `API_1484_11` for 2004) and frames
the package; the one here keeps the values it is given and records every call, as Moodle's player does with its
tracks. For cmi5 the platform double hands out the one-time token and the launch data, keeps state documents, and
passes statements to a real LRS (Ralph), which stores them; the tool's own xAPI rules check them too."""

from __future__ import annotations

import base64
import json
import re
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from ibm_lms.xapi.validation import problems
from tests.scorm.conftest import COURSE, built_packages  # noqa: F401 - a fixture
from tests.xapi.conftest import lrs  # noqa: F401 - a fixture

LESSONS = 7

PLAYER = """<!doctype html><html><head><meta charset="utf-8"><title>player</title><script>
const initial = JSON.parse(decodeURIComponent(location.hash.slice(1) || "%7B%7D"));
window.values = Object.assign({}, initial);
window.calls = [];
function record(name, args, result) { window.calls.push([name].concat(args)); return result; }
window.API = {
  LMSInitialize: (p) => record("LMSInitialize", [p], "true"),
  LMSGetValue: (k) => record("LMSGetValue", [k], k in window.values ? window.values[k] :
                             (k === "cmi.core.lesson_status" ? "not attempted" : "")),
  LMSSetValue: (k, v) => { window.values[k] = v; return record("LMSSetValue", [k, v], "true"); },
  LMSCommit: (p) => record("LMSCommit", [p], "true"),
  LMSFinish: (p) => record("LMSFinish", [p], "true"),
  LMSGetLastError: () => "0", LMSGetErrorString: () => "", LMSGetDiagnostic: () => ""
};
window.API_1484_11 = {
  Initialize: (p) => record("Initialize", [p], "true"),
  GetValue: (k) => record("GetValue", [k], k in window.values ? window.values[k] :
                          (k === "cmi.completion_status" ? "not attempted" : "")),
  SetValue: (k, v) => { window.values[k] = v; return record("SetValue", [k, v], "true"); },
  Commit: (p) => record("Commit", [p], "true"),
  Terminate: (p) => record("Terminate", [p], "true"),
  GetLastError: () => "0", GetErrorString: () => "", GetDiagnostic: () => ""
};
</script></head><body><iframe id="package" name="package" src="package/index.html%QUERY%"
 style="width:1200px;height:800px"></iframe></body></html>"""


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
    (root / "player.html").write_text(PLAYER.replace("%QUERY%", query), encoding="utf-8")
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


def _calls(page, name: str) -> list[list]:
    return [call for call in page.evaluate("window.calls") if call[0] == name]


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
    assert values["cmi.suspend_data"] == "v1:" + "1" * LESSONS
    assert values["cmi.core.lesson_location"] == "limits-and-morphing"
    assert _calls(page, "LMSCommit")
    _contents(page).locator("#package-status").filter(has_text="You have completed the course.").wait_for()
    # Leaving: the session time in CMITimespan, no suspension once complete, and the session finished.
    page.frame(name="package").evaluate("window.dispatchEvent(new Event('pagehide'))")
    values = page.evaluate("window.values")
    assert values["cmi.core.exit"] == ""
    assert re.fullmatch(r"\d{4}:\d{2}:\d{2}\.\d{2}", values["cmi.core.session_time"])
    assert _calls(page, "LMSFinish") == [["LMSFinish", ""]]


def test_scorm12_resumes_where_the_learner_left(page, served, built_packages):  # noqa: F811
    platform = served(built_packages[("en", "scorm12")])
    stored = {"cmi.core.lesson_status": "incomplete", "cmi.suspend_data": "v1:1100000",
              "cmi.core.lesson_location": "mrz-at-the-desk", "cmi.core.entry": "resume"}
    page.goto(platform.url + "/player.html#" + quote(json.dumps(stored)))
    _contents(page).locator("#package-progress").filter(has_text=f"2 of {LESSONS}").wait_for()
    assert page.frame(name="lesson-frame").url.endswith("lesson-mrz-at-the-desk.html")
    assert _contents(page).locator('a[data-lesson="mrz-at-the-desk"]').get_attribute("aria-current") == "page"
    # Not yet complete: leaving suspends, so the next launch resumes.
    page.frame(name="package").evaluate("window.dispatchEvent(new Event('pagehide'))")
    assert page.evaluate("window.values")["cmi.core.exit"] == "suspend"


def test_scorm2004_reports_progress_and_completion(page, served, built_packages):  # noqa: F811
    platform = served(built_packages[("ka", "scorm2004")])
    page.goto(platform.url + "/player.html")
    contents = _contents(page)

    def check_progress(number: int) -> None:
        values = page.evaluate("window.values")
        assert values["cmi.suspend_data"] == "v1:" + "1" * number + "0" * (LESSONS - number)
        if number < LESSONS:
            assert values["cmi.completion_status"] == "incomplete"
            assert float(values["cmi.progress_measure"]) == pytest.approx(number / LESSONS, abs=1e-3)

    _complete_every_lesson(contents, _lesson(page), check_progress)
    values = page.evaluate("window.values")
    assert values["cmi.completion_status"] == "completed" and float(values["cmi.progress_measure"]) == 1
    assert "success_status" not in " ".join(values), "a package of self-checks claims no success"
    assert contents.locator("html").get_attribute("lang") == "ka"
    page.frame(name="package").evaluate("window.dispatchEvent(new Event('pagehide'))")
    values = page.evaluate("window.values")
    assert values["cmi.exit"] == "normal"
    assert re.fullmatch(r"PT\d+H\d+M\d+\.\d{2}S", values["cmi.session_time"])
    assert _calls(page, "Terminate") == [["Terminate", ""]]


def test_without_a_player_the_package_keeps_progress_in_the_browser(page, served, built_packages):  # noqa: F811
    platform = served(built_packages[("en", "scorm12")])
    page.goto(platform.url + "/package/index.html")
    page.locator("#package-status").filter(has_text="kept in this browser only").wait_for()
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
    platform.state[f"{activity}|{registration}|LMS.LaunchData"] = json.dumps(launch_data).encode()
    query = "?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in (
        ("endpoint", platform.url + "/xapi/"), ("fetch", platform.url + "/fetch"), ("actor", json.dumps(actor)),
        ("registration", registration), ("activityId", activity)))
    platform_page = platform.url + "/player.html"
    page.goto(platform_page.replace("player.html", "package/index.html") + query)
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
    # Where the learner is, in the unit's own state document.
    [progress] = [json.loads(value) for key, value in platform.state.items() if key.endswith("package-progress")]
    assert progress == {"bookmark": "limits-and-morphing", "done": "v1:" + "1" * LESSONS, "completed": True}


def test_cmi5_in_browse_mode_sends_no_completion(page, served, built_packages, lrs):  # noqa: F811
    registration = "0a5b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
    actor = {"objectType": "Agent", "mbox": "mailto:trainee@example.org"}
    activity = f"http://localhost/courses/{COURSE}"
    platform = served(built_packages[("en", "cmi5")], lrs_endpoint=lrs.endpoint, lrs_auth=lrs.auth)
    platform.state[f"{activity}|{registration}|LMS.LaunchData"] = json.dumps(
        {"contextTemplate": {}, "launchMode": "Browse", "moveOn": "Completed"}).encode()
    query = "?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in (
        ("endpoint", platform.url + "/xapi/"), ("fetch", platform.url + "/fetch"), ("actor", json.dumps(actor)),
        ("registration", registration), ("activityId", activity)))
    page.goto(platform.url + "/package/index.html" + query)
    page.locator("#package-status").filter(has_text="recorded by the learning platform").wait_for()
    _complete_every_lesson(page, page.frame_locator("#lesson-frame"))
    page.evaluate("window.dispatchEvent(new Event('pagehide'))")
    deadline = 50
    while len(lrs.statements()) < 2 and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    assert [s["verb"]["id"].rsplit("/", 1)[1] for s in lrs.statements()] == ["initialized", "terminated"]
