"""`ibm-lms scorm build`: what a learning platform reads in each package, and what a bad request is told."""

from __future__ import annotations

import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import defusedxml.ElementTree as SafeET
import pytest

from ibm_lms.scorm import service
from ibm_lms.scorm.data import PackageError

from .conftest import COURSE, LOCALES

CP12 = "{http://www.imsproject.org/xsd/imscp_rootv1p1p2}"
CP2004 = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
CMI5 = "{https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd}"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        for name in ("href", "src"):
            if values.get(name):
                self.found.append(values[name])


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def _read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def test_every_format_and_language_is_one_package(built_packages):
    assert set(built_packages) == {(locale, name) for locale in LOCALES for name in ("scorm12", "scorm2004", "cmi5")}
    for (locale, name), path in built_packages.items():
        assert path.name == f"{COURSE}-{locale}-{name}.zip"
        assert _names(path)[0] == ("cmi5.xml" if name == "cmi5" else "imsmanifest.xml")


@pytest.mark.parametrize("flavour, namespace, version, sco_attribute", [
    ("scorm12", CP12, "1.2", "{http://www.adlnet.org/xsd/adlcp_rootv1p2}scormtype"),
    ("scorm2004", CP2004, "2004 4th Edition", "{http://www.adlnet.org/xsd/adlcp_v1p3}scormType"),
])
def test_the_manifest_lists_one_sco_with_every_file_of_the_package(built_packages, flavour, namespace, version,
                                                                   sco_attribute):
    path = built_packages[("ka", flavour)]
    manifest = SafeET.fromstring(_read(path, "imsmanifest.xml"))
    assert manifest.find(f"{namespace}metadata/{namespace}schemaversion").text == version
    organization = manifest.find(f"{namespace}organizations/{namespace}organization")
    assert manifest.find(f"{namespace}organizations").get("default") == organization.get("identifier")
    title = organization.find(f"{namespace}title").text
    assert re.search("[\u10d0-\u10ff]", title), "the Georgian package is titled in Georgian"
    [item] = organization.findall(f"{namespace}item")
    [resource] = manifest.findall(f"{namespace}resources/{namespace}resource")
    assert item.get("identifierref") == resource.get("identifier")
    assert resource.get(sco_attribute) == "sco" and resource.get("href") == "index.html"
    listed = [entry.get("href") for entry in resource.findall(f"{namespace}file")]
    in_zip = [name for name in _names(path) if name != "imsmanifest.xml"]
    assert sorted(listed) == sorted(in_zip)
    assert manifest.get("identifier") == f"ibm-lms.{COURSE}.ka"


def test_the_cmi5_course_structure_has_its_own_iris_per_language(built_packages, app):
    structure = SafeET.fromstring(_read(built_packages[("en", "cmi5")], "cmi5.xml"))
    course, unit = structure.find(f"{CMI5}course"), structure.find(f"{CMI5}au")
    base = app.config["BASE_URL"]
    assert course.get("id") == f"{base}/packages/cmi5/{COURSE}/en"
    assert unit.get("id") == f"{base}/packages/cmi5/{COURSE}/en/unit"
    georgian = SafeET.fromstring(_read(built_packages[("ka", "cmi5")], "cmi5.xml"))
    assert georgian.find(f"{CMI5}au").get("id") == f"{base}/packages/cmi5/{COURSE}/ka/unit"
    assert unit.get("moveOn") == "Completed"
    assert unit.find(f"{CMI5}url").text == "index.html"
    assert unit.find(f"{CMI5}title/{CMI5}langstring").get("lang") == "en"
    assert "Document" in course.find(f"{CMI5}title/{CMI5}langstring").text


def test_a_build_outside_tests_and_demos_needs_the_tools_public_address(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "TESTING", False)
    monkeypatch.setitem(app.config, "BASE_URL_GIVEN", False)
    result = app.test_cli_runner().invoke(args=["scorm", "build", "--course", COURSE, "--out", str(tmp_path)])
    assert result.exit_code != 0 and "IBM_LMS_BASE_URL is not set" in result.output
    assert not any(tmp_path.iterdir())


def test_every_link_and_image_in_a_package_is_a_file_of_it_or_the_web(built_packages, tmp_path):
    path = built_packages[("en", "scorm12")]
    names = set(_names(path))
    pages = {name: _read(path, name).decode() for name in names if name.endswith(".html")}
    ids = {}
    for name, html in pages.items():
        parser = _Links()
        parser.feed(html)
        ids[name] = (parser.ids, parser.found)
    assert {"index.html", "glossary.html"} <= set(pages) and len(pages) > 5
    for name, (_, links) in ids.items():
        for link in links:
            if urlsplit(link).scheme in ("http", "https"):
                continue
            target, fragment = urldefrag(link)
            target = target or name
            assert target in names, f"{name} links to {link}, which the package does not hold"
            if fragment and target in ids:
                assert fragment in ids[target][0], f"{name} links to {link}: no such anchor"
    # The figures a lesson shows travel with it.
    assert any(name.startswith("figures/") and name.endswith(".svg") for name in names)
    # Nothing in a package reaches back to the tool: it is played where the tool may not be reachable.
    for html in pages.values():
        # The state document's id is an IRI the tool names, not an address anything is fetched from.
        html = re.sub(r' data-state-id="[^"]*"', "", html)
        assert "localhost" not in html and "/lti/" not in html and "csrf_token" not in html


def test_exercises_are_self_checks_with_their_model_answer(built_packages):
    lesson = _read(built_packages[("en", "scorm12")], "lesson-check-digits.html").decode()
    assert lesson.count('class="model-answer"') >= 1
    assert "<form" not in lesson
    assert 'id="complete-lesson"' in lesson and 'data-next="lesson-mrz-at-the-desk.html"' in lesson


def test_the_contents_page_carries_its_lessons_and_sentences_in_the_package_language(built_packages):
    page = _read(built_packages[("ka", "scorm2004")], "index.html").decode()
    assert '<html lang="ka">' in page
    assert "lesson-formats-and-layouts.html" in page
    progress = re.search(r'data-progress="([^"]*)"', page).group(1)
    assert "{done}" in progress and "7" in progress and "lessons completed" not in progress
    assert 'src="assets/lms.js"' in page


def test_each_format_carries_its_own_adapter(built_packages):
    adapters = {name: _read(built_packages[("en", name)], "assets/lms.js").decode()
                for name in ("scorm12", "scorm2004", "cmi5")}
    assert "LMSInitialize" in adapters["scorm12"] and "LMSInitialize" not in adapters["scorm2004"]
    assert '"API_1484_11"' in adapters["scorm2004"]
    assert "LMS.LaunchData" in adapters["cmi5"]


def test_a_rebuild_of_unchanged_files_gives_the_same_bytes(app, built_packages, tmp_path):
    with app.app_context():
        [again] = service.build(Path(app.config["COURSES_DIR"]), tmp_path, courses=[COURSE], locales=["en"],
                                formats=["cmi5"])
    assert again.path.read_bytes() == built_packages[("en", "cmi5")].read_bytes()


def test_the_command_writes_the_packages_asked_for(cli, tmp_path):
    result = cli.invoke(args=["scorm", "build", "--course", COURSE, "--locale", "ro", "--format", "scorm12",
                              "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == [f"{COURSE}-ro-scorm12.zip"]
    assert "1 packages written" in result.output


@pytest.mark.parametrize("args, said", [
    (["--course", "no-such-course"], "no course no-such-course in"),
    (["--course", COURSE, "--all"], "give --course SLUG or --all, not both"),
    (["--locale", "fr"], "'fr' is not one of"),
    (["--format", "aicc"], "'aicc' is not one of"),
])
def test_a_bad_request_is_told_what_is_wrong_and_writes_nothing(cli, tmp_path, args, said):
    result = cli.invoke(args=["scorm", "build", "--out", str(tmp_path / "out"), *args])
    assert result.exit_code != 0
    assert said in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_course_files_with_problems_are_listed_and_nothing_is_built(app, tmp_path):
    broken = tmp_path / "courses" / "broken"
    broken.mkdir(parents=True)
    (broken / "course.toml").write_text("slug = [unclosed\n", encoding="utf-8")
    with app.app_context(), pytest.raises(PackageError) as refused:
        service.build(tmp_path / "courses", tmp_path / "out")
    assert "course.toml" in str(refused.value)
    assert not (tmp_path / "out").exists()


def test_an_unwritable_folder_is_said_as_such(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cli.invoke(args=["scorm", "build", "--course", COURSE, "--locale", "en", "--format", "cmi5",
                              "--out", str(blocker / "sub")])
    assert result.exit_code != 0 and "cannot write to" in result.output and "Traceback" not in result.output
