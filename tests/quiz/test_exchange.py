"""Banks go in and out through the command line, the API and the pages: all or nothing, every problem located."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ibm_lms.demo.platform import DEMO_USERS
from ibm_lms.extensions import db
from ibm_lms.quiz.models import Question, QuestionVersion
from ibm_lms.tenancy import service as tenancy

from .helpers import csrf_of

COURSE = "anti-corruption"
FIXTURES = Path(__file__).parent / "fixtures"
SMALL_GIFT = """$CATEGORY: $course$/top/Integrity

// [tag:AC-2]
::Offer is enough::An offer of a bribe is already an offence under UNCAC Art. 15.{T####The offer alone completes it.}

::Report to::Whom do you report a bribe offer to first?{
  =Your supervisor or the integrity unit#Yes: the channel your service names.
  ~Nobody, if you refused it#No: report it even when refused.
  ####Report every offer through the official channel.
}
"""


def own_questions() -> list[Question]:
    db.session.expire_all()
    return list(db.session.execute(select(Question).where(Question.bank != 0).order_by(Question.key)).scalars())


@pytest.fixture
def academy(courses, app):
    tenancy.ensure_tenant("ge-academy")
    db.session.commit()
    return "ge-academy"


def test_the_shared_bank_exports_in_every_format_and_comes_back_whole(cli, academy, tmp_path):
    out = {fmt: tmp_path / f"bank.{fmt}" for fmt in ("gift", "moodle-xml", "qti3")}
    for fmt, path in out.items():
        result = cli.invoke(args=["quiz", "export", "--format", fmt, "--course", COURSE, "--out", str(path),
                                  "--locale", "en"])
        assert result.exit_code == 0, result.output
    assert out["gift"].read_text().count("::") >= 40
    with zipfile.ZipFile(out["qti3"]) as package:
        assert "imsmanifest.xml" in package.namelist() and len(package.namelist()) > 40
    result = cli.invoke(args=["quiz", "import", str(out["moodle-xml"]), "--format", "moodle-xml", "--tenant", academy,
                              "--course", COURSE, "--locale", "en", "--outcome", "AC-1"])
    assert result.exit_code == 0, result.output
    imported = own_questions()
    assert len(imported) >= 40 and {q.origin for q in imported} == {"imported"}
    assert int(result.output.splitlines()[-1].split()[0]) == len(imported)
    # The same file again changes nothing: same keys, same versions.
    versions = db.session.execute(select(func.count(QuestionVersion.id))).scalar_one()
    assert cli.invoke(args=["quiz", "import", str(out["moodle-xml"]), "--format", "moodle-xml", "--tenant", academy,
                            "--course", COURSE, "--locale", "en", "--outcome", "AC-1"]).exit_code == 0
    assert db.session.execute(select(func.count(QuestionVersion.id))).scalar_one() == versions


def test_outcomes_come_from_moodle_tags_or_from_the_importer(cli, academy, tmp_path):
    path = tmp_path / "small.gift"
    path.write_text(SMALL_GIFT)
    refused = cli.invoke(args=["quiz", "import", str(path), "--format", "gift", "--tenant", academy,
                               "--course", COURSE, "--locale", "en"])
    assert refused.exit_code == 1 and "linked to no outcome of the course" in refused.output
    assert "nothing was imported" in refused.output and own_questions() == []
    result = cli.invoke(args=["quiz", "import", str(path), "--format", "gift", "--tenant", academy,
                              "--course", COURSE, "--locale", "en", "--outcome", "AC-6"])
    assert result.exit_code == 0, result.output
    by_outcome = {q.outcomes[0]: q for q in own_questions()}
    assert set(by_outcome) == {"AC-2", "AC-6"} and by_outcome["AC-2"].category == "integrity"


def test_a_broken_file_reports_every_problem_by_line_and_imports_nothing(cli, academy, tmp_path):
    path = tmp_path / "broken.gift"
    path.write_text(SMALL_GIFT + "\n::Unclosed::Which one?{\n  =a\n  ~b\n\n::Essay::Describe the procedure.{}\n")
    result = cli.invoke(args=["quiz", "import", str(path), "--format", "gift", "--tenant", academy,
                              "--course", COURSE, "--locale", "en", "--outcome", "AC-6"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith(str(path))]
    assert len(lines) >= 2 and all(": line " in line for line in lines), result.output
    assert own_questions() == []


def test_a_moodle_description_is_left_out_with_a_note_and_the_questions_come_in(cli, academy, tmp_path):
    path = tmp_path / "with-description.gift"
    path.write_text("Read the case below before you answer.\n\n" + SMALL_GIFT)
    result = cli.invoke(args=["quiz", "import", str(path), "--format", "gift", "--tenant", academy,
                              "--course", COURSE, "--locale", "en", "--outcome", "AC-6"])
    assert result.exit_code == 0, result.output
    assert "line 1" in result.output and "this is a description" in result.output
    assert own_questions()


def test_a_file_that_is_not_what_it_says_is_refused_cleanly(cli, academy, tmp_path):
    for name, data, fmt in (("bank.xml", b"<?xml version='1.0'?><!DOCTYPE q [<!ENTITY a 'aaaa'>]><quiz>&a;</quiz>",
                             "moodle-xml"), ("bank.gift", b"\xff\xfe\x00broken", "gift"),
                            ("bank2.xml", b"not xml at all", "moodle-xml")):
        path = tmp_path / name
        path.write_bytes(data)
        result = cli.invoke(args=["quiz", "import", str(path), "--format", fmt, "--tenant", academy,
                                  "--course", COURSE, "--outcome", "AC-1"])
        assert result.exit_code == 1 and "Traceback" not in result.output and str(path) in result.output
    assert own_questions() == []


def test_the_api_imports_and_exports(client, academy, cli):
    token = cli.invoke(args=["api", "token", "create", "--tenant", academy, "--name", "sync"]).output
    bearer = {"Authorization": "Bearer " + token.split(": ", 1)[1].split()[0]}
    refused = client.post(f"/api/v1/courses/{COURSE}/import?format=gift&locale=en", headers=bearer,
                          data=SMALL_GIFT.encode())
    assert refused.status_code == 422 and refused.get_json()["problems"]
    done = client.post(f"/api/v1/courses/{COURSE}/import?format=gift&locale=en&outcome=AC-6", headers=bearer,
                       data=SMALL_GIFT.encode())
    assert done.status_code == 201 and done.get_json()["imported"] == 2
    exported = client.get(f"/api/v1/courses/{COURSE}/export?format=gift&locale=en", headers=bearer)
    assert exported.status_code == 200 and "Offer is enough" in exported.get_data(as_text=True)
    assert client.get(f"/api/v1/courses/{COURSE}/export?format=pdf", headers=bearer).status_code == 400


def test_the_import_page_takes_a_moodle_export(launcher, client, courses):
    launcher.platform.user = DEMO_USERS["instructor"]
    assert launcher.launch(locale="en").status_code == 303
    page = client.get(f"/authoring/courses/{COURSE}/import").get_data(as_text=True)
    form = {"csrf_token": csrf_of(page), "format": "moodle-xml", "locale": "en", "outcome": "AC-3"}
    fixture = (FIXTURES / "moodle4_export.xml").read_bytes()
    response = client.post(f"/authoring/courses/{COURSE}/import", content_type="multipart/form-data",
                           data={**form, "file": (io.BytesIO(fixture), "export.xml")})
    body = response.get_data(as_text=True)
    # The fixture holds question types Moodle has and we do not (essay, calculated): all or nothing.
    assert response.status_code == 422 and "problem" in body and own_questions() == []
    response = client.post(f"/authoring/courses/{COURSE}/import", content_type="multipart/form-data",
                           data={**form, "format": "gift", "file": (io.BytesIO(SMALL_GIFT.encode()), "small.txt")})
    assert response.status_code == 303 and "imported=2" in response.headers["Location"]
    assert len(own_questions()) == 2
    assert "2 questions imported." in client.get(response.headers["Location"]).get_data(as_text=True)
    one = client.get(f"/authoring/courses/{COURSE}/?imported=1").get_data(as_text=True)
    assert "1 question imported." in one and "1 questions" not in one
    again = client.post(f"/authoring/courses/{COURSE}/import", content_type="multipart/form-data",
                        data={**form, "format": "gift", "file": (io.BytesIO(SMALL_GIFT.encode()), "small.txt")})
    assert again.status_code == 303 and "replaced=2" in again.headers["Location"] and len(own_questions()) == 2
    assert "Already in the bank under the same id, now with a new version: 2." in client.get(
        again.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("locale", ["uk", "hy"])
def test_an_imports_problems_and_notes_read_in_the_authors_language(launcher, client, courses, locale):
    from html import unescape

    from tests.conftest import translated

    launcher.platform.user = DEMO_USERS["instructor"]
    assert launcher.launch(locale=locale).status_code == 303
    page = client.get(f"/authoring/courses/{COURSE}/import").get_data(as_text=True)
    form = {"csrf_token": csrf_of(page), "format": "gift", "locale": "en", "outcome": "AC-3"}
    broken = "::A:: Pick {\n~%fifty%a\n~b\n}\n\n::B:: Say {}\n"
    response = client.post(f"/authoring/courses/{COURSE}/import", content_type="multipart/form-data",
                           data={**form, "file": (io.BytesIO(broken.encode()), "broken.txt")})
    shown = unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and own_questions() == []
    weight = translated(locale, "the weight %(weight)s of answer %(number)d is not a percentage") % {
        "weight": "'%fifty%'", "number": 1}
    assert f"{translated(locale, 'line %(number)d') % {'number': 2}}: {weight}" in shown, shown[-3000:]
    assert translated(locale, "write weights as %50% or %-33.33333%, right after = or ~") in shown
    assert translated(locale, "an essay question ({} with no answers) is not supported: it needs manual grading") in shown
    assert "is not a percentage" not in shown and "essay question" not in shown
    # A note on a question that is imported all the same (the file's weights are not kept as they are).
    weighted = "::W:: Pick all {\n~%60%a\n~%40%b\n~%-100%c\n}\n"
    response = client.post(f"/authoring/courses/{COURSE}/import", content_type="multipart/form-data",
                           data={**form, "file": (io.BytesIO(weighted.encode()), "weighted.txt")})
    shown = unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and len(own_questions()) == 1
    assert translated(locale, "nothing to do, unless the difference in weight matters") in shown
    assert "each right answer now counts the same" not in shown


MRZ_GIFT = """::MRZ name line::[markdown]Line 1 reads `P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<`. Which is the \
surname?<script>alert(1)</script>{
  =`ERIKSSON`#Right\\: the surname comes before `<<`.
  ~`P<UTO`#No\\: `P<` is the document code, `UTO` the issuing state.
  ~`P<ABC`#No <img src\\=x onerror\\=alert(2)>
  ####The primary identifier ends at `<<`; `ANNA<MARIA` are the given names.
}
"""
MRZ_XML = """<?xml version="1.0" encoding="UTF-8"?>
<quiz><question type="multichoice"><name><text>MRZ code</text></name>
<questiontext format="html"><text><![CDATA[<p>The MRZ line <code>P&lt;UTOERIKSSON&lt;&lt;ANNA</code> names the \
holder.<script>alert(1)</script></p>]]></text></questiontext>
<generalfeedback format="html"><text><![CDATA[<p>Names follow <code>&lt;&lt;</code>.</p>]]></text></generalfeedback>
<single>true</single>
<answer fraction="100" format="html"><text><![CDATA[<code>ERIKSSON</code>]]></text>
<feedback format="html"><text><![CDATA[Yes: before <code>&lt;&lt;</code>.]]></text></feedback></answer>
<answer fraction="0" format="html"><text><![CDATA[<code>P&lt;UTO</code>]]></text></answer>
</question></quiz>
"""


def stored_definition(key: str) -> dict:
    row = next(q for q in own_questions() if q.key == key)
    return db.session.get(QuestionVersion, row.current_version_id).definition


def test_an_mrz_in_a_code_span_is_stored_as_written_and_markup_still_goes(cli, academy, tmp_path):
    for name, data, fmt in (("mrz.gift", MRZ_GIFT, "gift"), ("mrz.xml", MRZ_XML, "moodle-xml")):
        path = tmp_path / name
        path.write_text(data)
        result = cli.invoke(args=["quiz", "import", str(path), "--format", fmt, "--tenant", academy,
                                  "--course", COURSE, "--locale", "en", "--outcome", "AC-1"])
        assert result.exit_code == 0, result.output
    gift = stored_definition("imp-mrz-name-line")
    assert gift["prompt"]["en"] == ("Line 1 reads `P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<`. Which is the "
                                    "surname?")
    assert [o["text"]["en"] for o in gift["options"]] == ["`ERIKSSON`", "`P<UTO`", "`P<ABC`"]
    assert [o["feedback"]["en"] for o in gift["options"]] == [
        "Right: the surname comes before `<<`.", "No: `P<` is the document code, `UTO` the issuing state.", "No"]
    assert gift["feedback"]["en"] == "The primary identifier ends at `<<`; `ANNA<MARIA` are the given names."
    xml = stored_definition("imp-mrz-code")
    assert xml["prompt"]["en"] == "The MRZ line `P<UTOERIKSSON<<ANNA` names the holder."
    assert [o["text"]["en"] for o in xml["options"]] == ["`ERIKSSON`", "`P<UTO`"]
    assert xml["options"][0]["feedback"]["en"] == "Yes: before `<<`."
    assert xml["feedback"]["en"] == "Names follow `<<`."


@pytest.mark.parametrize("fmt", ["gift", "moodle-xml"])
def test_outcome_links_survive_an_export_and_import_without_naming_an_outcome(cli, academy, tmp_path, fmt):
    path = tmp_path / "bank"
    result = cli.invoke(args=["quiz", "export", "--format", fmt, "--course", COURSE, "--out", str(path),
                              "--locale", "en"])
    assert result.exit_code == 0, result.output
    result = cli.invoke(args=["quiz", "import", str(path), "--format", fmt, "--tenant", academy,
                              "--course", COURSE, "--locale", "en"])
    assert result.exit_code == 0, result.output

    def title(question: Question) -> str:
        return db.session.get(QuestionVersion, question.current_version_id).definition["title"]["en"]

    shared = {title(q): q.outcomes for q in db.session.execute(select(Question).where(
        Question.bank == 0, Question.course_slug == COURSE)).scalars()}
    imported = own_questions()
    assert len(imported) >= 40 and len({code for q in imported for code in q.outcomes}) >= 5
    for question in imported:
        # A scenario comes back as one question per part, named "<title> (1/3): …".
        original = next(o for t, o in shared.items() if title(question) == t or title(question).startswith(f"{t} ("))
        assert question.outcomes == original, question.key
        assert not any(tag.startswith("AC-") for tag in question.tags), question.key
