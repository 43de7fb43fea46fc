"""Error messages: a reason inside a message is translated with it, and logged in English."""

from __future__ import annotations

from flask_babel import force_locale

from ibm_lms.errors import N_, DomainError, Reason
from ibm_lms.markers import Phrase
from tests.conftest import translated


class _Refused(DomainError):
    message = N_("The registration with the platform failed: %(reason)s")


def test_nested_reasons_are_translated_when_shown_and_english_in_logs(app):
    error = _Refused(reason=Reason(N_("%(step)s: %(problem)s"), step=Reason(N_("registration")),
                                   problem=Reason(N_("the platform answered too slowly"))))
    assert str(error) == "The registration with the platform failed: registration: the platform answered too slowly"
    with app.test_request_context(), force_locale("uk"):
        shown = error.translated()
    inner = translated("uk", "%(step)s: %(problem)s") % {
        "step": translated("uk", "registration"), "problem": translated("uk", "the platform answered too slowly")}
    expected = translated("uk", "The registration with the platform failed: %(reason)s") % {"reason": inner}
    assert "registration" not in expected and "slowly" not in expected
    assert shown == expected


def test_a_reason_outside_the_app_reads_in_english():
    assert str(Reason(N_("the host %(host)s is not allowed to register"), host="moodle.example")) == (
        "the host moodle.example is not allowed to register"
    )



def test_phrases_inside_a_reason_are_said_in_the_readers_language(app):
    reason = Reason(N_("%(part)s: too long"), part=Phrase(N_("Check digit: %(field)s"), field=Phrase(N_("Surname"))))
    assert str(reason) == "Check digit: Surname: too long"
    with app.test_request_context(), force_locale("ka"):
        shown = str(reason)
    label = translated("ka", "Check digit: %(field)s") % {"field": translated("ka", "Surname")}
    assert shown == translated("ka", "%(part)s: too long") % {"part": label} and "Surname" not in shown
