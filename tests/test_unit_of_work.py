"""A door's unit of work: an event's subscribers write in the same transaction as the change it reports."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ibm_lms.events import DomainEvent, LaunchCompleted
from ibm_lms.extensions import db
from ibm_lms.tenancy.models import Tenant, User
from ibm_lms.unit_of_work import event_bus, insert_at_commit, publish, unit_of_work
from ibm_lms.xapi.models import QueuedEvent
from tests.conftest import count_rows


def _record_in_an_outbox(event: LaunchCompleted) -> None:
    # Stands in for an outbox handler: it only adds a row to the publisher's session.
    db.session.add(Tenant(slug=f"outbox-{event.user_id}", name=event.event_id))


def test_a_subscribers_row_is_committed_with_the_launch(app, launcher):
    event_bus(app).subscribe(LaunchCompleted, _record_in_an_outbox)
    assert launcher.launch().status_code == 303
    db.session.expire_all()
    user = db.session.execute(select(User)).scalar_one()
    assert db.session.execute(select(Tenant.slug).where(Tenant.slug == f"outbox-{user.id}")).scalar_one()


def test_a_subscriber_that_fails_leaves_neither_row(app, launcher):
    def fails_after_writing(event):
        _record_in_an_outbox(event)
        raise RuntimeError("outbox full")

    event_bus(app).subscribe(LaunchCompleted, fails_after_writing)
    assert launcher.launch().status_code == 500
    assert count_rows(User) == 0
    assert db.session.execute(select(Tenant).where(Tenant.slug.like("outbox-%"))).first() is None


def test_a_row_refused_at_commit_takes_the_launch_with_it(app, launcher):
    """The subscriber's row is only sent at commit, where the database refuses it: nothing is kept."""
    with unit_of_work():
        db.session.add(Tenant(slug="taken", name="taken"))
    event_bus(app).subscribe(LaunchCompleted, lambda event: db.session.add(Tenant(slug="taken", name="again")))
    assert launcher.launch().status_code == 500
    assert count_rows(User) == 0
    assert db.session.execute(select(Tenant.name).where(Tenant.slug == "taken")).scalars().all() == ["taken"]


EVENT = LaunchCompleted(tenant_id=1, user_id=1, issuer="i", subject="s", role="learner", locale="en",
                        message_type="LtiResourceLinkRequest", context_id=None, resource_link_id=None,
                        target_link_uri="http://localhost/courses/")


def test_publishing_outside_a_unit_of_work_is_refused(app):
    event_bus(app).subscribe(DomainEvent, _record_in_an_outbox)
    with pytest.raises(RuntimeError, match="outside a unit of work"):
        publish(EVENT)
    assert count_rows(Tenant) == 0


def test_publishing_outside_a_unit_of_work_is_refused_before_any_subscriber_runs(app):
    heard = []
    event_bus(app).subscribe(DomainEvent, heard.append)
    with app.test_request_context(), pytest.raises(RuntimeError, match="published outside a unit of work"):
        publish(EVENT)
    assert heard == []


def test_units_nest_and_only_the_outermost_commits(app):
    with pytest.raises(LookupError), unit_of_work():
        with unit_of_work():
            db.session.add(Tenant(slug="inner", name="inner"))
        # The inner unit ended, but nothing is committed until the outer one does; here it fails.
        raise LookupError("the outer unit fails")
    assert count_rows(Tenant) == 0
    with unit_of_work(), unit_of_work():
        db.session.add(Tenant(slug="inner", name="inner"))
    db.session.rollback()  # a commit is final: nothing is left to roll back
    assert count_rows(Tenant) == 1


@dataclass(frozen=True, kw_only=True)
class Noticed(DomainEvent):
    """An event no room subscribes to: only the test's own handler sees it."""


def test_two_apps_have_their_own_subscribers(app, another_worker):
    seen, event = [], Noticed(tenant_id=1)
    event_bus(app).subscribe(Noticed, seen.append)
    with another_worker().app_context(), unit_of_work():
        publish(event)
    assert seen == []
    with unit_of_work():
        publish(event)
    assert seen == [event]


def _an_academy() -> int:
    with unit_of_work():
        tenant = Tenant(slug="academy", name="Academy")
        db.session.add(tenant)
    return tenant.id


def _launch_of(tenant_id: int) -> LaunchCompleted:
    # The xAPI queue subscribes to launches and hands its row to the unit for the commit.
    return LaunchCompleted(tenant_id=tenant_id, user_id=1, issuer="i", subject="s", role="learner", locale="en",
                           message_type="LtiResourceLinkRequest", context_id=None, resource_link_id=None,
                           target_link_uri="http://localhost/courses/")


def test_a_row_handed_over_for_the_commit_joins_the_units_transaction(app):
    tenant_id = _an_academy()
    with unit_of_work():
        db.session.add(Tenant(slug="cause", name="the change the event reports"))
        publish(_launch_of(tenant_id))
        assert count_rows(QueuedEvent) == 0  # not yet: it is written when the unit commits
    db.session.expire_all()
    assert count_rows(QueuedEvent) == 1 and count_rows(Tenant) == 2


def test_a_unit_that_wrote_nothing_else_writes_the_handed_over_row_alone(app):
    """(Counted at the driver by the launch's statement budget: "INSERT alone".)"""
    tenant_id = _an_academy()
    with unit_of_work():
        publish(_launch_of(tenant_id))
    assert not db.session().in_transaction()  # no transaction of the session's was begun, none is left open
    assert count_rows(QueuedEvent) == 1


def test_a_unit_that_fails_drops_the_rows_handed_over(app):
    tenant_id = _an_academy()
    with pytest.raises(LookupError), unit_of_work():
        publish(_launch_of(tenant_id))
        raise LookupError("the door fails after publishing")
    # Nor does the next unit inherit them.
    with unit_of_work():
        db.session.add(Tenant(slug="next", name="next"))
    assert count_rows(QueuedEvent) == 0


def test_a_handed_over_row_refused_at_commit_takes_the_change_with_it(app):
    _an_academy()
    refused = {"tenant_id": None, "event_id": "e", "kind": "k", "event": {}, "status": "pending", "attempts": 0,
               "next_attempt_at": None, "claimed_until": None, "created_at": None, "last_problem": None}
    with pytest.raises(IntegrityError), unit_of_work():
        db.session.add(Tenant(slug="cause", name="cause"))
        insert_at_commit(QueuedEvent.__table__, refused, ["event_id"])
    assert count_rows(Tenant) == 1 and count_rows(QueuedEvent) == 0


def test_handing_over_a_row_outside_a_unit_of_work_is_refused(app):
    with pytest.raises(RuntimeError, match="outside a unit of work"):
        insert_at_commit(QueuedEvent.__table__, {"event_id": "e"}, ["event_id"])
