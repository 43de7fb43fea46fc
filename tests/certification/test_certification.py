"""Trainer certification end to end: a candidate's path from nomination to a signed credential, through real
launches and the pages people use; four eyes; verification by anyone; and everything refused that must be."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import uuid
from datetime import date
from html import unescape

import pytest
from sqlalchemy import select

from ibm_lms.audit.models import AuditEntry
from ibm_lms.certification import service
from ibm_lms.certification.errors import NotAuthorised, PersonNotFound, SeparationOfDuties
from ibm_lms.certification.models import Certification, ProgrammeVersion
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Identity, LaunchIdentity, Role
from tests.conftest import csrf_token, translated

from .helpers import COURSE_ADMIN, PEOPLE, become, exam, learning_done, user_id, who

TRAINER = "document-security-trainer"
MASTER = "document-security-master-trainer"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def academy(launcher, courses, cli):
    """Everyone has launched once; the two academy administrators made Tamar a Master Trainer on paper."""
    for name in ("candidate", "colleague", "master", "deputy", "head"):
        become(launcher, name)
    result = cli.invoke(args=["cert", "grant", "--tenant", "ge-academy", "--programme", MASTER,
                              "--holder", who(launcher, "master"), "--approved-by", who(launcher, "head"),
                              "--approved-by", who(launcher, "deputy")])
    assert result.exit_code == 0, result.output
    tenant = tenancy.get_tenant("ge-academy")
    return tenant.id, {name: user_id(launcher, name) for name in PEOPLE}


def post(client, url: str, data: dict, page: str = "/certification/mine", **kwargs):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def observe(client, candidate: int, kind: str, score: int, day: str = "2026-11-20"):
    data = {"candidate_id": candidate, "area": "document-security", "kind": kind, "occurred_on": day,
            "course_delivered": "Detecting altered data pages", "participants": 12,
            **{f"score_{criterion}": score for criterion in service_rubric()}}
    return post(client, "/certification/observe", data, page="/certification/observe")


def service_rubric():
    from ibm_lms.certification.rules import RUBRIC

    return RUBRIC


def stage_of(tenant_id: int, user: int, programme: str = TRAINER) -> str:
    return next(s.stage.value for s in service.candidate_standings(tenant_id, user) if s.programme_key == programme)


def test_approvers_are_the_academy_administrators_seen_in_launches(launcher, courses, cli):
    become(launcher, "head")
    become(launcher, "candidate")
    tenant = tenancy.get_tenant("ge-academy")
    assert [u for u, _ in service.decisions.approvers(tenant.id)] == [user_id(launcher, "head")]
    listed = [json.loads(line) for line in
              cli.invoke(args=["cert", "approvers", "--tenant", "ge-academy", "--json"]).output.splitlines()]
    assert [(a["who"], a["name"]) for a in listed] == [(who(launcher, "head"), "Levan Abashidze")]
    # A course-level Administrator runs one Moodle course, not the academy.
    course_admin = PEOPLE["colleague"].__class__("course-admin", "A", "B", "a@b.invalid", (COURSE_ADMIN,))
    become(launcher, course_admin)
    assert len(service.decisions.approvers(tenant.id)) == 1
    # Someone who launches without the role no longer approves.
    become(launcher, PEOPLE["head"].__class__("head-1", "Levan", "Abashidze", "l@a.invalid", (COURSE_ADMIN,)))
    assert service.decisions.approvers(tenant.id) == []


def test_a_candidate_goes_from_nomination_to_a_verifiable_credential(academy, launcher, client, cli):
    tenant_id, ids = academy
    head = become(launcher, "head")
    found = head.get("/certification/candidates?q=Kapanadze").get_data(as_text=True)
    assert "Giorgi Kapanadze" in found
    assert post(head, "/certification/nominate", {"user_id": ids["candidate"], "programme": TRAINER},
                page="/certification/candidates").status_code == 303
    assert stage_of(tenant_id, ids["candidate"]) == "not_started"

    learning_done(tenant_id, ids["candidate"])
    exam(tenant_id, ids["candidate"], "document-security", 0.95, quiz="practice", kind="practice")
    page = head.get(f"/certification/candidates/{ids['candidate']}").get_data(as_text=True)
    assert "In progress" in page and "4 of 7 requirements met" in page
    assert "16 hours of training delivered" in page and "0 of 16 hours" in page

    master = become(launcher, "master")
    assert observe(master, ids["candidate"], "micro_teaching", 3).status_code == 303
    assert observe(master, ids["candidate"], "co_delivery", 4).status_code == 303
    assert observe(master, ids["candidate"], "co_delivery", 3).status_code == 303
    refused = observe(master, ids["master"], "co_delivery", 4)
    assert refused.status_code == 422 and "nobody rates their own delivery" in refused.get_data(as_text=True)

    candidate = become(launcher, "candidate")
    for hours in ("8", "8"):
        logged = post(candidate, "/certification/sessions", {
            "area": "document-security", "occurred_on": "2026-11-25", "hours": hours,
            "course_delivered": "Impostor recognition", "participants": "15",
            "attachment": (io.BytesIO(PDF), "attendance.pdf")}, content_type="multipart/form-data")
        assert logged.status_code == 303
    assert stage_of(tenant_id, ids["candidate"]) == "in_progress", "logged sessions count only once approved"
    pending = [e.id for e in service.evidence_list(tenant_id, state="pending")]
    assert len(pending) == 2
    own = post(candidate, f"/certification/evidence/{pending[0]}/review", {"decision": "approve"})
    assert own.status_code == 409 and "nobody approves their own evidence" in own.get_data(as_text=True)
    assert candidate.get(f"/certification/evidence/{pending[0]}/attachment").data == PDF

    master = become(launcher, "master")
    for evidence_id in pending:
        reviewed = post(master, f"/certification/evidence/{evidence_id}/review", {"decision": "approve"},
                        page="/certification/reviews")
        assert reviewed.status_code == 303
    assert stage_of(tenant_id, ids["candidate"]) == "ready"

    head = become(launcher, "head")
    assert post(head, "/certification/propose", {"user_id": ids["candidate"], "programme": TRAINER},
                page="/certification/").status_code == 303
    proposal = db.session.execute(select(Certification).where(Certification.state == "proposed")).scalar_one()
    # The page offers each approver only what they can do: the proposer neither proposes again nor confirms.
    seen = head.get(f"/certification/candidates/{ids['candidate']}").get_data(as_text=True)
    assert 'class="propose"' not in seen and 'class="confirm"' not in seen
    twice = post(head, f"/certification/decisions/{proposal.id}/confirm", {}, page="/certification/",
                 headers={"Accept": "application/json"})
    assert twice.status_code == 409 and twice.get_json()["error"] == "separation_of_duties"

    # Four eyes at the moment of issue: a proposer who has since lost the academy role in Moodle no longer counts.
    become(launcher, dataclasses.replace(PEOPLE["head"], roles=(COURSE_ADMIN,)))
    deputy = become(launcher, "deputy", locale="ka")
    stale = post(deputy, f"/certification/decisions/{proposal.id}/confirm", {}, page="/certification/",
                 headers={"Accept": "application/json"})
    assert stale.status_code == 403 and stale.get_json()["error"] == "not_authorised"
    assert translated("ka", "the person who proposed this is no longer an approver; withdraw the proposal and "
                            "propose it again") in stale.get_json()["message"]
    become(launcher, "head")
    deputy = become(launcher, "deputy", locale="ka")
    assert 'class="confirm"' in deputy.get(f"/certification/candidates/{ids['candidate']}").get_data(as_text=True)
    assert post(deputy, f"/certification/decisions/{proposal.id}/confirm", {}, page="/certification/"
                ).status_code == 303
    db.session.expire_all()
    issued = db.session.get(Certification, proposal.id)
    assert issued.state == "issued" and issued.locale == "en"
    assert stage_of(tenant_id, ids["candidate"]) == "certified"
    # A certified standing counts no requirement ("0 of 0"): its page says how long it is valid.
    standing = deputy.get(f"/certification/candidates/{ids['candidate']}").get_data(as_text=True)
    assert translated("ka", "valid until %(day)s") % {"day": issued.valid_until.isoformat()} in standing
    assert translated("ka", "%(met)d of %(of)d requirements met") % {"met": 0, "of": 0} not in standing

    anyone = launcher.client.application.test_client()
    verdict = anyone.get(f"/verify/{issued.id}", headers={"Accept": "application/json"}).get_json()
    assert verdict["status"] == "valid" and verdict["holder"] == "Giorgi Kapanadze"
    achievement = verdict["credential"]["credentialSubject"]["achievement"]
    assert achievement["name"] == "Certified Trainer: Document Security, Forgery Detection and Impostor Recognition"
    assert achievement["fieldOfStudy"] == "Document Security, Forgery Detection and Impostor Recognition"
    html = anyone.get(f"/verify/{issued.id}").get_data(as_text=True)
    assert "Valid certificate" in html and "Giorgi Kapanadze" in html

    candidate = become(launcher, "candidate")
    pdf = candidate.get(f"/certification/credentials/{issued.id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and len(pdf.data) > 5000
    token = candidate.get(f"/certification/credentials/{issued.id}/credential.jwt").get_data(as_text=True)
    assert token == issued.credential

    # The approvers are named in the trail, which still holds.
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "certification.approved")).scalar_one()
    assert [a["name"] for a in entry.details["approvers"]] == ["Levan Abashidze", "Nana Gelashvili"]
    assert "holds" in cli.invoke(args=["audit", "verify"]).output

    head = become(launcher, "head")
    assert post(head, f"/certification/credentials/{issued.id}/revoke", {"reason": "Left the service"},
                page="/certification/").status_code == 303
    revoked = anyone.get(f"/verify/{issued.id}", headers={"Accept": "application/json"}).get_json()
    # Anyone with the QR code learns that it was revoked and when, never the academy's reason.
    assert revoked["status"] == "revoked" and revoked["revoked_on"] == service.today().isoformat()
    assert "Left the service" not in json.dumps(revoked)
    page = anyone.get(f"/verify/{issued.id}").get_data(as_text=True)
    assert "Revoked on" in page and service.today().isoformat() in page and "Left the service" not in page
    assert "Left the service" in head.get(f"/certification/candidates/{ids['candidate']}").get_data(as_text=True)


@pytest.fixture
def issued(academy, launcher, cli):
    """A credential Giorgi holds (granted on paper by the two administrators)."""
    result = cli.invoke(args=["cert", "grant", "--tenant", "ge-academy", "--programme", TRAINER,
                              "--holder", who(launcher, "candidate"), "--approved-by", who(launcher, "head"),
                              "--approved-by", who(launcher, "deputy"), "--valid-from", "2025-02-01",
                              "--locale", "ka"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["id"]


def test_a_certificate_with_the_longest_name_moodle_sends_is_printed(issued, app):
    from .test_certificate import LONG_NAME

    db.session.get(Certification, issued).holder_name = LONG_NAME
    db.session.commit()
    with app.test_request_context():
        pdf = service.certificate_pdf(db.session.get(Certification, issued))
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000


def _grant(cli, launcher) -> str:
    result = cli.invoke(args=["cert", "grant", "--tenant", "ge-academy", "--programme", TRAINER,
                              "--holder", who(launcher, "candidate"), "--approved-by", who(launcher, "head"),
                              "--approved-by", who(launcher, "deputy")])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["id"]


def test_a_name_stored_with_a_bidirectional_override_is_signed_and_shown_without_it(academy, launcher, cli,
                                                                                      monkeypatch):
    import jwt

    from ibm_lms.tenancy.models import User

    db.session.get(User, academy[1]["candidate"]).name = "\u202eeznaM anirI"  # recorded before names were cleaned
    db.session.commit()
    issued = db.session.get(Certification, _grant(cli, launcher))
    assert issued.holder_name == "eznaM anirI"
    signed = jwt.decode(service.credential_token(issued.id), options={"verify_signature": False})
    assert signed["credentialSubject"]["identifier"][0]["identityHash"] == "eznaM anirI"

    # A credential signed before then keeps its signed name; the public page shows it without the override.
    monkeypatch.setattr(service, "person_name", lambda name: name)
    db.session.get(Certification, issued.id).state = "revoked"
    db.session.commit()
    earlier = _grant(cli, launcher)
    monkeypatch.undo()
    anyone = launcher.client.application.test_client()
    page = anyone.get(f"/verify/{earlier}").get_data(as_text=True)
    assert '<dd id="holder"><bdi>eznaM anirI</bdi></dd>' in page and "\u202e" not in page
    assert "\u202e" not in json.dumps(anyone.get(f"/verify/{earlier}", headers={"Accept": "application/json"}
                                                 ).get_json()["holder"])


def test_a_paper_grant_for_someone_never_nominated_is_audited_as_their_nomination_too(issued, academy):
    entries = db.session.execute(select(AuditEntry).where(
        AuditEntry.action.in_(("candidate.nominated", "certification.granted")),
        AuditEntry.subject.in_((f"user {academy[1]['candidate']}", f"certification {issued}")))
        .order_by(AuditEntry.position)).scalars().all()
    assert [(e.action, e.details.get("through")) for e in entries] == [("candidate.nominated", "grant"),
                                                                        ("certification.granted", None)]
    assert entries[0].details["programme"] == TRAINER


def test_a_credential_verifies_offline_from_the_published_keys_alone(issued, client, cli, tmp_path):
    token = cli.invoke(args=["cert", "export", issued]).output.strip()
    (tmp_path / "credential.jwt").write_text(token)
    (tmp_path / "jwks.json").write_text(client.get("/issuers/ge-academy/jwks.json").get_data(as_text=True))
    (tmp_path / "status.jwt").write_text(client.get("/issuers/ge-academy/status/revocation").get_data(as_text=True))

    def verify(file: str = "credential.jwt"):
        return cli.invoke(args=["cert", "verify", str(tmp_path / file), "--jwks", str(tmp_path / "jwks.json"),
                                "--status-list", str(tmp_path / "status.jwt")])

    result = verify()
    assert result.exit_code == 0 and json.loads(result.output)["status"] == "valid"
    assert json.loads(result.output)["valid_until"] == "2028-02-01T23:59:59Z"
    header, payload, signature = token.split(".")
    (tmp_path / "forged.jwt").write_text(".".join((header, payload[:-4] + "AAAA", signature)))
    assert verify("forged.jwt").exit_code == 1

    assert cli.invoke(args=["cert", "revoke", issued, "--reason", "Certificate obtained by deception"]).exit_code == 0
    (tmp_path / "status.jwt").write_text(client.get("/issuers/ge-academy/status/revocation").get_data(as_text=True))
    result = verify()
    assert result.exit_code == 1 and json.loads(result.output)["status"] == "revoked"
    again = cli.invoke(args=["cert", "revoke", issued, "--reason", "x"])
    assert again.exit_code != 0 and "only an issued credential" in again.output


def test_a_self_signed_credential_naming_a_foreign_issuer_is_not_verified_with_its_own_keys(cli, tmp_path):
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from jwt.algorithms import OKPAlgorithm

    key = Ed25519PrivateKey.generate()
    claims = {"iss": "http://forger.invalid/issuers/ge-academy", "jti": "urn:uuid:1", "nbf": 1,
              "issuer": "Georgian Border Academy", "credentialSubject": [1]}
    (tmp_path / "forged.jwt").write_text(jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "k"}))
    result = cli.invoke(args=["cert", "verify", str(tmp_path / "forged.jwt")])
    # Refused before anything is fetched: the forger's address would vouch for the forger's keys.
    assert result.exit_code == 1 and "not an academy of this service" in result.output
    assert "http://forger.invalid/issuers/ge-academy" in result.output and "could not be fetched" not in result.output

    # Checked against a key set the verifier chose, a credential of the wrong shape is invalid, and said to be.
    public = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**public, "kid": "k", "alg": "EdDSA"}]}))
    result = cli.invoke(args=["cert", "verify", str(tmp_path / "forged.jwt"), "--jwks", str(tmp_path / "jwks.json"),
                              "--status-list", "none"])
    verdict = json.loads(result.output)
    assert result.exit_code == 1 and verdict["status"] == "invalid" and verdict["issuer"] is None
    assert verdict["issuer_url"] == "http://forger.invalid/issuers/ge-academy"


def test_a_status_list_that_unpacks_beyond_any_issuers_is_refused():
    import base64
    import gzip

    from ibm_lms.certification import credentials

    bomb = gzip.compress(bytes(credentials.MAX_STATUS_LIST_BYTES + 1))
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    with pytest.raises(ValueError, match="larger than any issuer"):
        credentials.status_bit(encoded, 0)
    assert credentials.status_bit(credentials.encode_status_list([7]), 7) is True


def test_a_rotated_key_keeps_earlier_credentials_valid(issued, client, cli):
    before = client.get("/issuers/ge-academy/jwks.json").get_json()["keys"]
    assert cli.invoke(args=["cert", "rotate-key", "--tenant", "ge-academy"]).exit_code == 0
    after = client.get("/issuers/ge-academy/jwks.json").get_json()["keys"]
    assert len(after) == len(before) + 1 and before[0] in after
    assert client.get(f"/verify/{issued}", headers={"Accept": "application/json"}).get_json()["valid"]


def test_a_pasted_credential_that_was_changed_or_forged_is_invalid(issued, client, cli):
    token = cli.invoke(args=["cert", "export", issued]).output.strip()
    assert client.post("/verify", data={"credential": token}).status_code == 200
    header, payload, signature = token.split(".")
    changed = client.post("/verify", data={"credential": f"{header}.{payload}x.{signature}"},
                          headers={"Accept": "application/json"})
    assert changed.status_code == 422 and not changed.get_json()["valid"]
    stranger = client.post("/verify", data={"credential": "eyJhbGciOiJub25lIn0.e30."},
                           headers={"Accept": "application/json"})
    assert stranger.status_code == 422


def test_an_address_in_upper_case_finds_its_credential(issued, client):
    answer = client.get(f"/verify/{issued.upper()}", headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.get_json()["valid"]


def test_a_stored_credential_that_does_not_verify_tells_nothing_from_the_database(issued, client):
    row = db.session.get(Certification, issued)
    header, payload, signature = row.credential.split(".")
    row.credential = f"{header}.{payload}.{signature[:-4]}AAAA"
    db.session.commit()
    verdict = client.get(f"/verify/{issued}", headers={"Accept": "application/json"}).get_json()
    assert verdict["status"] == "invalid"
    assert [verdict[k] for k in ("holder", "programme", "valid_from", "valid_until", "revoked_on")] == [None] * 5
    assert "Giorgi" not in client.get(f"/verify/{issued}").get_data(as_text=True)


def test_a_credential_with_another_algorithm_is_refused_for_its_algorithm(issued, client):
    import base64

    token = service.credential_token(issued)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    forged = base64.urlsafe_b64encode(json.dumps({**header, "alg": "HS256"}).encode()).decode().rstrip("=")
    answer = client.post("/verify", data={"credential": f"{forged}.{token.split('.')[1]}.xx"},
                         headers={"Accept": "application/json"})
    assert answer.status_code == 422
    assert answer.get_json()["problems"] == ["The credential is signed with an algorithm this issuer does not use."]


@pytest.mark.parametrize("credential_id", [str(uuid.uuid4()), "not-a-credential", "1' OR '1'='1"])
def test_a_forged_qr_code_leads_to_a_clear_refusal(client, credential_id):
    answer = client.get(f"/verify/{credential_id}")
    assert answer.status_code == 404 and "is not genuine" in answer.get_data(as_text=True)


def test_cert_grant_refuses_what_four_eyes_forbid(academy, launcher, cli):
    def grant(holder: str, first: str, second: str, programme: str = TRAINER):
        return cli.invoke(args=["cert", "grant", "--tenant", "ge-academy", "--programme", programme,
                                "--holder", holder, "--approved-by", first, "--approved-by", second])

    head, deputy, cand = who(launcher, "head"), who(launcher, "deputy"), who(launcher, "candidate")
    assert "different person" in grant(cand, head, head).output
    assert "approvers" in grant(cand, head, who(launcher, "colleague")).output
    assert "nobody certifies themselves" in grant(head, head, deputy).output
    assert "No one known to this academy" in grant("https://elsewhere.example:42", head, deputy).output
    assert "no certification programme" in grant(cand, head, deputy, programme="astronaut").output
    assert db.session.execute(select(Certification).where(Certification.holder_id == academy[1]["candidate"])
                              ).first() is None


def test_evidence_and_decisions_refuse_strangers_and_self_dealing(academy, launcher):
    tenant_id, ids = academy
    other = tenancy.ensure_tenant("md-academy")
    stranger = tenancy.record_launch_identity(LaunchIdentity(
        tenant_id=other.id, issuer="https://moodle.md.invalid", subject="7", lti_roles=()))
    db.session.commit()
    master = Identity(user_id=ids["master"], tenant_id=tenant_id, role=Role.INSTRUCTOR, context_id=None,
                      display_name=None)
    details = service.Details(area="document-security", occurred_on=date(2026, 11, 1))
    scores = dict.fromkeys(service_rubric(), 3)
    with pytest.raises(PersonNotFound):
        service.record_observation(master, stranger.user_id, service.EvidenceKind.CO_DELIVERY, scores, details)
    with pytest.raises(SeparationOfDuties):
        service.record_observation(master, ids["master"], service.EvidenceKind.CO_DELIVERY, scores, details)
    colleague = Identity(user_id=ids["colleague"], tenant_id=tenant_id, role=Role.LEARNER, context_id=None,
                         display_name=None)
    with pytest.raises(NotAuthorised):
        service.record_observation(colleague, ids["candidate"], service.EvidenceKind.CO_DELIVERY, scores, details)
    head = Identity(user_id=ids["head"], tenant_id=tenant_id, role=Role.ADMINISTRATOR, context_id=None,
                    display_name=None)
    with pytest.raises(PersonNotFound):
        service.propose(head, TRAINER, stranger.user_id, "en")
    with pytest.raises(SeparationOfDuties):
        service.propose(head, TRAINER, ids["head"], "en")


def nominated(academy, launcher):
    """Giorgi's client, once the head of the academy nominated him for the trainer programme."""
    head = become(launcher, "head")
    assert post(head, "/certification/nominate", {"user_id": academy[1]["candidate"], "programme": TRAINER},
                page="/certification/candidates").status_code == 303
    return become(launcher, "candidate")


@pytest.mark.parametrize(("hours", "participants", "says"), [
    ("1_0", "15", "a session lasts from 0.5"),  # float() reads 10 hours
    ("\u0668", "15", "a session lasts from 0.5"),  # Arabic-Indic eight
    ("\uff18", "15", "a session lasts from 0.5"),  # full-width eight
    ("8", "1_5", "the number of participants must be from 0 to 500"),  # int() reads 15
    ("8", "\u0661\u0665", "the number of participants must be from 0 to 500"),
    ("8", "many", "the number of participants must be from 0 to 500"),  # no longer dropped without a word
])
def test_a_logged_session_takes_ascii_numbers_only(academy, launcher, hours, participants, says):
    candidate = nominated(academy, launcher)
    logged = post(candidate, "/certification/sessions", {
        "area": "document-security", "occurred_on": "2026-11-25", "hours": hours,
        "course_delivered": "Impostor recognition", "participants": participants})
    assert logged.status_code == 400 and says in logged.get_data(as_text=True)
    assert service.evidence_list(academy[0], state="pending") == []


def test_a_logged_session_reads_a_decimal_comma(academy, launcher):
    candidate = nominated(academy, launcher)
    assert post(candidate, "/certification/sessions", {
        "area": "document-security", "occurred_on": "2026-11-25", "hours": "2,5", "participants": ""}
    ).status_code == 303
    assert [e.hours for e in service.evidence_list(academy[0], state="pending")] == [2.5]


def _edit(exported: str, key: str, old: str, new: str) -> str:
    """The exported file with one value changed inside one programme's table."""
    start = exported.index(f'key = "{key}"')
    end = exported.find("[[programmes]]", start)
    end = len(exported) if end < 0 else end
    return exported[:start] + exported[start:end].replace(old, new, 1) + exported[end:]


def test_programmes_are_the_regional_default_until_an_academy_imports_its_own(academy, cli, tmp_path):
    exported = cli.invoke(args=["cert", "programmes", "--tenant", "ge-academy", "--export", "-"]).output
    assert exported.count("[[programmes]]") == 14
    broken = _edit(exported, "risk-analysis-trainer", "min_score = 0.8", "min_score = 8")
    (tmp_path / "broken.toml").write_text(broken)
    result = cli.invoke(args=["cert", "programmes", "--tenant", "ge-academy", "--import", str(tmp_path / "broken.toml")])
    assert result.exit_code != 0
    found = re.search(r"broken.toml: .*line (\d+): programme risk-analysis-trainer: requirements\[2\]: min_score",
                      result.output)
    assert found and 'key = "risk-analysis-trainer"' in broken.splitlines()[int(found.group(1)) - 1]
    (tmp_path / "latin1.toml").write_bytes(exported.encode() + b"\n# Ni\xf1o\n")
    result = cli.invoke(args=["cert", "programmes", "--tenant", "ge-academy", "--import", str(tmp_path / "latin1.toml")])
    line = exported.encode().count(b"\n") + 2
    assert result.exit_code == 1 and f"latin1.toml:{line}: not UTF-8 text — save the file as UTF-8" in result.output
    (tmp_path / "ours.toml").write_text(_edit(exported, "risk-analysis-trainer", "hours = 16", "hours = 24"))
    result = cli.invoke(args=["cert", "programmes", "--tenant", "ge-academy", "--import", str(tmp_path / "ours.toml")])
    assert result.exit_code == 0 and "changed: risk-analysis-trainer;" in result.output
    versions = db.session.execute(select(ProgrammeVersion.version).where(
        ProgrammeVersion.key == "risk-analysis-trainer").order_by(ProgrammeVersion.version)).scalars().all()
    assert versions == [1, 2]
    listed = [json.loads(line) for line in cli.invoke(args=["cert", "programmes", "--tenant", "ge-academy",
                                                            "--json"]).output.splitlines()]
    assert {p["key"]: p["requirements"][-1].get("hours") for p in listed}["risk-analysis-trainer"] == 24


def test_dashboard_and_exports_in_every_locale(issued, academy, launcher):
    from openpyxl import load_workbook

    _tenant_id, ids = academy
    for locale in ("en", "ru", "uk", "ka", "hy", "az", "ro", "be"):
        head = become(launcher, "head", locale=locale)
        for url in ("/certification/", "/certification/candidates", "/certification/programmes",
                    "/certification/roster", "/certification/mine", f"/certification/candidates/{ids['candidate']}",
                    "/certification/reviews", f"/verify/{issued}"):
            answer = head.get(url)
            assert answer.status_code == 200, (locale, url)
            assert f'lang="{locale}"' in answer.get_data(as_text=True), (locale, url)
    csv_text = head.get("/certification/candidates/export.csv").get_data(as_text=True)
    assert "Giorgi Kapanadze" in csv_text and "Tamar Lomidze" in csv_text
    book = load_workbook(io.BytesIO(head.get("/certification/candidates/export.xlsx").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "name" and len(rows) == 3


def test_a_spreadsheet_never_runs_a_name_as_a_formula(academy, launcher):
    from ibm_lms.certification import dashboard

    tenant_id, ids = academy
    record = service.candidate_standings(tenant_id, ids["master"])[0]
    evil = record.__class__(**{**record.__dict__, "name": "=HYPERLINK(\"http://x\",\"y\")"})
    rows = list(csv.reader(io.StringIO(dashboard.to_csv([evil]))))
    assert rows[1][0].startswith("'=HYPERLINK")


def test_learning_pages_refuse_the_academy_records_to_trainees(academy, launcher):
    candidate = become(launcher, "candidate")
    assert candidate.get("/certification/").status_code == 302  # to their own page
    for url in ("/certification/candidates", "/certification/roster", "/certification/candidates/export.csv",
                f"/certification/candidates/{academy[1]['master']}"):
        assert candidate.get(url).status_code == 403, url
    assert candidate.get("/certification/observe").status_code == 403


def test_administrators_change_the_programmes_on_their_page(academy, launcher):
    candidate = become(launcher, "candidate")
    assert candidate.get("/certification/programmes/edit").status_code == 403
    head = become(launcher, "head")
    page = head.get("/certification/programmes/edit").get_data(as_text=True)
    text = unescape(re.search(r'<textarea id="definition"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    broken = head.post("/certification/programmes/edit", data={
        "csrf_token": csrf_token(page), "definition": text.replace("validity_months = 36", "validity_months = 0", 1)})
    assert broken.status_code == 422 and "validity_months must be a whole number" in broken.get_data(as_text=True)
    for nested in ("a = " + "[" * 10_000 + "]" * 10_000, "a = " + "[" * 40 + "]" * 40):
        deep = head.post("/certification/programmes/edit", data={"csrf_token": csrf_token(page), "definition": nested})
        assert deep.status_code == 422 and "nested more than 32 levels deep" in deep.get_data(as_text=True)
        assert "line ?" not in deep.get_data(as_text=True)
    huge = head.post("/certification/programmes/edit", data={"csrf_token": csrf_token(page),
                                                             "definition": "a = 1\nb = " + "9" * 5000})
    assert huge.status_code == 422 and "thousands of digits" in unescape(huge.get_data(as_text=True))
    # A file over the editor's limit, in Cyrillic (three times larger URL-encoded): the editor says so, text kept.
    long_text = text + "\n# " + "д" * 135_000
    too_long = head.post("/certification/programmes/edit", data={"csrf_token": csrf_token(page),
                                                                 "definition": long_text})
    assert too_long.status_code == 422 and "the file is larger than 256 KiB" in too_long.get_data(as_text=True)
    assert "д" * 1000 in too_long.get_data(as_text=True)
    saved = head.post("/certification/programmes/edit", data={
        "csrf_token": csrf_token(page), "definition": _edit(text, "anti-corruption-trainer", "hours = 16",
                                                            "hours = 20")})
    assert saved.status_code == 200 and "Changed: anti-corruption-trainer." in saved.get_data(as_text=True)
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "programme.changed")).scalar_one()


def test_certified_trainers_are_counted_by_the_region_moodle_sends(issued, academy, launcher):
    from ibm_lms.lti.data import CLAIM_CUSTOM

    launcher.platform.user = PEOPLE["candidate"]
    assert launcher.launch(**{CLAIM_CUSTOM: {"region": " Adjara Regional Directorate "}}).status_code == 303
    head = become(launcher, "head")
    page = head.get("/certification/").get_data(as_text=True)
    table = page.split('id="by-region"')[1].split("</table>")[0]
    assert "Adjara Regional Directorate" in table and "Document Security" in table
    assert re.search(r"Adjara Regional Directorate</th><td[^>]*>1</td>", table), table
    rows = list(csv.reader(io.StringIO(head.get("/certification/candidates/export.csv").get_data(as_text=True))))
    assert rows[0][:3] == ["name", "platform_id", "region"]
    assert [row[2] for row in rows[1:] if row[0] == "Giorgi Kapanadze"] == ["Adjara Regional Directorate"]
    assert "Adjara Regional Directorate" in head.get("/certification/roster").get_data(as_text=True)

    # What the platform stops sending, the tool stops holding; an unsubstituted variable is no region.
    launcher.platform.user = PEOPLE["candidate"]
    assert launcher.launch(**{CLAIM_CUSTOM: {"region": "$Person.address.locality"}}).status_code == 303
    head = become(launcher, "head")
    table = head.get("/certification/").get_data(as_text=True).split('id="by-region"')[1].split("</table>")[0]
    assert "Adjara" not in table and "Region not sent by Moodle" in table


def test_a_regional_coordinator_named_from_the_cli_sees_counts_of_every_academy_and_no_person(issued, academy,
                                                                                             launcher, cli):
    head = become(launcher, "head")
    refused = head.get("/certification/regional", headers={"Accept": "application/json"})
    assert refused.status_code == 403 and refused.get_json()["error"] == "not_authorised"
    assert 'href="/certification/regional"' not in head.get("/certification/").get_data(as_text=True)

    other = tenancy.ensure_tenant("md-academy")
    stranger = tenancy.record_launch_identity(LaunchIdentity(
        tenant_id=other.id, issuer="https://moodle.md.invalid", subject="7", lti_roles=()))
    db.session.commit()
    added = cli.invoke(args=["coordinator", "add", who(launcher, "colleague")])
    assert added.exit_code == 0 and "is a regional coordinator" in added.output
    assert "Nobody with the platform id" in cli.invoke(args=["coordinator", "add", "https://x.invalid:1"]).output
    listed = json.loads(cli.invoke(args=["coordinator", "list", "--json"]).output)
    assert listed["who"] == who(launcher, "colleague") and listed["tenant"] == "ge-academy"
    assert cli.invoke(args=["operator", "list"]).output.startswith("no tool operators")

    for locale in ("en", "ru", "uk", "ka", "hy", "az", "ro", "be"):
        coordinator = become(launcher, "colleague", locale=locale)
        page = coordinator.get("/certification/regional")
        assert page.status_code == 200 and f'lang="{locale}"' in page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    table = text.split('id="regional"')[1].split("</table>")[0]
    assert "ge-academy" in table and "<td>1</td>" not in table  # one certified trainer is too few to show
    for person in ("Kapanadze", "Abashidze", "Gelashvili", "Lomidze"):
        assert person not in table
    assert stranger.user_id not in tenancy.people(academy[0], [stranger.user_id])
    assert 'href="/certification/regional"' in coordinator.get("/certification/mine").get_data(as_text=True)
    actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.action.like("regional_coordinator.%"))
                                 ).scalars().all()
    assert actions == ["regional_coordinator.added"]


def _logged_session(academy, launcher) -> int:
    candidate = nominated(academy, launcher)
    assert post(candidate, "/certification/sessions", {
        "area": "document-security", "occurred_on": "2026-11-25", "hours": "4", "participants": ""}
    ).status_code == 303
    return service.evidence_list(academy[0], state="pending")[0].id


def test_a_review_decides_only_by_an_explicit_approve_or_reject(academy, launcher):
    evidence_id = _logged_session(academy, launcher)
    head = become(launcher, "head", locale="ru")
    page = head.get("/certification/reviews").get_data(as_text=True)
    form = re.search(rf'<form[^>]*/evidence/{evidence_id}/review".*?</form>', page, re.S).group(0)
    # Enter in the note presses the form's first submit button: it must be one that does nothing.
    first = re.search(r'<button type="submit"[^>]*>', form).group(0)
    assert " disabled" in first and "decision" not in first
    for data in ({"decision": "maybe", "note": "Rejected: no attendance list"}, {"note": "x"}, {"decision": ""}):
        unclear = post(head, f"/certification/evidence/{evidence_id}/review", data, page="/certification/reviews")
        assert unclear.status_code == 400
        assert translated("ru", "The decision was not recorded: press Approve or Reject.") in unclear.get_data(
            as_text=True)
    assert [e.id for e in service.evidence_list(academy[0], state="pending")] == [evidence_id]
    assert post(head, f"/certification/evidence/{evidence_id}/review", {"decision": "reject"},
                page="/certification/reviews").status_code == 303
    assert [e.state for e in service.evidence_list(academy[0])] == ["rejected"]


def ready(academy, launcher) -> None:
    """Giorgi has met every requirement of the trainer programme, so an approver may propose him."""
    tenant_id, ids = academy
    nominated(academy, launcher)
    learning_done(tenant_id, ids["candidate"])
    exam(tenant_id, ids["candidate"], "document-security", 0.95, quiz="practice", kind="practice")
    master = become(launcher, "master")
    for kind, score in (("micro_teaching", 3), ("co_delivery", 4), ("co_delivery", 3)):
        assert observe(master, ids["candidate"], kind, score).status_code == 303
    candidate = become(launcher, "candidate")
    for _ in range(2):
        assert post(candidate, "/certification/sessions", {
            "area": "document-security", "occurred_on": "2026-11-25", "hours": "8", "participants": "15"}
        ).status_code == 303
    master = become(launcher, "master")
    for evidence in service.evidence_list(tenant_id, state="pending"):
        assert post(master, f"/certification/evidence/{evidence.id}/review", {"decision": "approve"},
                    page="/certification/reviews").status_code == 303
    assert stage_of(tenant_id, ids["candidate"]) == "ready"


def test_a_certificate_is_written_in_the_holders_language_not_the_proposers(academy, launcher):
    tenant_id, ids = academy
    ready(academy, launcher)
    tenancy.set_preferred_locale(tenant_id, ids["candidate"], "ru")
    db.session.commit()
    head = become(launcher, "head", locale="az")
    page = head.get(f"/certification/candidates/{ids['candidate']}").get_data(as_text=True)
    assert translated("az", "The certificate and the signed credential will be in %(language)s.") % {
        "language": "Русский"} in page
    assert post(head, "/certification/propose", {"user_id": ids["candidate"], "programme": TRAINER},
                page="/certification/").status_code == 303
    proposal = db.session.execute(select(Certification).where(Certification.state == "proposed")).scalar_one()
    assert proposal.locale == "ru"


def test_a_certificate_is_in_the_proposers_language_when_the_holder_never_chose_one(academy, launcher):
    ids = academy[1]
    ready(academy, launcher)
    head = become(launcher, "head", locale="uk")
    page = head.get(f"/certification/candidates/{ids['candidate']}").get_data(as_text=True)
    assert "Українська" in page
    assert post(head, "/certification/propose", {"user_id": ids["candidate"], "programme": TRAINER},
                page="/certification/").status_code == 303
    assert db.session.execute(select(Certification.locale).where(Certification.state == "proposed")
                              ).scalar_one() == "uk"


def test_the_programme_editor_refuses_a_quiz_the_course_does_not_have(academy, launcher):
    head = become(launcher, "head")
    page = head.get("/certification/programmes/edit").get_data(as_text=True)
    text = unescape(re.search(r'<textarea id="definition"[^>]*>(.*?)</textarea>', page, re.S).group(1))
    broken = _edit(text, "anti-corruption-trainer", 'quiz = "final-exam"', 'quiz = "no-such-quiz"')
    assert broken != text
    refused = head.post("/certification/programmes/edit", data={"csrf_token": csrf_token(page), "definition": broken})
    said = unescape(refused.get_data(as_text=True))
    line = broken[:broken.index('key = "anti-corruption-trainer"')].count("\n") + 1
    assert refused.status_code == 422
    assert (f"line {line}: programme anti-corruption-trainer: names a quiz the course trainer-methodology does not "
            "have: no-such-quiz") in said
    assert not db.session.execute(select(AuditEntry).where(AuditEntry.action == "programme.changed")).first()


def test_requirements_name_a_quiz_by_its_title_in_the_readers_language(academy, launcher):
    candidate = become(launcher, "candidate", locale="uk")
    page = unescape(candidate.get("/certification/programmes").get_data(as_text=True))
    assert "«Підсумковий іспит»" in page and "final-exam" not in page
    anyone = launcher.client.application.test_client()
    narrative = anyone.get(f"/issuers/ge-academy/achievements/{TRAINER}",
                           headers={"Accept-Language": "ka"}).get_json()["criteria"]["narrative"]
    assert "საბოლოო გამოცდა" in narrative and "final-exam" not in narrative


def test_the_csv_export_names_its_charset_once(academy, launcher):
    head = become(launcher, "head")
    exported = head.get("/certification/candidates/export.csv")
    assert exported.status_code == 200 and exported.headers["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize("override", ["\u202e", "\u2066", "\u202a"])
def test_evidence_and_review_notes_refuse_bidirectional_overrides(academy, launcher, override):
    candidate = nominated(academy, launcher)
    logged = post(candidate, "/certification/sessions", {
        "area": "document-security", "occurred_on": "2026-11-25", "hours": "4",
        "course_delivered": f"abc{override}evil"})
    assert logged.status_code == 400 and "holds control characters" in logged.get_data(as_text=True)
    evidence_id = _logged_session(academy, launcher)
    head = become(launcher, "head")
    noted = post(head, f"/certification/evidence/{evidence_id}/review",
                 {"decision": "reject", "note": f"ok{override}kaerb"}, page="/certification/reviews")
    assert noted.status_code == 400 and "holds control characters" in noted.get_data(as_text=True)
    assert [e.state for e in service.evidence_list(academy[0])] == ["pending"]


def test_a_session_outside_the_persons_areas_names_the_area_by_its_title(academy, launcher):
    candidate = nominated(academy, launcher)  # a candidate in document security only
    logged = post(candidate, "/certification/sessions", {
        "area": "risk-analysis", "occurred_on": "2026-11-25", "hours": "4", "course_delivered": "CIRAM"})
    page = logged.get_data(as_text=True)
    assert logged.status_code == 409 and "not a candidate in Risk Analysis" in page
    assert "risk-analysis:" not in page


def test_hours_are_written_as_the_readers_language_writes_numbers(academy, launcher):
    nominated(academy, launcher)
    candidate = become(launcher, "candidate", locale="ru")
    logged = post(candidate, "/certification/sessions", {
        "area": "document-security", "occurred_on": "2026-11-25", "hours": "2,5", "course_delivered": "MRZ"})
    assert logged.status_code == 303
    mine = candidate.get("/certification/mine").get_data(as_text=True)
    assert translated("ru", "%(hours)s h") % {"hours": "2,5"} in mine
    assert translated("ru", "%(hours)s h") % {"hours": "2.5"} not in mine


def test_the_programme_editors_file_problems_read_in_the_administrators_language(academy, launcher):
    head = become(launcher, "head", locale="ru")
    page = head.get("/certification/programmes/edit").get_data(as_text=True)
    deep = head.post("/certification/programmes/edit", data={"csrf_token": csrf_token(page),
                                                              "definition": "a = " + "[" * 40 + "]" * 40})
    said = unescape(deep.get_data(as_text=True))
    assert deep.status_code == 422
    assert translated("ru", "lists and tables are nested more than %(levels)d levels deep") % {"levels": 32} in said
