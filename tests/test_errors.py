"""Error messages: a reason inside a message is translated with it, and logged in English."""

from __future__ import annotations

from flask_babel import force_locale

from ibm_lms.errors import N_, DomainError, Phrase
from tests.conftest import translated


class _Refused(DomainError):
    message = N_("The registration with the platform failed: %(reason)s")


def test_nested_reasons_are_translated_when_shown_and_english_in_logs(app):
    error = _Refused(reason=Phrase(N_("%(step)s: %(problem)s"), step=Phrase(N_("registration")),
                                   problem=Phrase(N_("the platform answered too slowly"))))
    assert str(error) == "The registration with the platform failed: registration: the platform answered too slowly"
    with app.test_request_context(), force_locale("uk"):
        shown = error.translated()
    inner = translated("uk", "%(step)s: %(problem)s") % {
        "step": translated("uk", "registration"), "problem": translated("uk", "the platform answered too slowly")}
    expected = translated("uk", "The registration with the platform failed: %(reason)s") % {"reason": inner}
    assert "registration" not in expected and "slowly" not in expected
    assert shown == expected


def test_a_reason_reads_in_english_where_a_str_is_expected():
    assert str(Phrase(N_("the host %(host)s is not allowed to register"), host="moodle.example")) == (
        "the host moodle.example is not allowed to register"
    )



def test_phrases_inside_a_reason_are_said_in_the_readers_language(app):
    error = _Refused(reason=Phrase(N_("%(part)s: too long"),
                                   part=Phrase(N_("Check digit: %(field)s"), field=Phrase(N_("Surname")))))
    assert str(error.params["reason"]) == "Check digit: Surname: too long"
    with app.test_request_context(), force_locale("ka"):
        shown = error.translated()
    label = translated("ka", "Check digit: %(field)s") % {"field": translated("ka", "Surname")}
    reason = translated("ka", "%(part)s: too long") % {"part": label}
    assert shown == translated("ka", "The registration with the platform failed: %(reason)s") % {"reason": reason}
    assert "Surname" not in shown


def test_a_405_says_which_methods_the_address_takes(client):
    answer = client.patch("/lti/config")
    assert answer.status_code == 405 and "GET" in answer.headers["Allow"]
    api = client.patch("/api/v1/openapi.json")
    assert api.status_code == 405 and "GET" in api.headers["Allow"] and api.get_json()["error"]
