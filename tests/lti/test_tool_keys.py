"""The tool's own keys: created on first use, published with a kid, rotated with a grace period."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from ibm_lms.extensions import db
from ibm_lms.lti import keys
from ibm_lms.lti.models import ToolKey


def test_jwks_publishes_a_generated_key_with_kid(client):
    body = client.get("/.well-known/jwks.json").get_json()
    assert len(body["keys"]) == 1
    key = body["keys"][0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]
    assert "d" not in key and "p" not in key
    assert client.get("/.well-known/jwks.json").get_json() == body


def test_private_key_is_encrypted_at_rest_and_readable_by_the_tool(app):
    key = keys.current_key()
    assert "PRIVATE KEY" not in key.private_key
    assert keys.private_key_pem(key).startswith("-----BEGIN PRIVATE KEY-----")


def test_rotation_keeps_the_old_key_published_during_the_grace_period(client, cli):
    first = client.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]
    result = cli.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert first in result.output
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert len(kids) == 2 and kids[1] == first and keys.current_key().kid == kids[0]
    db.session.execute(
        update(ToolKey).where(ToolKey.kid == first).values(retired_at=datetime.utcnow() - timedelta(days=2))
    )
    db.session.commit()
    assert [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]] == [kids[0]]


def test_a_changed_secret_key_gives_a_clear_error(app, monkeypatch):
    from ibm_lms.lti.errors import ToolKeyUnreadable

    key = keys.current_key()
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret")
    with pytest.raises(ToolKeyUnreadable, match="cannot be decrypted"):
        keys.private_key_pem(key)
