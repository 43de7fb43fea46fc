"""A changed IBM_LMS_SECRET_KEY is found before it breaks anything: the server and the worker refuse to start, and
key rotation refuses, each with one line that says what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ibm_lms import sealed
from ibm_lms.config import ConfigurationError
from ibm_lms.extensions import db
from ibm_lms.lti import keys
from ibm_lms.unit_of_work import unit_of_work

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def stored_secrets(app):
    """A signing key and an LRS password stored with the app's secret key."""
    from ibm_lms.tenancy import service as tenancy
    from ibm_lms.xapi import service as xapi

    with unit_of_work():
        keys.current_key()
        tenant_id = tenancy.ensure_tenant("ge-academy").id
    xapi.configure(tenant_id, endpoint="https://lrs.example/xAPI/", username="tool", password="s3cret")
    return tenant_id


def test_the_right_key_opens_everything(app, stored_secrets):
    assert sealed.unreadable(app) == {}
    sealed.require_readable(app)


def test_another_key_is_refused_with_what_it_cannot_open(app, stored_secrets, monkeypatch):
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret-key-entirely")
    assert sealed.unreadable(app) == {"the tool's signing key": 1, "LRS passwords and pseudonym keys": 2}
    with pytest.raises(ConfigurationError, match="cannot open secrets stored with another key") as refused:
        sealed.require_readable(app)
    assert "keys rotate --force" in str(refused.value) and "\n" not in str(refused.value)


def test_rotation_refuses_an_unreadable_key_unless_forced(app, cli, stored_secrets, monkeypatch):
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret-key-entirely")
    refused = cli.invoke(args=["keys", "rotate"])
    assert refused.exit_code == 1 and "cannot be read with this IBM_LMS_SECRET_KEY" in refused.output
    forced = cli.invoke(args=["keys", "rotate", "--force"])
    assert forced.exit_code == 0, forced.output
    db.session.expire_all()
    assert keys.unreadable_count() == 0  # the old key is retired; the new one is readable


@pytest.mark.parametrize("command", [["worker", "--once"], ["serve"]])
def test_server_and_worker_refuse_to_start_with_another_key(migrated_database, stored_secrets, command):
    import socket

    if command == ["serve"]:
        with socket.socket() as probe:  # a port free now; the refusal comes before anything listens on it
            probe.bind(("127.0.0.1", 0))
            command = ["serve", "--port", str(probe.getsockname()[1])]
    database_url, instance = migrated_database
    db.session.commit()
    env = {"PATH": "/usr/bin:/bin", "IBM_LMS_DATABASE_URL": database_url, "IBM_LMS_INSTANCE_PATH": str(instance),
           "IBM_LMS_SECRET_KEY": "another-secret-key-entirely-not-the-tests"}
    result = subprocess.run([sys.executable, "-m", "ibm_lms", *command], env=env, capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot open secrets stored with another key" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["content", "check"], ["i18n", "check"]])
def test_commands_that_only_read_files_need_no_secret_key(tmp_path, command):
    env = {"PATH": "/usr/bin:/bin", "IBM_LMS_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "ibm_lms", *command], env=env, capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not list(tmp_path.glob("*secret*"))  # nothing was kept
