"""Names and Role Provisioning: the members of a Moodle course, paged, changes only, never deleted; the
instructor's page with the gradebook mode, refused scores and each member's progress."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ibm_lms.extensions import db
from ibm_lms.tenancy.models import Enrolment, User
from tests.conftest import csrf_token, error_code

M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


def member(n: int, *, role: str = "Learner", status: str = "Active", links=("demo-link-1",)) -> dict:
    return {"user_id": f"member-{n}", "status": status, "roles": [M + role], "name": f"Officer {n}",
            "given_name": "Officer", "family_name": str(n), "email": f"officer{n}@academy.invalid", "links": links}


@pytest.fixture
def instructor(launcher, courses, platform_server):
    from ibm_lms.demo.platform import DEMO_USERS

    platform_server.user = DEMO_USERS["instructor"]
    # Moodle lists the instructor who launches too.
    platform_server.services.members = [member(n) for n in range(5)] + [
        {**member(9, role="Instructor"), "user_id": DEMO_USERS["instructor"].subject}]
    assert launcher.launch().status_code == 303
    return launcher


def _enrolments() -> dict[str, bool]:
    db.session.expire_all()
    rows = db.session.execute(select(User.subject, Enrolment.active).join(Enrolment, Enrolment.user_id == User.id))
    return dict(rows.all())


def test_a_sync_follows_every_page_and_records_members(instructor, cli, platform_server):
    platform_server.services.page_size = 2  # a platform that pages (Moodle sends every member at once)
    result = cli.invoke(args=["roster", "sync"])
    assert result.exit_code == 0, result.output
    assert "6 members read, 6 active, 0 no longer members" in result.output
    paths = [p for p in platform_server.requests_seen if p.endswith("/memberships")]
    assert len(paths) == 3  # six members, two per page
    enrolled = _enrolments()
    assert all(enrolled[f"member-{n}"] for n in range(5)) and len(enrolled) == 6
    officer = db.session.execute(select(User).where(User.subject == "member-2")).scalar_one()
    assert (officer.name, officer.email) == ("Officer 2", "officer2@academy.invalid")


def test_a_members_name_is_recorded_without_bidirectional_controls(instructor, cli, platform_server):
    platform_server.services.members[2] = {**member(2), "name": "\u202e2 reciffO", "family_name": "\u20682"}
    assert cli.invoke(args=["roster", "sync"]).exit_code == 0
    officer = db.session.execute(select(User).where(User.subject == "member-2")).scalar_one()
    assert (officer.name, officer.family_name) == ("2 reciffO", "2")


def test_a_member_who_left_is_kept_inactive(instructor, cli, platform_server):
    cli.invoke(args=["roster", "sync"])
    platform_server.services.members = [m for m in platform_server.services.members if m["user_id"] != "member-3"]
    result = cli.invoke(args=["roster", "sync"])
    assert "1 no longer members" in result.output
    enrolled = _enrolments()
    assert enrolled["member-3"] is False and enrolled["member-4"] is True
    assert db.session.execute(select(User).where(User.subject == "member-3")).scalar_one()  # never deleted


def test_after_a_full_read_only_the_differences_are_asked_for(instructor, cli, platform_server):
    platform_server.services.offer_differences = True  # a platform that offers them (Moodle does not)
    cli.invoke(args=["roster", "sync"])
    platform_server.requests_seen.clear()
    platform_server.services.members = [member(4, status="Deleted")]
    result = cli.invoke(args=["roster", "sync"])
    assert "(changes only)" in result.output
    assert _enrolments()["member-4"] is False and _enrolments()["member-0"] is True


def test_the_link_filter_reads_only_the_links_members(instructor, platform_server, app):
    from ibm_lms.lti import nrps
    from ibm_lms.lti.models import ResourceLink

    platform_server.services.members = [member(1), member(2, links=("another-link",))]
    link_id = db.session.execute(select(ResourceLink.id)).scalar_one()
    report = nrps.sync_link(link_id, link_members_only=True)
    assert report.members == 1 and "member-2" not in _enrolments()


def test_the_instructor_sees_the_mode_the_refused_scores_and_each_members_progress(instructor, client,
                                                                                    platform_server):
    page = client.get("/lti/gradebook").get_data(as_text=True)
    assert "Grade sync and column management." in page
    client.post("/lti/roster/sync", data={"csrf_token": csrf_token(page)})
    page = client.get("/lti/gradebook").get_data(as_text=True)
    assert "Officer 3" in page and page.count("Not started") >= 6


def test_grade_sync_only_without_a_column_tells_the_instructor_what_to_do(launcher, courses, client,
                                                                          platform_server):
    from ibm_lms.demo.platform import DEMO_USERS

    platform_server.user = DEMO_USERS["instructor"]
    platform_server.services.mode = "sync_only"
    launcher.launch()
    page = client.get("/lti/gradebook").get_data(as_text=True)
    assert "Grade sync only." in page and "Give the activity a grade" in page


def test_learners_cannot_see_the_gradebook_or_read_the_roster(launcher, courses, client):
    launcher.launch()
    assert client.get("/lti/gradebook").status_code == 403
    assert client.post("/lti/roster/sync", data={}).status_code in (400, 403)


def test_a_roster_the_platform_refuses_is_a_clear_error(instructor, client, platform_server):
    page = client.get("/lti/gradebook").get_data(as_text=True)
    platform_server.services.faults = ["ok", "500"]
    response = client.post("/lti/roster/sync", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 502 and error_code(response) == "roster_unavailable"
