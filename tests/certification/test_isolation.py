"""Two academies on two Moodle platforms: nothing one academy's people can open, post or export reveals or changes
the other's candidates, evidence or credentials."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from ibm_lms.certification import service
from ibm_lms.certification.models import Certification, EvidenceRow
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy
from tests.conftest import TOOL_BASE_URL, IsolatedClient, Launcher, csrf_token
from tests.platform import PlatformServer

from .helpers import become, learning_done, user_id, who

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def second_platform(app):
    """Moldova's Moodle, registered for its own academy."""
    from ibm_lms.lti import service as lti

    server = PlatformServer(tool_base_url=TOOL_BASE_URL).start()
    server.services.tool_jwks = lambda: app.test_client().get("/.well-known/jwks.json").get_json()
    lti.add_platform(tenant_slug="md-academy", issuer=server.base_url, client_id=server.sim.client_id,
                     auth_login_url=server.auth_login_url, auth_token_url=server.token_url,
                     keyset_url=server.keyset_url, deployment_ids=[server.sim.deployment_id])
    yield server
    server.stop()


@pytest.fixture
def two_academies(app, launcher, second_platform, courses, cli):
    """Georgia: a Master Trainer, a candidate with evidence (and its file), a proposal and an issued credential.
    Moldova: its own two administrators."""
    for name in ("candidate", "master", "deputy", "head"):
        become(launcher, name)
    georgia = tenancy.get_tenant("ge-academy").id
    assert cli.invoke(args=["cert", "grant", "--tenant", "ge-academy", "--programme",
                            "document-security-master-trainer", "--holder", who(launcher, "master"),
                            "--approved-by", who(launcher, "head"), "--approved-by", who(launcher, "deputy")]
                      ).exit_code == 0
    ids = {name: user_id(launcher, name) for name in ("candidate", "master", "head", "deputy")}
    service.nominate(georgia, "document-security-trainer", ids["candidate"], actor="test")
    learning_done(georgia, ids["candidate"])
    candidate = become(launcher, "candidate")
    token = csrf_token(candidate.get("/certification/mine").get_data(as_text=True))
    assert candidate.post("/certification/sessions", data={
        "csrf_token": token, "area": "document-security", "occurred_on": "2026-11-02", "hours": "4",
        "attachment": (io.BytesIO(PDF), "sheet.pdf")}, content_type="multipart/form-data").status_code == 303
    granted = json.loads(cli.invoke(args=["cert", "grant", "--tenant", "ge-academy", "--programme",
                                          "risk-analysis-trainer", "--holder", who(launcher, "candidate"),
                                          "--approved-by", who(launcher, "head"),
                                          "--approved-by", who(launcher, "deputy")]).output)
    evidence = db.session.execute(select(EvidenceRow.id)).scalar_one()

    other_client = app.test_client()
    other = Launcher(other_client, second_platform)
    for name in ("head", "deputy"):
        become(other, name)
    return {"georgia": georgia, "ids": ids, "credential": granted["id"], "evidence": evidence, "moldova": other,
            "moldova_id": tenancy.get_tenant("md-academy").id}


def _post(client, url: str, data: dict | None = None):
    token = csrf_token(client.get("/certification/mine").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def test_no_page_post_or_export_of_one_academy_reaches_the_others_records(two_academies, app):
    app.test_client_class = IsolatedClient
    found = two_academies
    moldova = become(found["moldova"], "head")
    georgian_names = ("Giorgi", "Kapanadze", "Tamar", "Lomidze")
    ids = found["ids"]
    # Pages and files: not found, as if they did not exist.
    for url in (f"/certification/candidates/{ids['candidate']}",
                f"/certification/evidence/{found['evidence']}/attachment",
                f"/certification/credentials/{found['credential']}/certificate.pdf",
                f"/certification/credentials/{found['credential']}/credential.jwt"):
        assert moldova.get(url).status_code == 404, url
    # Actions on the other academy's records change nothing.
    assert _post(moldova, f"/certification/credentials/{found['credential']}/revoke", {"reason": "x"}
                 ).status_code == 404
    assert _post(moldova, f"/certification/decisions/{found['credential']}/confirm").status_code == 404
    assert _post(moldova, f"/certification/evidence/{found['evidence']}/review", {"decision": "approve"}
                 ).status_code == 404
    assert _post(moldova, "/certification/nominate", {"user_id": ids["candidate"],
                                                      "programme": "document-security-trainer"}).status_code == 404
    assert _post(moldova, "/certification/propose", {"user_id": ids["candidate"],
                                                     "programme": "document-security-trainer"}).status_code == 404
    # Listings, searches and exports hold only the academy's own people.
    for url in ("/certification/", "/certification/candidates", "/certification/candidates?q=Kapa",
                "/certification/roster", "/certification/reviews", "/certification/candidates/export.csv"):
        body = moldova.get(url).get_data(as_text=True)
        assert not any(name in body for name in georgian_names), url
    db.session.expire_all()
    assert db.session.get(Certification, found["credential"]).state == "issued"
    assert db.session.execute(select(EvidenceRow.state)).scalar_one() == "pending"
    # Each academy publishes its own keys; the other's do not verify its credentials.
    georgia_keys = moldova.get("/issuers/ge-academy/jwks.json").get_json()["keys"]
    moldova_keys = moldova.get("/issuers/md-academy/jwks.json").get_json()["keys"]
    assert {k["kid"] for k in georgia_keys}.isdisjoint({k["kid"] for k in moldova_keys})


def test_the_command_line_and_the_regional_view_keep_academies_apart(two_academies, cli):
    listed = cli.invoke(args=["cert", "list", "--tenant", "md-academy", "--json"]).output
    assert listed.strip() == ""
    exported = cli.invoke(args=["cert", "candidates", "--tenant", "md-academy"]).output
    assert "Kapanadze" not in exported
    regional = [json.loads(line) for line in cli.invoke(args=["cert", "regional", "--json"]).output.splitlines()]
    assert regional and all(set(row) == {"academy", "area", "candidates", "certified", "expiring_90_days"}
                            for row in regional)
    # Two certified people in an area is a count small enough to name someone: it is shown as fewer than 5.
    assert {row["certified"] for row in regional if row["academy"] == "ge-academy"} == {"<5"}
    georgia = cli.invoke(args=["cert", "grant", "--tenant", "md-academy", "--programme", "risk-analysis-trainer",
                               "--holder", "x:y", "--approved-by", "a:b", "--approved-by", "c:d"])
    assert georgia.exit_code != 0 and "No one known to this academy" in georgia.output


def _token(cli, tenant: str, role: str = "administrator") -> str:
    made = cli.invoke(args=["api", "token", "create", "--tenant", tenant, "--name", "reports", "--role", role])
    assert made.exit_code == 0, made.output
    return next(word for word in made.output.split() if word.startswith("ibm_"))


def test_the_api_answers_each_academy_with_its_own_records_only(two_academies, client, cli):
    found = two_academies
    georgia = {"Authorization": f"Bearer {_token(cli, 'ge-academy')}"}
    moldova = {"Authorization": f"Bearer {_token(cli, 'md-academy')}"}
    page = client.get("/api/v1/certification/candidates", headers=georgia).get_json()
    assert page["total"] == 3 and {c["name"] for c in page["candidates"]} == {"Giorgi Kapanadze", "Tamar Lomidze"}
    listed = client.get("/api/v1/certification/credentials", headers=georgia).get_json()
    assert {c["id"] for c in listed} >= {found["credential"]} and "credential" not in listed[0]
    one = client.get(f"/api/v1/certification/credentials/{found['credential']}", headers=georgia).get_json()
    assert one["credential"].count(".") == 2 and one["holder_name"] == "Giorgi Kapanadze"

    assert client.get("/api/v1/certification/candidates", headers=moldova).get_json() == \
        {"total": 0, "page": 1, "candidates": []}
    assert client.get("/api/v1/certification/credentials", headers=moldova).get_json() == []
    assert client.get(f"/api/v1/certification/credentials/{found['credential']}", headers=moldova).status_code == 404
    instructor = {"Authorization": f"Bearer {_token(cli, 'ge-academy', 'instructor')}"}
    assert client.get("/api/v1/certification/candidates", headers=instructor).status_code == 403
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/certification/credentials/{credential_id}" in paths
