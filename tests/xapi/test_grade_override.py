"""An instructor's grade override reaches the LRS (Ralph): the latest result it holds for the quiz is the grade in
force, set by the instructor, as in the gradebook."""

from __future__ import annotations

from sqlalchemy import select

from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy
from ibm_lms.xapi import service as xapi
from ibm_lms.xapi.models import StatementOutbox
from ibm_lms.xapi.validation import problems
from tests.conftest import TOOL_BASE_URL
from tests.quiz.test_attempts import course_folder  # noqa: F401
from tests.quiz.test_grade_overrides import QUIZZES, instructor, override, trainee  # noqa: F401

from .helpers import write_queued

ADL = "http://adlnet.gov/expapi/verbs/"
QUIZ = f"{TOOL_BASE_URL}{QUIZZES}/twice"


def results_in(lrs) -> list[dict]:
    """What the LRS holds of the quiz's grade (passed or failed), oldest first."""
    held = [s for s in lrs.statements() if s["object"]["id"] == QUIZ
            and s["verb"]["id"] in (ADL + "passed", ADL + "failed")]
    return sorted(held, key=lambda s: (s["timestamp"], s["stored"]))


def test_an_override_and_its_end_reach_the_lrs_as_the_grade_in_force_set_by_the_instructor(
        trainee, instructor, lrs, cli):  # noqa: F811
    assert override(instructor, "95").status_code == 303
    write_queued()
    launches = db.session.execute(select(StatementOutbox.statement).where(
        StatementOutbox.verb == "launched").order_by(StatementOutbox.id)).scalars().all()
    learner, teacher = (s["actor"] for s in launches)
    xapi.configure(tenancy.get_tenant("ge-academy").id, endpoint=lrs.endpoint, username=lrs.username,
                   password=lrs.password)
    db.session.commit()
    assert cli.invoke(args=["worker", "--once"]).exit_code == 0

    failed, overridden = results_in(lrs)
    assert failed["verb"]["id"] == ADL + "failed" and failed["result"]["score"]["scaled"] == 0
    assert overridden["verb"]["id"] == ADL + "passed" and overridden["actor"] == learner
    assert overridden["result"] == {"score": {"scaled": 0.95}, "success": True}
    assert overridden["context"]["instructor"] == teacher
    extensions = overridden["context"]["extensions"]
    assert extensions[f"{TOOL_BASE_URL}/xapi/extensions/grade-override"] is True
    assert extensions[f"{TOOL_BASE_URL}/xapi/extensions/previous-grade-scaled"] == 0
    # The same quiz activity, defined as every other statement about it defines it.
    assert overridden["object"]["definition"] == failed["object"]["definition"]

    # Ended: the attempts' grade (0%) is in force again, and the LRS says so last.
    assert override(instructor, "", "The oral check is void.").status_code == 303
    assert cli.invoke(args=["worker", "--once"]).exit_code == 0
    *_, ended = results_in(lrs)
    assert ended["verb"]["id"] == ADL + "failed" and ended["result"]["score"]["scaled"] == 0
    assert ended["context"]["extensions"][f"{TOOL_BASE_URL}/xapi/extensions/grade-override"] is False
    db.session.expire_all()
    rows = db.session.execute(select(StatementOutbox)).scalars().all()
    assert {row.status for row in rows} == {"delivered"} and all(problems(row.statement) == [] for row in rows)
