"""Manual registration (CLI, /lti/config) and LTI Dynamic Registration against the test platform."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from ibm_lms.extensions import db
from ibm_lms.lti.models import Deployment, Platform
from tests.conftest import error_code, translated


def test_config_lists_what_a_moodle_admin_needs(client):
    body = client.get("/lti/config").get_json()
    assert body["initiate_login_url"] == "http://localhost/lti/login"
    assert body["redirection_uris"] == ["http://localhost/lti/launch"]
    assert body["public_keyset_url"] == "http://localhost/.well-known/jwks.json"
    assert body["tool_url"] == "http://localhost/courses/"
    assert body["dynamic_registration_url"] == "http://localhost/lti/register"


@pytest.fixture(autouse=True)
def academies(app):
    """The academies these tests register platforms for, made as 'tenant add' makes them."""
    from ibm_lms.tenancy import service as tenancy

    for slug in ("ge", "ua", "am", "ua-academy", "md-academy"):
        tenancy.add_tenant(slug, None, actor="test")


def test_platform_add_and_list(cli):
    args = ["platform", "add", "--issuer", "http://moodle.example", "--client-id", "abc",
            "--auth-login-url", "http://moodle.example/mod/lti/auth.php",
            "--auth-token-url", "http://moodle.example/mod/lti/token.php",
            "--keyset-url", "http://moodle.example/mod/lti/certs.php",
            "--deployment-id", "1", "--deployment-id", "2", "--tenant", "ua-academy"]
    result = cli.invoke(args=args)
    assert result.exit_code == 0, result.output
    # The same registration again changes nothing; a changed one shows what would change and needs --replace.
    assert "nothing changed" in cli.invoke(args=args).output
    again = cli.invoke(args=args[:-4] + ["--deployment-id", "3", "--tenant", "ua-academy", "--name", "Moodle UA"])
    assert again.exit_code == 1 and "name: None -> 'Moodle UA'" in again.output and "deployments added: 3" in \
        again.output and "--replace" in again.output
    assert "1,2\t" in cli.invoke(args=["platform", "list"]).output
    replaced = cli.invoke(args=args[:-4] + ["--deployment-id", "3", "--tenant", "ua-academy", "--name", "Moodle UA",
                                            "--replace"])
    assert replaced.exit_code == 0, replaced.output
    listing = cli.invoke(args=["platform", "list"])
    assert listing.output.startswith("tenant\tissuer\tclient id\tdeployments")
    assert "ua-academy\thttp://moodle.example\tabc\t1,2,3" in listing.output
    [line] = cli.invoke(args=["platform", "list", "--json"]).output.splitlines()
    assert json.loads(line)["deployment_ids"] == ["1", "2", "3"] and json.loads(line)["name"] == "Moodle UA"
    from ibm_lms.audit import service as audit

    # Added, then changed once: the run that changed nothing and the refused one left no entry.
    assert [(e.action, e.subject, e.details) for e in audit.entries(limit=2)] == [
        ("platform.changed", "platform http://moodle.example abc", {"changed": ["deployment_ids", "name"]}),
        ("platform.added", "platform http://moodle.example abc",
         {"changed": ["auth_audience", "auth_login_url", "auth_token_url", "deployment_ids", "keyset_url", "name"]})]


def test_a_mistyped_tenant_is_an_error_not_a_new_academy(cli):
    from ibm_lms.tenancy.models import Tenant

    before = db.session.execute(select(Tenant.slug)).scalars().all()
    for command in (["platform", "invite", "--tenant", "ua-acadmey"],
                    ["platform", "add", "--issuer", "https://m.example", "--client-id", "c", "--auth-login-url",
                     "https://m.example/a", "--auth-token-url", "https://m.example/t", "--keyset-url",
                     "https://m.example/k", "--deployment-id", "1", "--tenant", "ua-acadmey"]):
        result = cli.invoke(args=command)
        assert result.exit_code == 1 and "There is no tenant named ua-acadmey" in result.output
        assert "ibm-lms tenant add ua-acadmey" in result.output
    assert db.session.execute(select(Tenant.slug)).scalars().all() == before


def test_tenants_are_added_listed_renamed_and_audited(cli):
    from ibm_lms.audit import service as audit

    assert cli.invoke(args=["tenant", "add", "az-academy", "--name", "  Academy   of Azerbaijan "]).exit_code == 0
    taken = cli.invoke(args=["tenant", "add", "az-academy"])
    assert taken.exit_code == 1 and "already a tenant named az-academy" in taken.output
    for bad in ("az\n", "AZ", "a"):
        refused = cli.invoke(args=["tenant", "add", bad])
        assert refused.exit_code == 1 and "lower-case letters" in refused.output
    assert cli.invoke(args=["tenant", "add", "kz", "--name", "x" * 300]).exit_code == 1
    assert cli.invoke(args=["tenant", "rename", "az-academy", "--name", "State Border Service Academy"]).exit_code == 0
    assert cli.invoke(args=["tenant", "rename", "nope", "--name", "N"]).exit_code == 1
    # A name that would read backwards on a certificate ("\u202eevil" shows as "live") is refused.
    spoofed = cli.invoke(args=["tenant", "rename", "az-academy", "--name", "\u202eymedacA"])
    assert spoofed.exit_code == 1 and "one line of at most 255 characters" in spoofed.output
    listing = cli.invoke(args=["tenant", "list"]).output
    assert listing.startswith("slug\tname\tusers") and "az-academy\tState Border Service Academy\t0\t" in listing
    rows = [json.loads(line) for line in cli.invoke(args=["tenant", "list", "--json"]).output.splitlines()]
    listed = next(row for row in rows if row["slug"] == "az-academy")
    assert (listed["name"], listed["users"], listed["created_at"][-1]) == ("State Border Service Academy", 0, "Z")
    actions = [(e.action, e.details) for e in audit.entries(limit=2)]
    assert actions == [("tenant.renamed", {"from": "Academy of Azerbaijan", "to": "State Border Service Academy"}),
                       ("tenant.added", {"name": "Academy of Azerbaijan"})]


def test_platform_add_refuses_bad_urls_and_tenants(cli):
    base = ["platform", "add", "--issuer", "moodle.example", "--client-id", "abc",
            "--auth-login-url", "http://m/a", "--auth-token-url", "http://m/t", "--keyset-url", "http://m/k",
            "--deployment-id", "1", "--tenant", "ua"]
    result = cli.invoke(args=base)
    assert result.exit_code != 0 and "issuer must be an absolute" in result.output
    bad_tenant = cli.invoke(args=base[:2] + ["--issuer", "http://m"] + base[4:-1] + ["Bad Tenant!"])
    assert bad_tenant.exit_code != 0 and "There is no tenant named Bad Tenant!" in bad_tenant.output
    assert db.session.execute(select(Platform)).first() is None


@pytest.mark.parametrize("login_url", ["https://*", "https://*.example.ge/auth", "https://moodle.example.ge;x/auth"])
def test_platform_add_refuses_urls_that_are_not_a_host(cli, client, login_url):
    result = cli.invoke(args=["platform", "add", "--issuer", "https://moodle.example.ge", "--client-id", "abc",
                              "--auth-login-url", login_url, "--auth-token-url", "https://moodle.example.ge/t",
                              "--keyset-url", "https://moodle.example.ge/k", "--deployment-id", "1", "--tenant", "ge"])
    assert result.exit_code != 0 and "auth login URL must be an absolute" in result.output
    assert "*" not in client.get("/lti/config").headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("flag", "value", "field"),
    [
        ("--name", "\udcff", "name"),  # a byte that was not UTF-8 on the command line
        ("--client-id", "abc\x00", "client id"),
        ("--client-id", "c" * 256, "client id"),
        ("--deployment-id", "", "deployment id"),
        ("--name", "n" * 300, "name"),
        ("--issuer", "https://moodle.example.ge/" + "a" * 300, "issuer"),
        ("--keyset-url", "https://moodle.example.ge/" + "k" * 3000, "keyset URL"),
        ("--auth-audience", "line\nbreak", "auth audience"),
    ],
)
def test_platform_add_names_the_value_it_refuses(cli, flag, value, field):
    values = {"--issuer": "https://moodle.example.ge", "--client-id": "abc", "--deployment-id": "1",
              "--auth-login-url": "https://moodle.example.ge/auth", "--auth-token-url": "https://moodle.example.ge/t",
              "--keyset-url": "https://moodle.example.ge/k", "--tenant": "ge", flag: value}
    result = cli.invoke(args=["platform", "add", *[part for pair in values.items() for part in pair]])
    assert result.exit_code == 1 and f"{field} must be 1 to" in result.output, result.output
    assert db.session.execute(select(Platform)).first() is None


@pytest.mark.parametrize("tenant", ["ge\n", "GE", "g"])
def test_tenant_slugs_are_matched_whole(cli, tenant):
    result = cli.invoke(args=["platform", "invite", "--tenant", tenant])
    assert result.exit_code == 1 and "There is no tenant named" in result.output


def test_platform_cannot_move_to_another_tenant(cli):
    base = ["platform", "add", "--issuer", "http://m", "--client-id", "abc", "--auth-login-url", "http://m/a",
            "--auth-token-url", "http://m/t", "--keyset-url", "http://m/k", "--deployment-id", "1", "--tenant"]
    assert cli.invoke(args=base + ["ge"]).exit_code == 0
    moved = cli.invoke(args=base + ["am"])
    assert moved.exit_code != 0 and "tenant: 'ge' -> 'am'" in moved.output
    moved = cli.invoke(args=[*base, "am", "--replace"])
    assert moved.exit_code != 0 and "another tenant" in moved.output


def test_one_issuer_cannot_serve_two_tenants(cli):
    base = ["platform", "add", "--issuer", "http://m", "--auth-login-url", "http://m/a",
            "--auth-token-url", "http://m/t", "--keyset-url", "http://m/k", "--deployment-id", "1"]
    assert cli.invoke(args=base + ["--client-id", "one", "--tenant", "ge"]).exit_code == 0
    second = cli.invoke(args=base + ["--client-id", "two", "--tenant", "ua"])
    assert second.exit_code != 0 and "issuer already belongs to another tenant" in second.output
    assert cli.invoke(args=base + ["--client-id", "two", "--tenant", "ge"]).exit_code == 0


def _invite(cli, tenant: str = "md-academy") -> str:
    result = cli.invoke(args=["platform", "invite", "--tenant", tenant, "--hours", "2"])
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[-1]
    assert url.startswith("http://localhost/lti/register?invite=")
    return url.split("invite=", 1)[1]


def _register(client, platform_server, invite: str, token: str = "registration-token-1", **extra):
    return client.get("/lti/register", query_string={
        "invite": invite, "openid_configuration": platform_server.base_url + "/.well-known/openid-configuration",
        "registration_token": token, **extra})


def test_dynamic_registration_registers_into_the_invited_tenant_and_closes(client, cli, platform_server):
    invite = _invite(cli)
    response = _register(client, platform_server, invite, tenant="someone-elses-tenant")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "registered.js" in page
    [sent] = platform_server.registrations
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
    from ibm_lms.tenancy.models import Tenant

    assert db.session.get(Tenant, platform.tenant_id).slug == "md-academy"
    deployment = db.session.execute(select(Deployment)).scalar_one()
    assert deployment.deployment_id.startswith("deployment-")
    from ibm_lms.audit import service as audit

    [entry] = audit.entries(limit=1)
    assert (entry.action, entry.tenant_id, entry.subject) == (
        "platform.added", platform.tenant_id, f"platform {platform.issuer} {platform.client_id}")
    assert entry.actor.startswith("dynamic registration (invitation ")
    # An invitation works once.
    again = _register(client, platform_server, invite)
    assert again.status_code == 403 and error_code(again) == "registration_not_invited"


@pytest.mark.parametrize("invite", [None, "", "made-up"])
def test_registration_without_an_invitation_is_refused(client, platform_server, invite):
    response = _register(client, platform_server, invite)
    assert response.status_code == 403
    assert error_code(response) == "registration_not_invited"
    assert platform_server.registrations == []
    assert db.session.execute(select(Platform)).first() is None


def test_an_expired_invitation_is_refused(client, cli, platform_server):
    from datetime import datetime

    from sqlalchemy import update

    from ibm_lms.lti.models import RegistrationInvite

    invite = _invite(cli)
    db.session.execute(update(RegistrationInvite).values(expires_at=datetime(2000, 1, 1)))
    db.session.commit()
    assert _register(client, platform_server, invite).status_code == 403


def test_a_refused_registration_keeps_the_invitation(client, cli, platform_server):
    invite = _invite(cli)
    response = _register(client, platform_server, invite, token="wrong")
    assert response.status_code == 400
    assert error_code(response) == "registration_failed"
    assert "HTTP 401" in response.get_data(as_text=True)
    assert db.session.execute(select(Platform)).first() is None
    assert _register(client, platform_server, invite).status_code == 200


@pytest.mark.parametrize(
    "url", ["", "ftp://x/config", "not a url", "https://[oops/x", "http://127.0.0.1:9/.well-known/openid-configuration"]
)
def test_bad_configuration_urls_are_refused(client, cli, url):
    response = client.get("/lti/register", query_string={"invite": _invite(cli), "openid_configuration": url})
    assert response.status_code == 400, url
    assert error_code(response) == "registration_failed"


@pytest.fixture
def hostile_platform():
    """A platform that redirects, floods or answers with the wrong shapes."""
    import json
    import threading

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    answers = {}

    def app(environ, start_response):
        request = Request(environ)
        return answers.get(request.path, Response("no", status=404))(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    def configure(config=None, **paths):
        if config is not None:
            answers["/config"] = Response(json.dumps(config), mimetype="application/json")
        answers.update(paths)
        return base + "/config"

    configure.base = base
    yield configure
    server.shutdown()


def _config(base: str, **changes) -> dict:
    config = {"issuer": base, "authorization_endpoint": base + "/auth", "token_endpoint": base + "/token",
              "jwks_uri": base + "/jwks", "registration_endpoint": base + "/register"}
    config.update(changes)
    return config


def test_redirects_are_not_followed(client, cli, hostile_platform):
    from werkzeug.utils import redirect

    url = hostile_platform(**{"/config": redirect("http://127.0.0.1:1/internal")})
    response = client.get("/lti/register", query_string={"invite": _invite(cli), "openid_configuration": url})
    assert response.status_code == 400 and "redirect" in response.get_data(as_text=True)


def test_refusal_reasons_speak_the_administrators_language(client, cli, hostile_platform):
    step = translated("ka", "platform configuration")
    problem = translated("ka", "the platform answered with a redirect, which is not followed")
    assert "redirect" not in problem
    from werkzeug.utils import redirect

    url = hostile_platform(**{"/config": redirect("http://127.0.0.1:1/internal")})
    response = client.get("/lti/register", query_string={"invite": _invite(cli), "openid_configuration": url},
                          headers={"Accept-Language": "ka"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and f"{step}: {problem}" in page


def test_huge_answers_are_cut_off(client, cli, hostile_platform):
    from werkzeug.wrappers import Response

    url = hostile_platform(**{"/config": Response("[" + "1," * 400_000 + "1]", mimetype="application/json")})
    response = client.get("/lti/register", query_string={"invite": _invite(cli), "openid_configuration": url})
    assert response.status_code == 400 and "too large" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "changes",
    [
        {"issuer": ["x"]},
        {"jwks_uri": 5},
        {"scopes_supported": 7, "registration_endpoint": "https://[bad"},
        {"https://purl.imsglobal.org/spec/lti-platform-configuration": "moodle"},
        {"issuer": "http://127.0.0.1:1"},
        # A wildcard or a quoted source would land in every page's frame-ancestors policy.
        {"authorization_endpoint": "http://*"},
        {"authorization_endpoint": "http://* 'unsafe-inline'"},
    ],
)
def test_odd_platform_configurations_are_refused_cleanly(client, cli, hostile_platform, changes):
    url = hostile_platform(_config(hostile_platform.base, **changes))
    response = client.get("/lti/register", query_string={"invite": _invite(cli), "openid_configuration": url})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert error_code(response) == "registration_failed"
    assert db.session.execute(select(Platform)).first() is None


def test_odd_registration_answers_are_refused_cleanly(client, cli, hostile_platform):
    import json

    from werkzeug.wrappers import Response

    url = hostile_platform(_config(hostile_platform.base), **{
        "/register": Response(json.dumps({"client_id": {"x": 1}}), mimetype="application/json")})
    response = client.get("/lti/register", query_string={"invite": _invite(cli), "openid_configuration": url})
    assert response.status_code == 400 and "no client_id" in response.get_data(as_text=True)


def test_without_a_host_list_only_public_addresses_are_asked(client, cli, hostile_platform, monkeypatch, app):
    monkeypatch.setitem(app.config, "REGISTRATION_ALLOWED_HOSTS", ())
    import json

    from werkzeug.wrappers import Response

    invite = _invite(cli)
    url = hostile_platform(_config(hostile_platform.base), **{
        "/register": Response(json.dumps({"client_id": "intranet-client"}), mimetype="application/json")})
    response = client.get("/lti/register", query_string={"invite": invite, "openid_configuration": url})
    assert response.status_code == 400 and "address is not public" in response.get_data(as_text=True)
    assert db.session.execute(select(Platform)).first() is None
    # An academy whose Moodle is on its intranet lists it; the same invitation then works.
    monkeypatch.setitem(app.config, "REGISTRATION_ALLOWED_HOSTS", ("127.0.0.1",))
    again = client.get("/lti/register", query_string={"invite": invite, "openid_configuration": url})
    assert again.status_code == 200, again.get_data(as_text=True)[:300]
    assert db.session.execute(select(Platform.client_id)).scalar_one() == "intranet-client"


def test_hosts_outside_the_list_may_not_register(client, cli, hostile_platform, monkeypatch, app):
    monkeypatch.setitem(app.config, "REGISTRATION_ALLOWED_HOSTS", ("moodle.example.ge",))
    url = hostile_platform(_config(hostile_platform.base))
    response = client.get("/lti/register", query_string={"invite": _invite(cli), "openid_configuration": url})
    assert response.status_code == 400 and "127.0.0.1 is not allowed to register" in response.get_data(as_text=True)


def test_the_registration_token_goes_to_the_platforms_own_site_only(client, cli, hostile_platform):
    url = hostile_platform(_config(hostile_platform.base, registration_endpoint="http://127.0.0.1:1/register"))
    response = client.get("/lti/register", query_string={"invite": _invite(cli), "openid_configuration": url,
                                                        "registration_token": "secret-token"})
    assert response.status_code == 400 and "not on the platform" in response.get_data(as_text=True)


def test_a_used_invitation_is_refused_before_the_platform_is_asked_anything(client, cli, platform_server):
    invite = _invite(cli)
    assert _register(client, platform_server, invite).status_code == 200
    platform_server.requests_seen.clear()
    again = _register(client, platform_server, invite)
    assert again.status_code == 403 and error_code(again) == "registration_not_invited"
    assert platform_server.requests_seen == []
    assert len(platform_server.registrations) == 1


def test_two_tenants_registering_one_issuer_at_once_cannot_both_win(app, another_worker):
    """The schema holds the rule even when two administrators race (on PostgreSQL, truly concurrent)."""
    import threading

    from ibm_lms.lti import service
    from ibm_lms.lti.errors import InvalidPlatformSettings
    from ibm_lms.lti.models import Issuer

    apps = [another_worker(), another_worker()]
    barrier, outcomes = threading.Barrier(2), {}

    def register(index: int, tenant: str) -> None:
        with apps[index].app_context():
            barrier.wait()
            try:
                service.add_platform(tenant_slug=tenant, issuer="https://moodle.example", client_id=f"client-{tenant}",
                                     auth_login_url="https://moodle.example/auth", auth_token_url="https://moodle.example/token",
                                     keyset_url="https://moodle.example/certs", deployment_ids=["1"])
                outcomes[tenant] = "registered"
            except InvalidPlatformSettings as error:
                outcomes[tenant] = str(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register, args=(i, t)) for i, t in enumerate(("ge-academy", "ua-academy"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == sorted(["registered", "The platform settings are invalid: this issuer "
                                                              "already belongs to another tenant"]), outcomes
    db.session.expire_all()
    assert len(db.session.execute(select(Issuer)).scalars().all()) == 1
    assert len({p.tenant_id for p in db.session.execute(select(Platform)).scalars()}) == 1


def _frame_ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(part for part in policy.split(";") if part.strip().startswith("frame-ancestors"))


def test_the_registering_platform_may_frame_the_success_page_which_says_what_to_do_next(client, cli,
                                                                                         platform_server):
    response = _register(client, platform_server, _invite(cli))
    assert response.status_code == 200
    assert platform_server.base_url in _frame_ancestors(response)
    page = response.get_data(as_text=True)
    assert "Show in activity chooser" in page and 'id="close-registration"' in page


def test_a_refused_registration_is_shown_in_moodles_frame_with_what_to_do(client, cli, platform_server):
    invite = _invite(cli)
    refused = _register(client, platform_server, invite, token="wrong")
    assert refused.status_code == 400 and platform_server.base_url in _frame_ancestors(refused)
    page = refused.get_data(as_text=True)
    assert "Registration failed" in page and "the invitation is still good" in page
    not_invited = _register(client, platform_server, "made-up")
    assert not_invited.status_code == 403 and platform_server.base_url in _frame_ancestors(not_invited)
    assert "Ask the tool's administrator for a new invitation" in not_invited.get_data(as_text=True)


def test_the_registration_page_closes_the_frame_only_when_asked_or_after_a_minute(client):
    script = client.get("/static/js/registered.js").get_data(as_text=True)
    assert "addEventListener(\"click\", close)" in script and "setTimeout(close, 60000)" in script
