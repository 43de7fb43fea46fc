"""An administrator switches a Moodle's registration off and on, and removes one nothing depends on."""

from __future__ import annotations

import json

from sqlalchemy import select

from ibm_lms.audit.models import AuditEntry
from ibm_lms.extensions import db
from tests.conftest import error_code


def switch(cli, platform, command: str):
    return cli.invoke(args=["platform", command, "--issuer", platform.base_url, "--client-id",
                            platform.sim.client_id])


def test_a_disabled_registration_refuses_logins_and_launches_until_enabled(platform, launcher, cli):
    auth, _ = launcher.login()  # a login begun before the switch
    assert "disabled" in switch(cli, platform, "disable").output
    assert "was already disabled" in switch(cli, platform, "disable").output
    _, refused = launcher.login()
    assert refused.status_code == 403 and error_code(refused) == "platform_disabled"
    late = launcher.post(launcher.sim.sign(launcher.claims(auth)), auth["state"])
    assert late.status_code == 403 and error_code(late) == "platform_disabled"
    listed = json.loads(cli.invoke(args=["platform", "list", "--json"]).output.splitlines()[0])
    assert listed["disabled"] is True
    assert "enabled" in switch(cli, platform, "enable").output
    assert launcher.launch().status_code == 303
    actions = db.session.execute(select(AuditEntry.action).order_by(AuditEntry.position)).scalars().all()
    assert actions == ["platform.disabled", "platform.enabled"]


def test_a_registration_people_came_through_is_kept(platform, launcher, cli):
    assert launcher.launch().status_code == 303
    refused = switch(cli, platform, "remove")
    assert refused.exit_code != 0 and "cannot be removed" in refused.output and "Disable it instead" in refused.output
    assert len(cli.invoke(args=["platform", "list", "--json"]).output.splitlines()) == 1


def test_an_unused_registration_is_removed_and_an_unknown_one_is_named(platform, cli):
    removed = switch(cli, platform, "remove")
    assert removed.exit_code == 0, removed.output
    assert cli.invoke(args=["platform", "list"]).output.strip() == "no platforms registered"
    unknown = switch(cli, platform, "disable")
    assert unknown.exit_code != 0 and "not registered" in unknown.output


def test_the_academy_administrator_switches_its_connection_in_the_browser(platform, launcher, client):
    from ibm_lms.demo.platform import DEMO_USERS
    from tests.conftest import csrf_token

    assert launcher.launch().status_code == 303
    assert client.get("/lti/platforms").status_code == 403  # a trainee
    launcher.platform.user = DEMO_USERS["administrator"]
    assert launcher.launch().status_code == 303
    page = client.get("/lti/platforms").get_data(as_text=True)
    assert platform.base_url in page and "Enabled" in page and 'id="catalogue"' in page
    platform_id = int(page.split('id="platform-')[1].split('"')[0])
    token = csrf_token(page)
    unconfirmed = client.post(f"/lti/platforms/{platform_id}/switch", data={"csrf_token": token, "action": "disable"})
    assert unconfirmed.status_code == 400 and error_code(unconfirmed) == "switch_not_confirmed"
    assert client.post(f"/lti/platforms/{platform_id + 1000}/switch",
                       data={"csrf_token": token, "action": "enable"}).status_code == 400
    switched = client.post(f"/lti/platforms/{platform_id}/switch",
                           data={"csrf_token": token, "action": "disable", "confirm": "yes"})
    assert switched.status_code == 303
    _, refused = launcher.login()
    assert refused.status_code == 403 and error_code(refused) == "platform_disabled"


def test_the_connections_page_speaks_every_locale(platform, launcher, client):
    from ibm_lms.demo.platform import DEMO_USERS

    launcher.platform.user = DEMO_USERS["administrator"]
    for locale in ("en", "ru", "uk", "ka", "hy", "az", "ro", "be"):
        assert launcher.launch(locale=locale).status_code == 303
        page = client.get("/lti/platforms")
        assert page.status_code == 200 and f'lang="{locale}"' in page.get_data(as_text=True)
