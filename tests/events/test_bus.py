"""The in-transaction event bus."""

from __future__ import annotations

from ibm_lms.events import DomainEvent, EventBus, LaunchCompleted
from ibm_lms.unit_of_work import event_bus


def _event() -> LaunchCompleted:
    return LaunchCompleted(tenant_id=1, user_id=2, issuer="i", subject="s", role="learner", locale="en",
                           message_type="LtiResourceLinkRequest", context_id=None, resource_link_id=None,
                           target_link_uri="http://t/")


def test_handlers_of_the_type_and_its_bases_run():
    bus, seen = EventBus(), []
    bus.subscribe(LaunchCompleted, lambda e: seen.append(("exact", e.user_id)))
    bus.subscribe(DomainEvent, lambda e: seen.append(("base", e.tenant_id)))
    assert bus.publish(_event()) == 2
    assert seen == [("exact", 2), ("base", 1)]


def test_unsubscribe_and_no_duplicate_subscription():
    bus, seen = EventBus(), []

    def handler(event):
        seen.append(event.event_id)

    bus.subscribe(LaunchCompleted, handler)
    bus.subscribe(LaunchCompleted, handler)
    event = _event()
    bus.publish(event)
    bus.unsubscribe(LaunchCompleted, handler)
    bus.publish(_event())
    assert seen == [event.event_id]


def test_launch_publishes_an_event_inside_the_launch(app, launcher):
    seen = []
    event_bus(app).subscribe(LaunchCompleted, seen.append)
    assert launcher.launch(locale="ro").status_code == 303
    assert len(seen) == 1 and seen[0].locale == "ro" and seen[0].role == "learner"


def test_a_failing_subscriber_rolls_the_launch_back(app, launcher):
    from ibm_lms.tenancy.models import User
    from tests.conftest import count_rows

    def broken(event):
        raise RuntimeError("outbox unavailable")

    event_bus(app).subscribe(LaunchCompleted, broken)
    response = launcher.launch()
    assert response.status_code == 500
    assert "Traceback" not in response.get_data(as_text=True)
    assert count_rows(User) == 0
