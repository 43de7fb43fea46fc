"""The course format: every problem reported as file:line with its fix, loads all-or-nothing, versions kept."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import event, select

from ibm_lms.content import service
from ibm_lms.content.models import Course, CourseVersion, ExerciseVersion, LessonVersion
from ibm_lms.extensions import db
from tests.conftest import count_rows, course_without_locale

COURSES = Path(__file__).resolve().parents[2] / "courses"
SLUG = "document-security"


@pytest.fixture
def folder(tmp_path) -> Path:
    """A copy of one real course, to break."""
    target = tmp_path / "courses"
    shutil.copytree(COURSES / SLUG, target / SLUG)
    return target


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


def check(cli, folder: Path) -> str:
    result = cli.invoke(args=["content", "check", "--dir", str(folder)])
    assert result.exit_code != 0, result.output
    return result.output


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def test_the_shipped_courses_are_valid_with_no_warning(cli):
    result = cli.invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    assert re.search(r"8 courses valid \(\d+ lessons, \d+ exercises\)$", result.output.strip()), result.output


def test_an_unknown_block_names_file_line_and_fix(cli, folder):
    lesson = folder / SLUG / "lessons" / "en" / "check-digits.md"
    edit(lesson, "::: example A date of birth", "::: sidebar A date of birth")
    output = check(cli, folder)
    assert f"{lesson}:{line_of(lesson, '::: sidebar')}: unknown block 'sidebar' — use one of: keypoint" in output


def test_a_broken_link_between_lessons(cli, folder):
    lesson = folder / SLUG / "lessons" / "ru" / "check-digits.md"
    edit(lesson, "](term:check-digit)", "](lesson:no-such-lesson)")
    output = check(cli, folder)
    line = line_of(lesson, "lesson:no-such-lesson")
    assert f"{lesson}:{line}: links to the lesson 'no-such-lesson', which the course does not have" in output


def test_a_model_answer_that_is_not_an_option(cli, folder):
    exercise = folder / SLUG / "exercises" / "ds-fraud-brother.toml"
    text = exercise.read_text()
    answer = re.search(r'^answer = "(\w+)"', text, re.M).group(0)
    edit(exercise, answer, 'answer = "zz"')
    output = check(cli, folder)
    assert f"{exercise}:{line_of(exercise, 'answer = ')}: answer: 'zz' is not one of the options — set answer" in output


def test_a_figure_without_alt_text(cli, folder):
    lesson = folder / SLUG / "lessons" / "en" / "formats-and-layouts.md"
    text = lesson.read_text()
    image = re.search(r"^!\[[^\]]+\]\(", text, re.M).group(0)
    edit(lesson, image, "![](")
    output = check(cli, folder)
    assert f"{lesson}:{line_of(lesson, '![](')}: the figure has no alt text — describe what the figure shows" in output


def test_a_lesson_mapped_to_an_unknown_outcome(cli, folder):
    course = folder / SLUG / "course.toml"
    edit(course, '  outcomes = ["', '  outcomes = ["DS-9", "')
    output = check(cli, folder)
    assert "names the unknown outcome 'DS-9' — use one of the course's outcome codes" in output
    assert re.search(rf"{re.escape(str(course))}:\d+: lesson '", output)


def test_a_malformed_course_file_and_every_other_problem_in_one_run(cli, folder):
    course = folder / SLUG / "course.toml"
    edit(course, "horizontal = false", "horizontal = false\ncolour = \"blue\"")
    (folder / SLUG / "figures" / "evil.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><script>alert(1)</script></svg>')
    lesson = folder / SLUG / "lessons" / "en" / "check-digits.md"
    edit(lesson, "## The algorithm", "<b>raw</b>\n\n## The algorithm")
    output = check(cli, folder)
    assert f"{course}:{line_of(course, 'colour')}: colour: is not a setting of this file" in output
    assert "evil.svg:1: holds a <script> element" in output
    assert f"{lesson}:{line_of(lesson, '<b>raw')}: raw HTML is not allowed" in output


@pytest.mark.parametrize(("drawing", "line", "says"), [
    ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">\n<rect/>\n<script>alert(1)</script>\n</svg>',
     3, "holds a <script> element"),
    ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">\n<rect\n  onclick="go()"/>\n</svg>',
     3, "holds an event attribute (onclick)"),
    ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink" viewBox="0 0 1 1">\n'
     '<use href="#a"/>\n<use x:href="https://example.org/a.svg#b"/>\n</svg>', 3, "links outside the drawing"),
    ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">\n<rect>\n</svg>', 3, "is not well-formed XML"),
    ('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">\n<rect/></svg>', 2, "has no viewBox"),
    # A comment or a text that looks like the problem is not where it is.
    ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">\n<!-- a <script> here? -->\n<text>onclick="x"</text>\n'
     '<rect onclick="x"/><script>1</script>\n</svg>', 4, "holds an event attribute (onclick)"),
    ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">\n<rect data-href="x"/>\n<!-- <a href="http://e"/> -->\n'
     '<a href="http://evil.example/"/>\n</svg>', 4, "links outside the drawing"),
])
def test_a_figure_that_may_not_be_shown_is_reported_at_its_line(cli, folder, drawing, line, says):
    figure = folder / SLUG / "figures" / "unsafe.svg"
    figure.write_text(drawing)
    assert f"{figure}:{line}: {says}" in check(cli, folder)


def test_a_figure_styled_with_its_own_gradient_is_accepted(cli, folder):
    figure = folder / SLUG / "figures" / "gradient.svg"
    figure.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><defs><linearGradient id="g"/>'
                      "</defs><style>.a { fill: url( '#g') }</style><rect class=\"a\" style=\"fill:url('#g')\"/>"
                      '<rect style="fill:url(&quot;#g&quot;)"/></svg>')
    result = cli.invoke(args=["content", "check", "--dir", str(folder)])
    assert "gradient.svg" not in result.output, result.output
    figure.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect style="fill:url(\'https://e/x#g\')"/>'
                      "</svg>")
    assert f"{figure}:1: its style loads something from outside the drawing" in check(cli, folder)


def test_a_translation_embedding_other_exercises_is_reported_at_the_first_that_differs(cli, folder):
    lesson = folder / SLUG / "lessons" / "ru" / "check-digits.md"
    # The last two blocks swapped: the first that differs is the one now third.
    edit(lesson, "::: exercise ds-mrz-check-td2", "::: exercise ds-swap")
    edit(lesson, "::: exercise ds-composite-recomputed", "::: exercise ds-mrz-check-td2")
    edit(lesson, "::: exercise ds-swap", "::: exercise ds-composite-recomputed")
    output = check(cli, folder)
    at = line_of(lesson, "::: exercise ds-composite-recomputed")
    assert f"{lesson}:{at}: embeds other exercises than the English lesson" in output


def test_a_failed_load_changes_nothing(cli, folder, app):
    assert cli.invoke(args=["content", "load", "--dir", str(folder)]).exit_code == 0
    before = {v.id: v.fingerprint for v in db.session.execute(select(CourseVersion)).scalars()}
    edit(folder / SLUG / "lessons" / "en" / "check-digits.md", "# Check digits", "# Check digits, revised")
    edit(folder / SLUG / "exercises" / "ds-fraud-brother.toml", 'type = "single_choice"', 'type = "essay"')
    result = cli.invoke(args=["content", "load", "--dir", str(folder)])
    assert result.exit_code != 0 and "nothing was loaded" in result.output
    db.session.expire_all()
    assert {v.id: v.fingerprint for v in db.session.execute(select(CourseVersion)).scalars()} == before


def test_an_unchanged_reload_writes_nothing(folder, app):
    service.load(folder)
    writes = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        report = service.load(folder)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert writes == []


def test_a_changed_lesson_is_a_new_version_and_the_others_keep_theirs(folder, app):
    service.load(folder)
    lessons_before = {(v.lesson_key, v.number): v.id for v in db.session.execute(select(LessonVersion)).scalars()}
    exercises_before = count_rows(ExerciseVersion)
    edit(folder / SLUG / "lessons" / "ru" / "check-digits.md", "\n## ", "\n\nЕщё одно предложение.\n\n## ")
    report = service.load(folder)
    assert report.updated == 1
    after = {(v.lesson_key, v.number): v.id for v in db.session.execute(select(LessonVersion)).scalars()}
    assert set(after) - set(lessons_before) == {("check-digits", 2)}
    assert all(after[key] == value for key, value in lessons_before.items())
    assert count_rows(ExerciseVersion) == exercises_before
    course = db.session.execute(select(Course)).scalar_one()
    assert db.session.get(CourseVersion, course.current_version_id).number == 2


def test_coverage_prints_each_locale_share(cli, tmp_path):
    result = cli.invoke(args=["content", "coverage", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["slug"]: row for row in json.loads(result.output)}
    assert set(rows) >= {"document-security", "trainer-methodology"}
    assert all(row["share"]["en"] == 1.0 and row["share"]["ru"] == 1.0 for row in rows.values())
    assert rows["trafficking-human-beings"]["status"]["ru"] == "draft"
    # The question bank and quizzes are counted on their own: in Ukrainian for every course.
    banks = {slug: row["parts"]["quiz"] for slug, row in rows.items()}
    assert all(bank["en"] == 1.0 and bank["ru"] == 1.0 and bank["uk"] == 1.0 for bank in banks.values())
    # The categories' names are part of the bank: named in every language, every bank has some of each.
    assert all(share > 0 for bank in banks.values() for share in bank.values())
    # A course not translated into Armenian: only its titles and outcomes are, a small share of its text.
    untranslated = course_without_locale("trainer-methodology", "hy", tmp_path, slug="tm-untranslated", order=90)
    copy = json.loads(cli.invoke(args=["content", "coverage", "--json", "--dir", str(untranslated)]).output)[0]
    assert 0 < copy["share"]["hy"] < 0.2 and copy["status"]["hy"] == "none"
    assert copy["parts"]["quiz"]["hy"] == 0 < copy["parts"]["quiz"]["ka"]
    table = cli.invoke(args=["content", "coverage"]).output.splitlines()
    assert table[table.index(next(line for line in table if line.startswith("anti-corruption"))) + 1].startswith(
        "  + quiz")


def test_one_bad_source_or_drawing_is_one_problem_not_one_per_lesson_that_cites_it(cli, folder):
    sources = folder / SLUG / "references.toml"
    first_url = next(line for line in sources.read_text().splitlines() if line.startswith("url = "))
    edit(sources, first_url, 'url = "ftp://example.invalid/x"')
    drawing = next((folder / SLUG / "figures").glob("*.svg"))
    drawing.write_text(drawing.read_text().replace("</svg>", "<script>alert(1)</script></svg>"))
    output = check(cli, folder)
    problems = [line for line in output.splitlines() if line.startswith(str(folder))]
    assert any(line.startswith(f"{sources}:") for line in problems), output
    assert any(line.startswith(f"{drawing}:") for line in problems), output
    assert not [line for line in problems if "which the course does not have" in line or "there is no figure" in line]
    assert len(problems) == 2, output


def test_a_value_of_the_wrong_type_says_where_the_example_is(cli, folder):
    course = folder / SLUG / "course.toml"
    edit(course, "order = 2", 'order = "second"')
    output = check(cli, folder)
    assert (f"{course}:{line_of(course, 'order = ')}: order: Not a valid integer. — write it as "
            "docs/course-format.md shows for this key") in output


def test_a_byte_order_mark_is_no_problem_and_lines_are_counted_as_toml_counts_them(cli, folder):
    course = folder / SLUG / "course.toml"
    lesson = folder / SLUG / "lessons" / "en" / "check-digits.md"
    for path in (course, lesson):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = cli.invoke(args=["content", "check", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    # A comment holding a Unicode line separator is still one line to TOML.
    edit(course, "horizontal = false", "# before\u2028after\nhorizontal = \"no\"")
    text = course.read_text(encoding="utf-8-sig")
    expected = text[:text.index('horizontal = "no"')].count("\n") + 1
    assert f"{course}:{expected}: horizontal" in check(cli, folder)


def test_a_figure_that_is_a_link_or_a_folder_is_not_read(cli, folder):
    figures = folder / SLUG / "figures"
    (figures / "passwd.svg").symlink_to("/etc/passwd")
    (figures / "sub.svg").mkdir()
    output = check(cli, folder)
    assert f"{figures / 'passwd.svg'}: is a link or a folder, not a drawing" in output
    assert f"{figures / 'sub.svg'}: is a link or a folder, not a drawing" in output
    assert "root:" not in output and "well-formed" not in output
