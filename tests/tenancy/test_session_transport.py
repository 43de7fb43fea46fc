"""A session carried in URLs: signed once per state of the session, and signed again when it changes."""

from __future__ import annotations


def test_the_url_token_is_reused_until_the_session_changes(app):
    with app.test_request_context():
        transport = app.session_interface
        session = transport.session_class({"identity": {"user_id": 1}})
        first = transport.token(app, session)
        assert transport.token(app, session) is first
        session["locale"] = "ka"
        changed = transport.token(app, session)
        assert changed != first
        assert transport._tokens.loads(changed) == {"identity": {"user_id": 1}, "locale": "ka"}
