"""An administrator switches a Moodle's registration off and on, and removes one nothing depends on."""

from __future__ import annotations

import json

import pytest
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
    assert actions == ["platform.added", "platform.disabled", "platform.enabled"]  # the fixture's registration first


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
                       data={"csrf_token": token, "action": "enable"}).status_code == 404
    unconfirmed = client.post(f"/lti/platforms/{platform_id}/remove", data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and error_code(unconfirmed) == "removal_not_confirmed"
    assert "once disabled" not in unconfirmed.get_data(as_text=True)
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


def _tenant(cli) -> str:
    return json.loads(cli.invoke(args=["platform", "list", "--json"]).output.splitlines()[0])["tenant"]


def _as_administrator(launcher, client, locale: str = "en") -> str:
    """Signs the academy's administrator in; returns the connections page."""
    from ibm_lms.demo.platform import DEMO_USERS

    launcher.platform.user = DEMO_USERS["administrator"]
    assert launcher.launch(locale=locale).status_code == 303
    page = client.get("/lti/platforms")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _another_academys_registration(cli) -> int:
    assert cli.invoke(args=["tenant", "add", "ua-academy"]).exit_code == 0
    added = cli.invoke(args=["platform", "add", "--issuer", "http://moodle.ua.test", "--client-id", "ua-1",
                             "--auth-login-url", "http://moodle.ua.test/auth", "--auth-token-url",
                             "http://moodle.ua.test/token", "--keyset-url", "http://moodle.ua.test/certs",
                             "--deployment-id", "1", "--tenant", "ua-academy"])
    assert added.exit_code == 0, added.output
    from ibm_lms.lti.models import Platform

    return db.session.execute(select(Platform.id).where(Platform.client_id == "ua-1")).scalar_one()


def test_an_edit_shows_what_changes_and_saves_only_when_confirmed(platform, launcher, client, cli):
    from ibm_lms.lti.models import Platform
    from tests.conftest import csrf_token

    page = _as_administrator(launcher, client)
    platform_id = int(page.split('id="platform-')[1].split('"')[0])
    form = client.get(f"/lti/platforms/{platform_id}/edit").get_data(as_text=True)
    token = csrf_token(form)
    assert 'name="keyset_url"' in form and platform.base_url in form
    values = {field: form.split(f'id="{field}" name="{field}" value="')[1].split('"')[0]
              for field in ("auth_login_url", "auth_token_url", "keyset_url")}
    edited = {"csrf_token": token, "action": "review", "name": "Moodle of the Academy", **values,
              "auth_audience": "", "deployment_ids": "demo-deployment\n2"}
    deployments_before = db.session.execute(select(Platform).where(Platform.id == platform_id)).scalar_one()
    before_ids = sorted(d.deployment_id for d in deployments_before.deployments)
    edited["deployment_ids"] = "\n".join([*before_ids, "second-deployment"])
    review = client.post(f"/lti/platforms/{platform_id}/edit", data=edited)
    text = review.get_data(as_text=True)
    assert review.status_code == 200 and 'id="changes"' in text
    assert "Moodle of the Academy" in text and "second-deployment" in text
    assert 'id="deployments-removed"' not in text  # only added: no launch will be refused
    db.session.expire_all()
    assert db.session.get(Platform, platform_id).name != "Moodle of the Academy"  # nothing saved by a review
    reviewed = text.split('name="reviewed" value="')[1].split('"')[0]

    # A change made meanwhile (here by the operator's CLI) is not overwritten unseen.
    tenant = json.loads(cli.invoke(args=["platform", "list", "--json"]).output.splitlines()[0])["tenant"]
    listed = cli.invoke(args=["platform", "add", "--issuer", platform.base_url, "--client-id", platform.sim.client_id,
                              "--auth-login-url", values["auth_login_url"], "--auth-token-url",
                              values["auth_token_url"], "--keyset-url", values["keyset_url"], "--deployment-id",
                              "added-by-the-operator", "--tenant", tenant, "--replace"])
    assert listed.exit_code == 0, listed.output
    stale = client.post(f"/lti/platforms/{platform_id}/edit", data={**edited, "action": "confirm",
                                                                    "reviewed": reviewed})
    assert stale.status_code == 409 and error_code(stale) == "registration_changed"

    again = client.post(f"/lti/platforms/{platform_id}/edit", data=edited).get_data(as_text=True)
    saved = client.post(f"/lti/platforms/{platform_id}/edit", data={
        **edited, "action": "confirm", "reviewed": again.split('name="reviewed" value="')[1].split('"')[0]})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("done=saved")
    db.session.expire_all()
    stored = db.session.get(Platform, platform_id)
    assert stored.name == "Moodle of the Academy"
    assert sorted(d.deployment_id for d in stored.deployments) == sorted([*before_ids, "second-deployment"])
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "platform.edited")).scalar_one()
    assert entry.actor.endswith(":" + launcher.platform.user.subject)
    assert set(entry.details) == {"name", "deployment_ids"}
    assert launcher.launch().status_code == 303  # the connection still launches
    form = client.get(f"/lti/platforms/{platform_id}/edit").get_data(as_text=True)
    removing = client.post(f"/lti/platforms/{platform_id}/edit", data={
        **edited, "csrf_token": csrf_token(form), "deployment_ids": "\n".join(before_ids)}).get_data(as_text=True)
    assert 'id="deployments-removed"' in removing


def test_an_edit_with_a_bad_value_comes_back_with_the_reason_and_saves_nothing(platform, launcher, client):
    from tests.conftest import csrf_token

    page = _as_administrator(launcher, client)
    platform_id = int(page.split('id="platform-')[1].split('"')[0])
    form = client.get(f"/lti/platforms/{platform_id}/edit").get_data(as_text=True)
    refused = client.post(f"/lti/platforms/{platform_id}/edit", data={
        "csrf_token": csrf_token(form), "action": "review", "name": "x", "auth_login_url": "javascript:alert(1)",
        "auth_token_url": "http://a/t", "keyset_url": "http://a/k", "deployment_ids": "1"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="problem"' in text and "auth login URL" in text
    assert 'value="javascript:alert(1)"' in text  # what was typed stays in the form, escaped by the template
    empty = client.post(f"/lti/platforms/{platform_id}/edit", data={
        "csrf_token": csrf_token(form), "action": "confirm", "reviewed": "x", "auth_login_url": "http://a/l",
        "auth_token_url": "http://a/t", "keyset_url": "http://a/k", "deployment_ids": " \n "})
    assert empty.status_code == 400 and error_code(empty) == "invalid_platform"


def test_another_academys_registration_and_invitation_are_unknown_to_an_administrator(platform, launcher, client,
                                                                                      cli):
    from ibm_lms.lti.models import Platform
    from tests.conftest import csrf_token

    token = csrf_token(_as_administrator(launcher, client))
    foreign = _another_academys_registration(cli)
    invited = cli.invoke(args=["platform", "invite", "--tenant", "ua-academy"])
    foreign_invitation = int(invited.output.split("invitation ")[1].split(")")[0])
    # Not found, as another academy's quiz or credential is: not "not registered", not the id as an issuer.
    shown = client.get(f"/lti/platforms/{foreign}/edit")
    assert shown.status_code == 404 and error_code(shown) == "platform_not_found"
    assert f"no Moodle connection number {foreign}" in shown.get_data(as_text=True)
    for action in ("edit", "remove", "switch"):
        answer = client.post(f"/lti/platforms/{foreign}/{action}", data={
            "csrf_token": token, "action": "disable", "confirm": "yes", "auth_login_url": "http://x/a",
            "auth_token_url": "http://x/t", "keyset_url": "http://x/k", "deployment_ids": "1"})
        assert answer.status_code == 404 and error_code(answer) == "platform_not_found", action
    assert client.post(f"/lti/platforms/invitations/{foreign_invitation}/revoke",
                       data={"csrf_token": token}).status_code == 404
    page = client.get("/lti/platforms").get_data(as_text=True)
    assert "moodle.ua.test" not in page and f'id="invitation-{foreign_invitation}"' not in page
    db.session.expire_all()
    assert db.session.get(Platform, foreign).disabled_at is None
    listed = cli.invoke(args=["platform", "invitation", "list", "--tenant", "ua-academy", "--json"]).output
    assert json.loads(listed.splitlines()[0])["state"] == "open"


def test_an_administrator_invites_a_moodle_and_revokes_an_invitation(platform, launcher, client, cli,
                                                                     platform_server):
    from tests.conftest import csrf_token

    token = csrf_token(_as_administrator(launcher, client))
    created = client.post("/lti/platforms/invitations", data={"csrf_token": token, "hours": "24"})
    text = created.get_data(as_text=True)
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    url = text.split('id="invitation-url" value="')[1].split('"')[0].replace("&amp;", "&")
    assert url.startswith("http://localhost/lti/register?invite=")
    page = client.get("/lti/platforms").get_data(as_text=True)
    invitation_id = int(page.split('id="invitation-')[1].split('"')[0])
    assert url.split("invite=")[1] not in page  # the address itself is never shown again
    revoked = client.post(f"/lti/platforms/invitations/{invitation_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303 and revoked.headers["Location"].endswith("done=revoked")
    again = client.post(f"/lti/platforms/invitations/{invitation_id}/revoke", data={"csrf_token": token})
    assert again.headers["Location"].endswith("done=not_open")
    # A revoked invitation registers nothing, before any request goes to the platform.
    used = client.get("/lti/register", query_string={
        "invite": url.split("invite=")[1],
        "openid_configuration": platform_server.base_url + "/.well-known/openid-configuration",
        "registration_token": "t"})
    assert used.status_code == 403 and error_code(used) == "registration_not_invited"
    listed = cli.invoke(args=["platform", "invitation", "list", "--tenant", _tenant(cli)]).output
    assert listed.splitlines()[0].startswith("id\tstate") and f"{invitation_id}\trevoked" in listed
    actions = db.session.execute(select(AuditEntry.action).order_by(AuditEntry.position)).scalars().all()
    assert actions[-2:] == ["invitation.created", "invitation.revoked"]


def test_the_cli_revokes_an_invitation_of_the_named_academy_only(cli):
    assert cli.invoke(args=["tenant", "add", "md-academy"]).exit_code == 0
    assert cli.invoke(args=["tenant", "add", "ge-academy"]).exit_code == 0
    invited = cli.invoke(args=["platform", "invite", "--tenant", "md-academy"]).output
    number = invited.split("invitation ")[1].split(")")[0]
    wrong = cli.invoke(args=["platform", "invitation", "revoke", number, "--tenant", "ge-academy"])
    assert wrong.exit_code != 0 and "no registration invitation number" in wrong.output
    assert "revoked" in cli.invoke(args=["platform", "invitation", "revoke", number, "--tenant", "md-academy"]).output


def test_the_connections_page_shows_how_scores_fare_on_their_way_to_the_gradebook(platform, launcher, client):
    from datetime import timedelta

    from ibm_lms.clock import utcnow
    from ibm_lms.lti.models import GradeOutbox, Platform, ResourceLink
    from ibm_lms.tenancy.models import User

    page = _as_administrator(launcher, client)
    platform_id = int(page.split('id="platform-')[1].split('"')[0])
    assert "No scores sent yet." in page
    link = db.session.execute(select(ResourceLink).where(ResourceLink.platform_id == platform_id)).scalars().first()
    tenant_id = db.session.get(Platform, platform_id).tenant_id
    user_id = db.session.execute(select(User.id)).scalars().first()
    now = utcnow()

    def score(number: int, status: str, **extra):
        db.session.add(GradeOutbox(tenant_id=tenant_id, platform_id=platform_id, resource_link_id=link.id,
                                   user_id=user_id, subject="s", event_id=f"e{number}", resource_id="r", label="l",
                                   score_given=1, score_maximum=1, activity_progress="Completed",
                                   grading_progress="FullyGraded", scored_at=now, status=status,
                                   next_attempt_at=now, created_at=now, **extra))

    score(1, "delivered", delivered_at=now - timedelta(hours=1))
    score(2, "pending", attempts=2, last_status=503)
    score(3, "parked", attempts=1, last_status=400)
    score(4, "pending")
    db.session.commit()
    row = client.get("/lti/platforms").get_data(as_text=True).split(f'id="platform-{platform_id}"')[1].split("</tr>")[0]
    assert "2 scores waiting" in row and "1 refused" in row
    assert f"Last delivered: {(now - timedelta(hours=1)):%Y-%m-%d %H:%M} UTC" in row
    assert "HTTP 400" in row  # the newest score still on its way was refused with 400


def test_only_a_tool_operator_named_from_the_cli_replaces_the_signing_key_in_the_browser(platform, launcher, client,
                                                                                        cli):
    from ibm_lms.demo.platform import DEMO_USERS
    from ibm_lms.lti import keys
    from tests.conftest import csrf_token

    page = _as_administrator(launcher, client)
    assert 'id="rotate-keys"' not in page
    before = keys.current_key().kid
    token = csrf_token(page)
    refused = client.post("/lti/keys/rotate", data={"csrf_token": token, "confirm": "yes"})
    assert refused.status_code == 403 and error_code(refused) == "not_tool_operator"

    who = f"{platform.base_url}:{DEMO_USERS['administrator'].subject}"
    assert "Nobody with the platform id" in cli.invoke(args=["operator", "add", f"{platform.base_url}:nobody"]).output
    assert cli.invoke(args=["operator", "add", who]).output.strip() == f"{who} is a tool operator"
    assert "already" in cli.invoke(args=["operator", "add", who]).output
    listed = json.loads(cli.invoke(args=["operator", "list", "--json"]).output)
    assert listed["who"] == who and listed["name"] == "Levan Abashidze"

    page = client.get("/lti/platforms").get_data(as_text=True)
    assert 'id="rotate-keys"' in page
    unconfirmed = client.post("/lti/keys/rotate", data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and keys.current_key().kid == before
    rotated = client.post("/lti/keys/rotate", data={"csrf_token": token, "confirm": "yes"})
    assert rotated.status_code == 303 and rotated.headers["Location"].endswith("done=rotated")
    db.session.expire_all()
    after = keys.current_key().kid
    published = [key["kid"] for key in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert after != before and published == [after, before]
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "tool_key.rotated")).scalar_one()
    assert entry.actor == who and entry.details == {"retired": [before]}
    assert launcher.launch().status_code == 303  # launches go on, signed or not by the new key

    assert "no longer" in cli.invoke(args=["operator", "remove", who]).output
    token = csrf_token(client.get("/lti/platforms").get_data(as_text=True))  # the launch began a new session
    assert client.post("/lti/keys/rotate", data={"csrf_token": token, "confirm": "yes"}).status_code == 403
    actions = db.session.execute(select(AuditEntry.action).order_by(AuditEntry.position)).scalars().all()
    assert actions == ["platform.added", "tool_operator.added", "tool_key.rotated", "tool_operator.removed"]


@pytest.mark.parametrize("locale", ["ru", "ka"])
def test_an_edits_refusal_names_the_field_in_the_administrators_language(platform, launcher, client, locale):
    from html import unescape

    from tests.conftest import csrf_token, translated

    page = _as_administrator(launcher, client, locale)
    platform_id = int(page.split('id="platform-')[1].split('"')[0])
    form = client.get(f"/lti/platforms/{platform_id}/edit").get_data(as_text=True)
    refused = client.post(f"/lti/platforms/{platform_id}/edit", data={
        "csrf_token": csrf_token(form), "action": "review", "name": "x", "auth_login_url": "http://a/l",
        "auth_token_url": "http://a/t", "keyset_url": "ftp://a/k", "deployment_ids": "1"})
    text = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400 and translated(locale, "keyset URL") in text and "keyset URL" not in text
