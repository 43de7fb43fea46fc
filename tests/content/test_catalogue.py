"""The course files, their validation errors, and the catalogue they load into."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from ibm_lms.content import service
from ibm_lms.content.errors import CourseFileError
from ibm_lms.content.loader import read_all
from ibm_lms.content.models import Course
from ibm_lms.extensions import db
from tests.conftest import count_rows, course_count, error_code, translated

COURSES = Path(__file__).resolve().parents[2] / "courses"
EXPECTED = ["ibm-strategy", "document-security", "risk-analysis", "drugs-tobacco", "intellectual-property",
            "trafficking-human-beings", "anti-corruption", "trainer-methodology"]


def test_the_eight_courses_are_valid_and_ordered():
    courses, errors = read_all(COURSES)
    assert errors == []
    assert [c.slug for c in sorted(courses, key=lambda c: c.order)] == EXPECTED
    assert [c.slug for c in courses if c.horizontal] == ["anti-corruption"]


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "courses"
    shutil.copytree(COURSES, target)
    return target


def test_syntax_error_names_file_and_line(tmp_path, cli):
    folder = _copy(tmp_path)
    path = folder / "risk-analysis" / "course.toml"
    lines = path.read_text().splitlines()
    lines[3] = "title = = broken"
    path.write_text("\n".join(lines))
    result = cli.invoke(args=["content", "check", "--dir", str(folder)])
    assert result.exit_code != 0
    assert "risk-analysis/course.toml:4:" in result.output


def test_missing_locale_is_reported_with_its_key(tmp_path):
    folder = _copy(tmp_path)
    path = folder / "drugs-tobacco" / "course.toml"
    text = path.read_text()
    start = text.index("\n", text.index("[title]"))
    kept = [line for line in text[start:].splitlines() if not line.startswith("ka =")]
    path.write_text(text[:start] + "\n" + "\n".join(kept))
    _, errors = read_all(folder)
    assert len(errors) >= 1
    assert "drugs-tobacco" in str(errors[0]) and "missing locales: ka" in str(errors[0])


def test_load_is_all_or_nothing(tmp_path, cli):
    folder = _copy(tmp_path)
    assert cli.invoke(args=["content", "load", "--dir", str(folder)]).exit_code == 0
    before = db.session.execute(select(Course.title)).scalars().all()
    (folder / "anti-corruption" / "course.toml").write_text('slug = "anti-corruption"\norder = "x"\n')
    result = cli.invoke(args=["content", "load", "--dir", str(folder)])
    assert result.exit_code != 0 and "anti-corruption" in result.output
    db.session.expire_all()
    assert db.session.execute(select(Course.title)).scalars().all() == before


def _break(folder: Path, slug: str, change) -> Path:
    path = folder / slug / "course.toml"
    change(path)
    return path


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p: p.write_bytes(p.read_bytes().replace(b"[summary]", b"[summary]\n# caf\xe9", 1)),
         "course.toml:17: not UTF-8 text"),
        (lambda p: p.unlink(), "is missing"),
        (lambda p: (p.unlink(), p.symlink_to(p)), "cannot be read"),
        (lambda p: p.write_text(p.read_text() + "\n# " + "x" * 600_000), "larger than 512 KiB"),
        (lambda p: p.write_text(p.read_text().replace("order = 3", "order = 3.7")), "order: Not a valid integer"),
        (lambda p: p.write_text(p.read_text().replace("horizontal = false", 'horizontal = "no"')),
         "horizontal: Not a valid boolean"),
        (lambda p: p.write_text(p.read_text().replace('slug = "risk-analysis"', 'slug = "risk-analysis\\n"')),
         "slug: must be lower-case"),
    ],
    ids=["latin-1", "missing", "symlink-loop", "huge", "float-order", "string-boolean", "slug-line-break"],
)
def test_every_broken_course_file_is_reported_with_its_file(tmp_path, cli, change, reason):
    folder = _copy(tmp_path)
    _break(folder, "risk-analysis", change)
    result = cli.invoke(args=["content", "check", "--dir", str(folder)])
    assert result.exit_code != 0, result.output
    assert "risk-analysis/course.toml" in result.output and reason in result.output, result.output


def test_an_empty_courses_folder_fails_the_check_as_it_fails_the_load(tmp_path, cli):
    (tmp_path / "empty").mkdir()
    for command in ("check", "load"):
        result = cli.invoke(args=["content", command, "--dir", str(tmp_path / "empty")])
        assert result.exit_code != 0 and "no course folders found" in result.output


def test_slug_must_match_folder(tmp_path):
    folder = _copy(tmp_path)
    (folder / "risk-analysis").rename(folder / "risk")
    _, errors = read_all(folder)
    assert any("differs from its folder" in str(e) for e in errors)


def test_an_unchanged_reload_changes_nothing(app):
    first = service.load(COURSES)
    second = service.load(COURSES)
    assert (first.created, second.created, second.updated, second.unchanged) == (course_count(), 0, 0,
                                                                                 course_count())
    assert count_rows(Course) == course_count()


def test_the_courses_fixture_holds_exactly_what_a_load_writes(app, courses):
    # Whether this test's courses were loaded or copied from the session's first load, a load finds them all
    # unchanged, and every page of the catalogue reads them.
    again = service.load(COURSES)
    assert (again.created, again.updated, again.unchanged, again.withdrawn) == (0, 0, course_count(), 0)
    assert count_rows(Course) == course_count()


def test_a_folder_of_some_courses_updates_them_and_withdraws_the_others_only_when_asked(app, courses, tmp_path, cli):
    partial = tmp_path / "partial"
    shutil.copytree(COURSES / "risk-analysis", partial / "risk-analysis")
    kept = cli.invoke(args=["content", "load", "--dir", str(partial)])
    assert kept.exit_code == 0, kept.output
    others = sorted(set(EXPECTED) - {"risk-analysis"})
    assert f"still offered, though this folder does not hold them: {', '.join(others)}" in kept.output
    offered = select(Course.slug).where(Course.withdrawn_at.is_(None))
    assert sorted(db.session.execute(offered).scalars()) == sorted(EXPECTED)
    withdrawn = cli.invoke(args=["content", "load", "--dir", str(partial), "--withdraw-missing"])
    assert withdrawn.exit_code == 0 and f"{len(others)} withdrawn" in withdrawn.output
    db.session.expire_all()
    assert list(db.session.execute(offered).scalars()) == ["risk-analysis"]
    assert service.load(COURSES).created == 0 and count_rows(Course) == course_count()


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(CourseFileError):
        service.load(tmp_path)


def test_unknown_course_is_a_404(launcher, client, courses):
    launcher.launch()
    response = client.get("/courses/no-such-course")
    assert response.status_code == 404
    assert "no-such-course" in response.get_data(as_text=True)


def test_a_nul_in_a_course_address_is_refused(launcher, client):
    # PostgreSQL refuses NUL in text outright; such input must not reach a query (web.refuse_nul_in_address).
    launcher.launch()
    response = client.get("/courses/a%00b")
    assert response.status_code == 400 and error_code(response) == "bad_request"



def test_the_catalogue_cards_follow_the_readers_language_and_a_reload(launcher, client, tmp_path, cli, courses):
    """Card heads are kept per app: a reader in another language, and readers after a reload, get their own."""
    assert launcher.launch(locale="uk").status_code == 303
    uk = client.get("/courses/").get_data(as_text=True)
    assert ">Протидія корупції</a>" in uk and translated("uk", "Cross-cutting course") in uk
    assert launcher.launch(locale="en").status_code == 303
    en = client.get("/courses/").get_data(as_text=True)
    assert ">Anti-Corruption</a>" in en and "Протидія корупції" not in en and ">Cross-cutting course<" in en
    folder = _copy(tmp_path)
    path = folder / "anti-corruption" / "course.toml"
    path.write_text(path.read_text().replace('en = "Anti-Corruption"', 'en = "Integrity at the Border"', 1))
    assert cli.invoke(args=["content", "load", "--dir", str(folder)]).exit_code == 0
    again = client.get("/courses/").get_data(as_text=True)
    assert ">Integrity at the Border</a>" in again and ">Anti-Corruption</a>" not in again
    assert again.count('class="course-card"') == course_count()


def test_an_academys_course_may_not_take_a_shared_courses_slug_and_the_message_names_the_file(courses, tmp_path,
                                                                                              cli):
    assert cli.invoke(args=["tenant", "add", "ge-academy"]).exit_code == 0
    own = tmp_path / "own"
    shutil.copytree(COURSES / "risk-analysis", own / "risk-analysis")
    refused = cli.invoke(args=["content", "load", "--dir", str(own), "--tenant", "ge-academy"])
    assert refused.exit_code != 0
    assert (f"{own / 'risk-analysis'}/course.toml: slug: 'risk-analysis' is already used by a course of another "
            "academy or of the shared catalogue — choose another slug") in refused.output
