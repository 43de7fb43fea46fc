"""A course's bank and quizzes are checked and loaded with the course: file, line and fix for every problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from ibm_lms.content import service
from ibm_lms.extensions import db
from ibm_lms.quiz.models import Question, QuestionCategory, QuestionVersion, Quiz
from tests.conftest import ROOT, count_rows
from tests.content.test_course_format import check, edit, line_of

SLUG = "anti-corruption"


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "courses"
    shutil.copytree(ROOT / "courses" / SLUG, target / SLUG)
    return target


def test_a_draw_the_bank_cannot_fill_names_file_line_and_fix(cli, folder):
    quiz = folder / SLUG / "quizzes" / "practice.toml"
    edit(quiz, "count = 10", "count = 400")
    output = check(cli, folder)
    assert (f"{quiz}:{line_of(quiz, 'count = 400')}: draw.0.count: asks for 400 questions, the bank has "
            in output) and "lower the count, widen the filters, or add questions" in output


def test_a_question_on_an_outcome_the_course_lacks(cli, folder):
    question = next((folder / SLUG / "questions").glob("*.toml"))
    text = question.read_text()
    first = text.split("outcomes = [", 1)[1].split("]", 1)[0]
    edit(question, f"outcomes = [{first}]", 'outcomes = ["XX-9"]')
    output = check(cli, folder)
    assert f"{question}:{line_of(question, 'XX-9')}: outcomes: the outcome 'XX-9' is not one of the course's" in output


def test_a_quiz_naming_a_missing_question_and_a_bad_setting_in_one_run(cli, folder):
    quiz = folder / SLUG / "quizzes" / "extra.toml"
    quiz.write_text('title = { en = "Extra" }\nattempts = -1\n[[draw]]\nquestions = ["ac-q-nothing"]\n')
    output = check(cli, folder)
    assert f"{quiz}:2: attempts: must be a whole number from 0 to 100" in output
    assert f"{quiz}:4: draw.0.questions: names questions the bank does not have: ac-q-nothing" in output


def test_an_unchanged_bank_writes_no_version_and_a_changed_question_gets_one(folder, app):
    service.load(folder)
    versions = count_rows(QuestionVersion)
    assert versions == count_rows(Question) >= 40 and count_rows(Quiz) == 4
    service.load(folder)
    assert count_rows(QuestionVersion) == versions
    question = sorted((folder / SLUG / "questions").glob("*.toml"))[0]
    edit(question, 'difficulty = "', 'tags = ["revised"]\ndifficulty = "') if "\ntags" not in question.read_text() \
        else edit(question, "tags = [", 'tags = ["revised", ')
    service.load(folder)
    assert count_rows(QuestionVersion) == versions + 1
    row = db.session.execute(select(Question).where(Question.key == question.stem)).scalar_one()
    assert "revised" in row.tags and db.session.get(QuestionVersion, row.current_version_id).number == 2


def test_a_question_taken_out_of_the_folder_is_withdrawn_not_deleted(folder, app):
    service.load(folder)
    question = sorted((folder / SLUG / "questions").glob("*.toml"))[-1]
    used_by = [p for p in (folder / SLUG / "quizzes").glob("*.toml") if question.stem in p.read_text()]
    assert used_by == []
    question.unlink()
    service.load(folder)
    row = db.session.execute(select(Question).where(Question.key == question.stem)).scalar_one()
    assert row.archived_at is not None and db.session.get(QuestionVersion, row.current_version_id) is not None


def test_a_misspelt_key_is_named_with_its_line_and_nothing_is_loaded(cli, folder, app):
    service.load(folder)
    quizzes, versions = count_rows(Quiz), count_rows(QuestionVersion)
    exam = folder / SLUG / "quizzes" / "final-exam.toml"
    edit(exam, "time_limit_minutes = 45", "time_limit_mins = 45")
    edit(exam, "count = 3\n", "count = 3\ntag = [\"coi\"]\n")
    question = sorted((folder / SLUG / "questions").glob("*.toml"))[0]
    edit(question, 'difficulty = "', 'weight = 3\ndifficulty = "')
    output = check(cli, folder)
    assert (f"{exam}:{line_of(exam, 'time_limit_mins')}: time_limit_mins: is not a setting of a quiz — remove it, "
            "or correct its spelling") in output
    assert f"{exam}:{line_of(exam, 'tag = ')}: draw.0.tag: is not a setting of a quiz" in output
    assert f"{question}:{line_of(question, 'weight = 3')}: weight: is not a key" in output
    assert cli.invoke(args=["content", "load", "--dir", str(folder)]).exit_code != 0
    assert (count_rows(Quiz), count_rows(QuestionVersion)) == (quizzes, versions)
    exercise = folder / SLUG / "exercises" / "ac-coi-type.toml"
    edit(exercise, 'id = "a"\n', 'id = "a"\ncorrect = true\n')
    assert (f"{exercise}:{line_of(exercise, 'correct = true')}: options.0.correct: is not a key single_choice items "
            "have") in check(cli, folder)


def test_misnamed_and_unreadable_bank_files_are_each_reported_and_the_rest_still_checked(cli, folder):
    questions, quizzes = folder / SLUG / "questions", folder / SLUG / "quizzes"
    (questions / "Bad Name.toml").write_text('type = "true_false"\n')
    (quizzes / "notes.txt").write_text("draft")
    (quizzes / "broken.toml").write_text('title = { en = "Broken" }\nattempts = \n')
    quiz = quizzes / "practice.toml"
    edit(quiz, "count = 10", "count = 400")
    output = check(cli, folder)
    assert f"{questions / 'Bad Name.toml'}: a question file is named <question-id>.toml" in output
    assert f"{quizzes / 'notes.txt'}: a quiz file is named <quiz-id>.toml" in output
    assert f"{quizzes / 'broken.toml'}:2: " in output
    assert f"{quiz}:{line_of(quiz, 'count = 400')}: draw.0.count: asks for 400 questions" in output


def test_category_names_are_checked_with_file_line_and_fix(cli, folder):
    names = folder / SLUG / "question-categories.toml"
    edit(names, "[reporting]\nen = ", "[reporting]\nxx = \"?\"\nen = ")
    names.write_text(names.read_text() + '\n[Gifts]\nen = "Gifts"\n\n[no-such-category]\nen = "Nothing"\n')
    output = check(cli, folder)
    assert f"{names}:{line_of(names, 'xx = ')}: reporting.xx: 'xx' is not an interface locale" in output
    assert f"{names}:{line_of(names, '[Gifts]')}: Gifts: must be lower-case letters, digits and hyphens" in output
    assert (f"{names}:{line_of(names, '[no-such-category]')}: warning: no question is in the category "
            "'no-such-category'") in output


def test_a_category_the_questions_use_without_a_name_is_a_warning_and_the_load_goes_on(cli, folder, app):
    names = folder / SLUG / "question-categories.toml"
    text = names.read_text()
    start = text.index("[reporting]")
    names.write_text(text[:start] + text[text.index("\n\n", start) + 2:] if "\n\n" in text[start:] else text[:start])
    result = cli.invoke(args=["content", "load", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"{names}: warning: the category 'reporting' has no name" in result.output
    stored = {row.category for row in db.session.execute(select(QuestionCategory)).scalars()}
    assert "reporting" not in stored and "gifts-and-bribes" in stored


def test_category_names_are_stored_once_and_follow_the_file(folder, app):
    service.load(folder)
    rows = {row.category: row.names for row in db.session.execute(select(QuestionCategory)).scalars()}
    assert rows["gifts-and-bribes"]["uk"] == "Подарунки та хабарі" and len(rows) == 6
    assert service.load(folder).unchanged == 1
    names = folder / SLUG / "question-categories.toml"
    edit(names, 'en = "Gifts and bribes"', 'en = "Gifts, hospitality and bribes"')
    assert service.load(folder).updated == 1
    db.session.expire_all()
    stored = db.session.execute(select(QuestionCategory).where(QuestionCategory.category == "gifts-and-bribes")).scalar_one()
    assert stored.names["en"] == "Gifts, hospitality and bribes" and stored.names["uk"] == "Подарунки та хабарі"
