"""People of an academy as launches make them, and the learning results the course and quiz rooms announce."""

from __future__ import annotations

from ibm_lms.content import service as content
from ibm_lms.demo.platform import DemoUser
from ibm_lms.events import CourseCompleted, QuizAttemptSubmitted
from ibm_lms.tenancy import service as tenancy
from ibm_lms.unit_of_work import publish, unit_of_work

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ACADEMY_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
COURSE_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"

PEOPLE = {
    "candidate": DemoUser("cand-1", "Giorgi", "Kapanadze", "giorgi@academy.invalid", (LEARNER,)),
    "master": DemoUser("master-1", "Tamar", "Lomidze", "tamar@academy.invalid", (INSTRUCTOR,)),
    "head": DemoUser("head-1", "Levan", "Abashidze", "levan@academy.invalid", (ACADEMY_ADMIN, INSTRUCTOR)),
    "deputy": DemoUser("deputy-1", "Nana", "Gelashvili", "nana@academy.invalid", (ACADEMY_ADMIN,)),
    "colleague": DemoUser("peer-1", "Irakli", "Tsiklauri", "irakli@academy.invalid", (LEARNER,)),
}


def become(launcher, who: str | DemoUser, locale: str = "en"):
    """Signs the launcher's browser in as that person, through a real launch."""
    launcher.platform.user = PEOPLE[who] if isinstance(who, str) else who
    response = launcher.launch(locale=locale)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return launcher.client


def user_id(launcher, who: str) -> int:
    tenant = tenancy.get_tenant("ge-academy")
    found = tenancy.user_id_of(tenant.id, launcher.platform.base_url, PEOPLE[who].subject)
    assert found is not None, f"{who} has not launched yet"
    return found


def who(launcher, name: str) -> str:
    return f"{launcher.platform.base_url}:{PEOPLE[name].subject}"


def _where(tenant_id: int, user: int, course: str) -> dict:
    return {"tenant_id": tenant_id, "user_id": user, "context_id": None, "resource_link_id": None, "locale": "en",
            "course_slug": course, "course_version": content.course_version_number(course, tenant_id)}


def completed(tenant_id: int, user: int, course: str, score: float = 0.9) -> None:
    with unit_of_work():
        publish(CourseCompleted(**_where(tenant_id, user, course), score_scaled=score, min_score=0.7,
                                duration_seconds=3600))


def exam(tenant_id: int, user: int, course: str, score: float, quiz: str = "final-exam", kind: str = "exam") -> None:
    with unit_of_work():
        publish(QuizAttemptSubmitted(**_where(tenant_id, user, course), quiz_key=quiz, quiz_version=1,
                                     quiz_kind=kind, attempt_id=1, attempt_number=1, score_scaled=score,
                                     grade_scaled=score, grading="highest", pass_mark=0.7, passed=score >= 0.7,
                                     expired=False, duration_seconds=1800, answers=()))


def learning_done(tenant_id: int, user: int, area: str = "document-security") -> None:
    """The courses and exams of the trainer path."""
    for course in ("trainer-methodology", area):
        completed(tenant_id, user, course)
        exam(tenant_id, user, course, 0.86)
