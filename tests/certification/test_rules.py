"""The status engine and the credentials, as pure functions: stages, shortfalls, renewal, and signatures that fail
on any change."""

from __future__ import annotations

import base64
import json
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ibm_lms.certification import credentials, rules
from ibm_lms.certification.rules import Evidence, EvidenceKind, Facts, Held, Result, Stage

REGIONAL = rules.programmes_from(tomllib.loads(
    (Path(rules.__file__).parent / "regional_programmes.toml").read_text(encoding="utf-8")))
BY_KEY = {p.key: p for p in REGIONAL}
TRAINER = BY_KEY["document-security-trainer"]
MASTER = BY_KEY["document-security-master-trainer"]
TODAY = date(2026, 12, 3)


def complete_facts(on: date = date(2026, 6, 1)) -> Facts:
    """Everything the document-security trainer path asks for."""
    return Facts(
        results=(Result("trainer-methodology", None, 0.9, on), Result("trainer-methodology", "final-exam", 0.85, on),
                 Result("document-security", None, 0.95, on), Result("document-security", "final-exam", 0.81, on)),
        evidence=(Evidence(EvidenceKind.MICRO_TEACHING, on, "document-security", average=3.2),
                  Evidence(EvidenceKind.CO_DELIVERY, on, "document-security", average=3.0),
                  Evidence(EvidenceKind.CO_DELIVERY, on, "document-security", average=3.6),
                  Evidence(EvidenceKind.SESSION, on, "document-security", hours=8),
                  Evidence(EvidenceKind.SESSION, on, "document-security", hours=8)))


def test_the_regional_programmes_cover_every_area_at_two_levels():
    areas = {p.area for p in REGIONAL}
    assert areas == {"ibm-strategy", "document-security", "risk-analysis", "drugs-tobacco", "intellectual-property",
                     "trafficking-human-beings", "anti-corruption"}
    assert all({rules.Level.CERTIFIED_TRAINER, rules.Level.MASTER_TRAINER} ==
               {p.level for p in REGIONAL if p.area == area} for area in areas)
    assert all(p.renewal is not None for p in REGIONAL)


def test_nothing_done_is_not_started_and_everything_is_missing():
    standing = rules.evaluate(TRAINER, Facts(), TODAY)
    assert standing.stage is Stage.NOT_STARTED and standing.met == 0
    assert len(standing.missing) == len(TRAINER.requirements)


def test_the_engine_says_exactly_what_is_missing():
    facts = complete_facts()
    partial = Facts(results=facts.results[:3] + (Result("document-security", "final-exam", 0.7, TODAY),),
                    evidence=facts.evidence[:2] + facts.evidence[3:4])
    standing = rules.evaluate(TRAINER, partial, TODAY)
    assert standing.stage is Stage.IN_PROGRESS
    missing = {s.requirement.kind: (s.have, s.need) for s in standing.missing}
    assert missing == {rules.Kind.QUIZ: (0.7, 0.8), rules.Kind.OBSERVED: (1.0, 2.0), rules.Kind.HOURS: (8.0, 16.0)}


def test_an_observation_below_the_rubric_floor_or_in_another_area_does_not_count():
    facts = complete_facts()
    weak = Facts(results=facts.results, evidence=(
        facts.evidence[0], Evidence(EvidenceKind.CO_DELIVERY, TODAY, "document-security", average=2.8),
        Evidence(EvidenceKind.CO_DELIVERY, TODAY, "risk-analysis", average=4.0), *facts.evidence[2:]))
    standing = rules.evaluate(TRAINER, weak, TODAY)
    assert [(s.requirement.kind, s.have) for s in standing.missing] == [(rules.Kind.OBSERVED, 1.0)]


def test_all_met_is_ready_then_certified_with_warnings_then_renewal():
    assert rules.evaluate(TRAINER, complete_facts(), TODAY).stage is Stage.READY
    held = Held(TRAINER.key, date(2024, 1, 10), date(2027, 1, 10))
    facts = Facts(held=(held,))
    assert rules.evaluate(TRAINER, facts, date(2025, 1, 1)).stage is Stage.CERTIFIED
    in_window = rules.evaluate(TRAINER, facts, date(2026, 12, 20))
    assert in_window.stage is Stage.RENEWAL_OPEN and in_window.warning_days == 30
    assert rules.evaluate(TRAINER, facts, date(2026, 10, 20)).warning_days == 90
    # Renewal counts only what was done since the certification began.
    old = Facts(results=(Result("document-security", "final-exam", 0.9, date(2023, 5, 1)),), held=(held,))
    assert any(s.requirement.kind is rules.Kind.QUIZ for s in rules.evaluate(TRAINER, old, date(2026, 12, 20)).missing)
    renewed = Facts(results=(Result("document-security", "final-exam", 0.9, date(2026, 9, 1)),),
                    evidence=(Evidence(EvidenceKind.SESSION, date(2025, 3, 1), "document-security", hours=24),
                              Evidence(EvidenceKind.CO_DELIVERY, date(2026, 8, 1), "document-security", average=3)),
                    held=(held,))
    ready = rules.evaluate(TRAINER, renewed, date(2026, 12, 20))
    assert ready.stage is Stage.RENEWAL_READY
    start, end = rules.next_validity(TRAINER, ready, date(2026, 12, 20))
    assert (start, end) == (date(2027, 1, 10), date(2030, 1, 10)), "an early renewal continues without a gap"


def test_after_expiry_renewal_is_possible_in_grace_and_the_full_path_after():
    held = Held(TRAINER.key, date(2023, 1, 10), date(2026, 1, 10))
    assert rules.evaluate(TRAINER, Facts(held=(held,)), date(2026, 3, 1)).stage is Stage.LAPSED
    expired = rules.evaluate(TRAINER, Facts(held=(held,)), date(2026, 5, 1))
    assert expired.stage is Stage.EXPIRED and expired.of == len(TRAINER.requirements)
    # A master trainer whose trainer certification ended no longer meets the prerequisite.
    master = rules.evaluate(MASTER, Facts(held=(held,)), date(2026, 5, 1))
    assert rules.Kind.HELD in {s.requirement.kind for s in master.missing}


@pytest.mark.parametrize("change, message", [
    ({"level": "guru"}, "level must be one of"),
    ({"validity_months": 0}, "validity_months must be a whole number"),
    ({"requirements": [{"kind": "quiz_passed", "course": "x", "quiz": "y", "min_score": 1.5}]}, "min_score"),
    ({"requirements": [{"kind": "hours_delivered", "hours": 10, "course": "x"}]}, "takes no course"),
    ({"requirements": [{"kind": "certification_held", "programme": "p"}]}, "cannot require itself"),
    ({"colour": "blue"}, "unknown fields: colour"),
])
def test_a_programme_problem_names_the_field(change, message):
    table = {"key": "p", "area": "risk-analysis", "level": "certified-trainer", "validity_months": 24,
             "requirements": [{"kind": "course_completed", "course": "risk-analysis"}], **change}
    with pytest.raises(rules.ProgrammeProblem) as caught:
        rules.programme_from(table)
    assert message in str(caught.value)


def _programme(key, needs, area="risk-analysis"):
    return {"key": key, "area": area, "level": "master-trainer", "validity_months": 24,
            "requirements": [{"kind": "certification_held", "programme": needs}]}


def test_circular_prerequisites_are_refused():
    with pytest.raises(rules.ProgrammeProblem, match="lead back"):
        rules.programmes_from({"programmes": [_programme("a", "b"), _programme("b", "a", area="anti-corruption")]})


def test_two_programmes_of_one_level_and_area_are_refused():
    """A certificate and every page name a programme by its level and area: two alike could not be told apart."""
    second = {**_programme("senior", "trainer"), "requirements": [{"kind": "course_completed",
                                                                    "course": "risk-analysis"}]}
    trainer = {**_programme("trainer", "x"), "level": "certified-trainer",
               "requirements": [{"kind": "course_completed", "course": "risk-analysis"}]}
    master = {**_programme("master", "trainer")}
    with pytest.raises(rules.ProgrammeProblem, match="same level and area"):
        rules.programmes_from({"programmes": [trainer, master, second]})


def test_a_programme_survives_its_round_trip_through_a_table():
    for programme in REGIONAL:
        assert rules.programme_from(rules.programme_to_table(programme)) == programme


@pytest.mark.parametrize("scores", [{"preparation": 4}, {**dict.fromkeys(rules.RUBRIC, 3), "preparation": 5},
                                    {**dict.fromkeys(rules.RUBRIC, 3), "extra": 3},
                                    {**dict.fromkeys(rules.RUBRIC, 3), "accuracy": True}])
def test_an_incomplete_or_out_of_scale_rubric_is_refused(scores):
    with pytest.raises(ValueError):
        rules.rubric_average(scores)
    assert rules.rubric_average(dict.fromkeys(rules.RUBRIC, 3) | {"accuracy": 4}) == 3.2


def test_months_are_added_as_calendars_do():
    assert rules.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert rules.add_months(date(2026, 12, 3), 36) == date(2029, 12, 3)
    assert rules.add_months(date(2026, 3, 31), -6) == date(2025, 9, 30)


# --- credentials ------------------------------------------------------------------------------------------------

def content(**changes) -> credentials.Content:
    values = dict(credential_id="7c9e6679-7425-40de-944b-e07fc1f90ae7",
                  verify_url="https://tool.example/verify/7c9e6679-7425-40de-944b-e07fc1f90ae7",
                  issuer_id="https://tool.example/issuers/ge", issuer_name="Academy of the Border Police of Georgia",
                  achievement_id="https://tool.example/issuers/ge/achievements/document-security-trainer",
                  achievement_name="Certified Trainer: Document security", achievement_description="d",
                  criteria="c", level="certified-trainer", area="document-security", area_title="Document security",
                  area_url="https://tool.example/x", holder_id="urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
                  holder_name="ნინო ბერიძე", valid_from=date(2026, 12, 3), valid_until=date(2029, 12, 3),
                  locale="ka", status_list_url="https://tool.example/issuers/ge/status/revocation",
                  status_index=4242, sqf_level=6)
    values.update(changes)
    return credentials.Content(**values)


@pytest.fixture(scope="module")
def key():
    return credentials.new_key()


def signed(key, **changes) -> str:
    document = credentials.credential(content(**changes))
    return credentials.sign(document, private_pem=key.private_pem, kid=key.kid,
                            subject=document["credentialSubject"]["id"])


def jwks(*keys) -> dict:
    return {"keys": [k.public_jwk for k in keys]}


NOW = datetime(2027, 1, 1, tzinfo=UTC)


def test_a_credential_is_an_open_badge_with_its_alignment_and_verifies(key):
    verdict = credentials.verify(signed(key), jwks(key), now=NOW)
    assert verdict.status == credentials.VALID and verdict.kid == key.kid
    document = verdict.credential
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["@context"] == [credentials.VC_CONTEXT, credentials.OB_CONTEXT]
    alignment = document["credentialSubject"]["achievement"]["alignment"]
    assert [a["targetCode"] for a in alignment] == ["document-security", "6"]
    assert document["credentialSubject"]["identifier"][0]["identityHash"] == "ნინო ბერიძე"
    assert document["credentialStatus"]["statusListIndex"] == "4242"


def test_the_key_id_is_the_rfc7638_thumbprint(key):
    # RFC 8037, appendix A.3: the Ed25519 example key and its thumbprint.
    example = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert credentials.thumbprint(example) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert key.kid == credentials.thumbprint(key.public_jwk)


def _tamper(token: str, change) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return ".".join((header, forged, signature))


@pytest.mark.parametrize("change", [
    lambda c: c["credentialSubject"]["identifier"][0].update(identityHash="Someone Else"),
    lambda c: c.update(validUntil="2039-12-03T23:59:59Z", exp=2206915199),
    lambda c: c["credentialSubject"]["achievement"].update(name="Master Trainer"),
])
def test_any_changed_field_breaks_the_signature(key, change):
    verdict = credentials.verify(_tamper(signed(key), change), jwks(key), now=NOW)
    assert verdict.status == credentials.INVALID and "signature does not match" in verdict.problems[0]


def test_a_foreign_signature_or_an_unpublished_key_is_invalid(key):
    stranger = credentials.new_key()
    forged = signed(stranger)
    assert "does not publish" in credentials.verify(forged, jwks(key), now=NOW).problems[0]
    # A forger who reuses the academy's key id still cannot sign with its key.
    document = credentials.credential(content())
    same_kid = credentials.sign(document, private_pem=stranger.private_pem, kid=key.kid,
                                subject=document["credentialSubject"]["id"])
    assert credentials.verify(same_kid, jwks(key), now=NOW).status == credentials.INVALID
    assert credentials.verify("not.a.jwt", jwks(key), now=NOW).status == credentials.INVALID


def test_dates_and_revocation_decide_the_status(key):
    token = signed(key)
    assert credentials.verify(token, jwks(key), now=datetime(2030, 1, 1, tzinfo=UTC)).status == credentials.EXPIRED
    assert credentials.verify(token, jwks(key), now=datetime(2026, 1, 1, tzinfo=UTC)).status == \
        credentials.NOT_YET_VALID
    assert credentials.verify(token, jwks(key), now=NOW, revoked=lambda d: True).status == credentials.REVOKED
    unchecked = credentials.verify(token, jwks(key), now=NOW, revoked=lambda d: None)
    assert unchecked.valid and "not checked" in unchecked.problems[0]


def test_a_status_list_sets_exactly_the_revoked_bits_in_the_standard_layout(key):
    encoded = credentials.encode_status_list([0, 7, 4242, credentials.STATUS_LIST_BITS - 1])
    assert encoded.startswith("u")
    assert [credentials.status_bit(encoded, i) for i in (0, 1, 7, 8, 4242, 4243)] == [True, False, True, False,
                                                                                       True, False]
    # Index 0 is the leftmost bit of the first byte (Bitstring Status List v1.0).
    import gzip
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw[0] == 0b1000_0001 and len(raw) == credentials.STATUS_LIST_BITS // 8
    document = credentials.status_list_credential(list_url="https://tool.example/issuers/ge/status/revocation",
                                                  issuer_id="https://tool.example/issuers/ge", issuer_name="A",
                                                  revoked=[4242], issued=NOW - timedelta(days=1))
    token = credentials.sign(document, private_pem=key.private_pem, kid=key.kid)
    assert credentials.status_from_list(token, jwks(key), 4242) is True
    assert credentials.status_from_list(token, jwks(key), 4241) is False
