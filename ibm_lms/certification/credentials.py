"""Open Badges 3.0 credentials as VC-JWT, their verification, and revocation status lists (pure).

The credential follows the W3C Verifiable Credentials data model 2.0 and the Open Badges 3.0 VC-JWT proof
format: the JWT payload is the credential itself, with `iss`, `jti`, `sub`, `nbf` and `exp` repeating its
issuer, id, subject, validFrom and validUntil. It is signed with EdDSA (Ed25519); the header's `kid` is the
RFC 7638 thumbprint of a key the issuer publishes in its JWKS. Verification needs only the token and that JWKS,
so anyone can check a certificate offline with a standard JOSE library; revocation needs the issuer's
Bitstring Status List as well.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from jwt.utils import base64url_decode

from ibm_lms.markers import N_

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ALGORITHMS = ("EdDSA", "ES256")
SIGNING_ALGORITHM = "EdDSA"
STATUS_LIST_BITS = 131_072  # the Bitstring Status List minimum: 16 KiB, so an index says little about a holder
MAX_STATUS_LIST_BYTES = 16 * 1024 * 1024  # a thousand times the minimum list: more credentials than any academy issues
SQF_FRAMEWORK = "Sectoral Qualifications Framework for Border Guarding (SQF)"


@dataclass(frozen=True)
class Content:
    """What a certificate says, already in the holder's language."""

    credential_id: str
    verify_url: str
    issuer_id: str
    issuer_name: str
    achievement_id: str
    achievement_name: str
    achievement_description: str
    criteria: str
    level: str
    area: str
    area_title: str
    area_url: str
    holder_id: str
    holder_name: str
    valid_from: date
    valid_until: date
    locale: str
    status_list_url: str
    status_index: int
    sqf_level: int | None = None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _day_end(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def credential(content: Content) -> dict:
    """The OpenBadgeCredential document."""
    alignment = [{"type": ["Alignment"], "targetName": content.area_title, "targetUrl": content.area_url,
                  "targetCode": content.area, "targetType": "ceterms:Competency"}]
    if content.sqf_level is not None:
        alignment.append({"type": ["Alignment"], "targetName": f"SQF level {content.sqf_level}",
                          "targetFramework": SQF_FRAMEWORK, "targetCode": str(content.sqf_level),
                          "targetUrl": "https://www.frontex.europa.eu/what-we-do/training/",
                          "targetType": "ceasn:Competency"})
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": content.verify_url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": content.achievement_name,
        "issuer": {"id": content.issuer_id, "type": ["Profile"], "name": content.issuer_name},
        "validFrom": _stamp(_day_start(content.valid_from)),
        "validUntil": _stamp(_day_end(content.valid_until)),
        "credentialSubject": {
            "id": content.holder_id,
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": False,
                            "identityHash": content.holder_name}],
            "achievement": {
                "id": content.achievement_id,
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": content.achievement_name,
                "description": content.achievement_description,
                "criteria": {"narrative": content.criteria},
                "fieldOfStudy": content.area_title,
                "inLanguage": content.locale,
                "alignment": alignment,
            },
        },
        "credentialStatus": {
            "id": f"{content.status_list_url}#{content.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(content.status_index),
            "statusListCredential": content.status_list_url,
        },
    }


# --- keys ---------------------------------------------------------------------------------------------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(jwk: Mapping) -> str:
    """RFC 7638: the SHA-256 of the key's required members in lexical order."""
    members = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}[jwk["kty"]]
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


@dataclass(frozen=True)
class NewKey:
    kid: str
    private_pem: bytes
    public_jwk: dict


def new_key() -> NewKey:
    from cryptography.hazmat.primitives import serialization

    private = Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    kid = thumbprint(jwk)
    jwk.update({"kid": kid, "alg": SIGNING_ALGORITHM, "use": "sig"})
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return NewKey(kid=kid, private_pem=pem, public_jwk=jwk)


def sign(document: Mapping, *, private_pem: bytes, kid: str, subject: str | None = None) -> str:
    """The compact VC-JWT of a credential (or of a status list credential)."""
    claims = dict(document)
    claims["iss"] = document["issuer"]["id"]
    claims["jti"] = document["id"]
    if subject:
        claims["sub"] = subject
    claims["nbf"] = int(_parse_stamp(document["validFrom"]).timestamp())
    if "validUntil" in document:
        claims["exp"] = int(_parse_stamp(document["validUntil"]).timestamp())
    return jwt.encode(claims, private_pem, algorithm=SIGNING_ALGORITHM, headers={"kid": kid, "typ": "JWT"})


def _parse_stamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# --- status lists ---------------------------------------------------------------------------------------------

def encode_status_list(set_indexes: Iterable[int], size: int = STATUS_LIST_BITS) -> str:
    """Multibase base64url (prefix u) of the GZIP of the bitstring; index 0 is the first byte's leftmost bit."""
    bits = bytearray(size // 8)
    for index in set_indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + _b64url(gzip.compress(bytes(bits), mtime=0))


def status_bit(encoded: str, index: int) -> bool:
    if not encoded.startswith("u"):
        raise ValueError("the encoded list is not multibase base64url")
    data = encoded[1:]
    # A list is read only as far as the largest one an issuer could need: a small gzip may unpack to gigabytes.
    unpacking = zlib.decompressobj(wbits=31)
    bits = unpacking.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)), MAX_STATUS_LIST_BYTES + 1)
    if len(bits) > MAX_STATUS_LIST_BYTES or unpacking.unconsumed_tail:
        raise ValueError("the status list is larger than any issuer's")
    if not 0 <= index < len(bits) * 8:
        raise ValueError("the index is outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(*, list_url: str, issuer_id: str, issuer_name: str, revoked: Iterable[int],
                           issued: datetime) -> dict:
    return {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": issuer_name},
        "validFrom": _stamp(issued),
        "credentialSubject": {"id": f"{list_url}#list", "type": "BitstringStatusList",
                              "statusPurpose": "revocation", "encodedList": encode_status_list(revoked)},
    }


# --- verification ---------------------------------------------------------------------------------------------

VALID, EXPIRED, NOT_YET_VALID, REVOKED, INVALID = "valid", "expired", "not_yet_valid", "revoked", "invalid"


@dataclass
class Verdict:
    status: str
    problems: list[str] = field(default_factory=list)
    credential: dict | None = None
    kid: str | None = None

    @property
    def valid(self) -> bool:
        return self.status == VALID


def _invalid(problem: str, document: dict | None = None) -> Verdict:
    return Verdict(INVALID, [problem], document)


def header_problem(token: str) -> str | None:
    """Why the token's header rules it out before its payload is read (not a JWT, an algorithm no issuer here
    uses), or None."""
    # Read by hand: PyJWT's reader also decodes the signature, so a token with another algorithm and a signature
    # that is no base64 would be called no JWT at all rather than refused for its algorithm.
    parts = token.split(".") if isinstance(token, str) else []
    try:
        header = json.loads(base64url_decode(parts[0])) if len(parts) == 3 else None
    except (ValueError, TypeError, RecursionError):  # RecursionError: a header of thousands of nested [
        header = None
    if not isinstance(header, dict):
        return N_("This is not a signed credential (a compact JWT).")
    if header.get("alg") not in ALGORITHMS:
        return N_("The credential is signed with an algorithm this issuer does not use.")
    return None


def verify(token: str, jwks: Mapping, *, now: datetime,
           revoked: Callable[[dict], bool | None] | None = None) -> Verdict:
    """Checks signature, shape and dates; `revoked` (given the credential) reads its status list: True, False,
    or None when the list could not be read (then the verdict says revocation was not checked)."""
    token = token.strip() if isinstance(token, str) else ""
    problem = header_problem(token)
    if problem:
        return _invalid(problem)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return _invalid(N_("This is not a signed credential (a compact JWT)."))
    keys = [k for k in (jwks.get("keys") or []) if isinstance(k, Mapping)] if isinstance(jwks, Mapping) else []
    key = next((k for k in keys if k.get("kid") == header.get("kid")), None)
    if key is None:
        return _invalid(N_("The credential is signed with a key its issuer does not publish."))
    try:
        public = jwt.PyJWK(dict(key), algorithm=header["alg"]).key
        claims = jwt.decode(token, public, algorithms=[header["alg"]],
                            options={"verify_exp": False, "verify_nbf": False, "verify_aud": False,
                                     "require": ["iss", "jti", "nbf"]})
    except jwt.InvalidSignatureError:
        return _invalid(N_("The signature does not match: the credential was changed or signed by someone else."))
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return _invalid(N_("The credential cannot be read as a signed credential."))
    document = {k: v for k, v in claims.items() if k not in ("iss", "jti", "sub", "nbf", "exp", "iat")}
    problem = _shape_problem(claims)
    if problem:
        return Verdict(INVALID, [problem], document, header["kid"])
    verdict = Verdict(VALID, [], document, header["kid"])
    valid_from, valid_until = _parse_stamp(claims["validFrom"]), _parse_stamp(claims["validUntil"])
    if revoked is not None:
        found = revoked(document)
        if found is None:
            verdict.problems.append(N_("The issuer's revocation list could not be read: revocation was not checked."))
        elif found:
            verdict.status = REVOKED
            return verdict
    if now < valid_from:
        verdict.status = NOT_YET_VALID
    elif now > valid_until:
        verdict.status = EXPIRED
    return verdict


def _shape_problem(claims: Mapping) -> str | None:
    try:
        if list(claims["@context"][:2]) != [VC_CONTEXT, OB_CONTEXT]:
            return N_("The credential does not use the Verifiable Credentials 2.0 and Open Badges 3.0 contexts.")
        if "OpenBadgeCredential" not in claims["type"]:
            return N_("The credential is not an OpenBadgeCredential.")
        if claims["iss"] != claims["issuer"]["id"] or claims["jti"] != claims["id"]:
            return N_("The credential's signed claims disagree with its content.")
        if claims["nbf"] != int(_parse_stamp(claims["validFrom"]).timestamp()) or \
                claims.get("exp") != int(_parse_stamp(claims["validUntil"]).timestamp()):
            return N_("The credential's signed dates disagree with its content.")
        if claims.get("sub") != claims["credentialSubject"]["id"]:
            return N_("The credential's signed claims disagree with its content.")
        claims["credentialSubject"]["achievement"]["name"]
        status = claims["credentialStatus"]
        int(status["statusListIndex"])
        status["statusListCredential"]
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return N_("The credential lacks a field every certificate of this issuer has.")
    return None


def status_from_list(list_token: str, jwks: Mapping, index: int) -> bool:
    """Reads a signed status list credential (checked like any other) and the holder's bit."""
    header = jwt.get_unverified_header(list_token)
    key = next(k for k in jwks["keys"] if k.get("kid") == header.get("kid"))
    claims = jwt.decode(list_token, jwt.PyJWK(dict(key), algorithm=header["alg"]).key, algorithms=list(ALGORITHMS),
                        options={"verify_exp": False, "verify_nbf": False, "verify_aud": False})
    return status_bit(claims["credentialSubject"]["encodedList"], index)
