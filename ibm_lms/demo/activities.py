"""The demo course's activities: the links a teacher would have added to a Moodle course, two of them graded."""

from __future__ import annotations

from dataclasses import dataclass, field

from ibm_lms.markers import N_


@dataclass(frozen=True)
class DemoActivity:
    key: str
    resource_link_id: str
    title: str  # a msgid: the demo page says it in the reader's language; Moodle sends the teacher's English name
    endpoint: str
    values: dict = field(default_factory=dict)
    # A graded activity has its gradebook column from the start, as Moodle makes one for a link that accepts grades.
    graded: bool = False


ACTIVITIES = {activity.key: activity for activity in (
    DemoActivity("catalogue", "demo-link-1", N_("All courses"), "content.catalogue"),
    DemoActivity("anti-corruption-post-test", "demo-link-2", N_("Anti-corruption: post-test"), "quiz.quiz",
                 {"slug": "anti-corruption", "key": "post-test"}, graded=True),
    DemoActivity("document-security", "demo-link-3", N_("Document security: the whole course"), "content.course",
                 {"slug": "document-security"}, graded=True),
)}
DEFAULT = ACTIVITIES["catalogue"]


def activity_of(message_hint: str) -> tuple[str, DemoActivity]:
    """(locale, activity) a login's message hint names: "<locale> <activity key>", as the demo page sends it."""
    locale, _, key = message_hint.partition(" ")
    return locale, ACTIVITIES.get(key, DEFAULT)
