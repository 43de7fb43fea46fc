"""An academy's database from the previous release (schema 0014: before certification and platform switches),
holding a registered Moodle and its users, is upgraded in place and launches work on it."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text

from ibm_lms.extensions import db
from ibm_lms.tenancy.models import User
from tests.conftest import POSTGRES_URL, IsolatedClient, Launcher, make_app

PREVIOUS_RELEASE = "0014_audit"


@pytest.fixture
def previous_database(tmp_path):
    if not POSTGRES_URL:
        yield "sqlite:///" + str(tmp_path / "previous.sqlite3")
        return
    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS ibm_lms_upgrade_test"))
        connection.execute(text("CREATE DATABASE ibm_lms_upgrade_test"))
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/ibm_lms_upgrade_test"
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS ibm_lms_upgrade_test WITH (FORCE)"))
    admin.dispose()


def test_the_previous_release_upgrades_with_its_data_and_launches(app, previous_database, tmp_path,
                                                                   platform_server):
    old = make_app(previous_database, tmp_path / "instance")
    old.test_client_class = IsolatedClient
    sim = platform_server.sim
    now = datetime(2026, 11, 1, 9, 0)
    with old.app_context():
        upgrade(directory=old.extensions["migrate"].directory, revision=PREVIOUS_RELEASE)
        # What the previous release wrote, in its own columns.
        statements = [
            ("INSERT INTO tenants (id, slug, name, created_at) VALUES (1, 'ge-academy', 'Georgia', :now)", {}),
            ("INSERT INTO lti_issuers (issuer, tenant_id) VALUES (:issuer, 1)", {}),
            ("INSERT INTO lti_platforms (id, tenant_id, issuer, client_id, auth_login_url, auth_token_url, keyset_url, "
             "created_at) VALUES (1, 1, :issuer, :client, :login, :token, :keys, :now)",
             {"client": sim.client_id, "login": platform_server.auth_login_url, "token": platform_server.token_url,
              "keys": platform_server.keyset_url}),
            ("INSERT INTO lti_deployments (platform_id, deployment_id) VALUES (1, :deployment)",
             {"deployment": sim.deployment_id}),
            ("INSERT INTO users (tenant_id, issuer, subject, name, created_at, last_seen_at) "
             "VALUES (1, :issuer, :subject, 'Nino Beridze', :now, :now)", {"subject": platform_server.user.subject}),
        ]
        for sql, values in statements:
            db.session.execute(text(sql), {"issuer": platform_server.base_url, "now": now, **values})
        db.session.commit()
        upgrade(directory=old.extensions["migrate"].directory)
        upgrade(directory=old.extensions["migrate"].directory)  # a second run changes nothing
        launcher = Launcher(old.test_client(), platform_server)
        assert launcher.launch().status_code == 303
        users = db.session.execute(select(User)).scalars().all()
        assert len(users) == 1 and users[0].academy_administrator is False
        assert db.session.execute(select(func.count()).select_from(text("cert_programmes"))).scalar_one() == 0
        db.session.remove()
        db.engine.dispose()
