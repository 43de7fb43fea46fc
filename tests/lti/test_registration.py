"""Manual registration (CLI, /lti/config) and LTI Dynamic Registration against the test platform."""

from __future__ import annotations

from sqlalchemy import select

from ibm_lms.extensions import db
from ibm_lms.lti.models import Deployment, Platform
from tests.conftest import error_code


def test_config_lists_what_a_moodle_admin_needs(client):
    body = client.get("/lti/config").get_json()
    assert body["initiate_login_url"] == "http://localhost/lti/login"
    assert body["redirection_uris"] == ["http://localhost/lti/launch"]
    assert body["public_keyset_url"] == "http://localhost/.well-known/jwks.json"
    assert body["tool_url"] == "http://localhost/courses/"
    assert body["dynamic_registration_url"] == "http://localhost/lti/register"


def test_platform_add_and_list(cli):
    args = ["platform", "add", "--issuer", "http://moodle.example", "--client-id", "abc",
            "--auth-login-url", "http://moodle.example/mod/lti/auth.php",
            "--auth-token-url", "http://moodle.example/mod/lti/token.php",
            "--keyset-url", "http://moodle.example/mod/lti/certs.php",
            "--deployment-id", "1", "--deployment-id", "2", "--tenant", "ua-academy"]
    result = cli.invoke(args=args)
    assert result.exit_code == 0, result.output
    again = cli.invoke(args=args[:-4] + ["--deployment-id", "3", "--tenant", "ua-academy"])
    assert again.exit_code == 0, again.output
    listing = cli.invoke(args=["platform", "list"])
    assert "ua-academy\thttp://moodle.example\tabc\t1,2,3" in listing.output


def test_platform_add_refuses_bad_urls_and_tenants(cli):
    base = ["platform", "add", "--issuer", "moodle.example", "--client-id", "abc",
            "--auth-login-url", "http://m/a", "--auth-token-url", "http://m/t", "--keyset-url", "http://m/k",
            "--deployment-id", "1", "--tenant", "ua"]
    result = cli.invoke(args=base)
    assert result.exit_code != 0 and "issuer must be an absolute" in result.output
    bad_tenant = cli.invoke(args=base[:2] + ["--issuer", "http://m"] + base[4:-1] + ["Bad Tenant!"])
    assert bad_tenant.exit_code != 0 and "lower-case letters" in bad_tenant.output
    assert db.session.execute(select(Platform)).first() is None


def test_platform_cannot_move_to_another_tenant(cli):
    base = ["platform", "add", "--issuer", "http://m", "--client-id", "abc", "--auth-login-url", "http://m/a",
            "--auth-token-url", "http://m/t", "--keyset-url", "http://m/k", "--deployment-id", "1", "--tenant"]
    assert cli.invoke(args=base + ["ge"]).exit_code == 0
    moved = cli.invoke(args=base + ["am"])
    assert moved.exit_code != 0 and "another tenant" in moved.output


def test_one_issuer_cannot_serve_two_tenants(cli):
    base = ["platform", "add", "--issuer", "http://m", "--auth-login-url", "http://m/a",
            "--auth-token-url", "http://m/t", "--keyset-url", "http://m/k", "--deployment-id", "1"]
    assert cli.invoke(args=base + ["--client-id", "one", "--tenant", "ge"]).exit_code == 0
    second = cli.invoke(args=base + ["--client-id", "two", "--tenant", "ua"])
    assert second.exit_code != 0 and "issuer already belongs to another tenant" in second.output
    assert cli.invoke(args=base + ["--client-id", "two", "--tenant", "ge"]).exit_code == 0


def test_dynamic_registration_registers_and_closes(client, platform_server):
    response = client.get("/lti/register", query_string={
        "openid_configuration": platform_server.base_url + "/.well-known/openid-configuration",
        "registration_token": "registration-token-1", "tenant": "md-academy"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "registered.js" in page
    sent = platform_server.registrations[-1]
    assert sent["initiate_login_uri"] == "http://localhost/lti/login"
    assert sent["redirect_uris"] == ["http://localhost/lti/launch"]
    assert sent["jwks_uri"] == "http://localhost/.well-known/jwks.json"
    tool = sent["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert tool["messages"][0]["type"] == "LtiDeepLinkingRequest"
    # Only scopes the platform supports are asked for.
    assert "contextmembership" not in sent["scope"] and "lti-ags/scope/score" in sent["scope"]
    platform = db.session.execute(select(Platform)).scalar_one()
    assert platform.issuer == platform_server.base_url and platform.client_id.startswith("registered-client-")
    assert platform.keyset_url == platform_server.keyset_url
    deployment = db.session.execute(select(Deployment)).scalar_one()
    assert deployment.deployment_id.startswith("deployment-")


def test_dynamic_registration_with_a_wrong_token_fails_clearly(client, platform_server):
    response = client.get("/lti/register", query_string={
        "openid_configuration": platform_server.base_url + "/.well-known/openid-configuration",
        "registration_token": "wrong"})
    assert response.status_code == 400
    assert error_code(response) == "registration_failed"
    assert "HTTP 401" in response.get_data(as_text=True)
    assert db.session.execute(select(Platform)).first() is None


def test_dynamic_registration_refuses_bad_configuration_urls(client):
    for url in ("", "ftp://x/config", "not a url", "http://127.0.0.1:9/.well-known/openid-configuration"):
        response = client.get("/lti/register", query_string={"openid_configuration": url})
        assert response.status_code == 400, url
        assert error_code(response) == "registration_failed"
