"""Checks of an id token's header and claims against LTI 1.3 Core (pure: data in, LaunchClaims or ClaimError out).

The signature is verified elsewhere; everything a signature cannot prove (who the
token is for, when, for which deployment, in which message) is checked here, each
failure with its own reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ibm_lms.markers import N_

from .urls import is_platform_url, within_tool

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
CLAIM_MESSAGE_TYPE = LTI + "message_type"
CLAIM_VERSION = LTI + "version"
CLAIM_DEPLOYMENT_ID = LTI + "deployment_id"
CLAIM_TARGET_LINK_URI = LTI + "target_link_uri"
CLAIM_RESOURCE_LINK = LTI + "resource_link"
CLAIM_ROLES = LTI + "roles"
CLAIM_CONTEXT = LTI + "context"
CLAIM_PRESENTATION = LTI + "launch_presentation"
CLAIM_CUSTOM = LTI + "custom"
CLAIM_DEEP_LINKING = DL + "deep_linking_settings"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
MESSAGE_TYPES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)

# Asymmetric algorithms only: "none" and HMAC (which a forger can key with our copy of
# the platform's public key) are refused before any key is looked at.
ACCEPTED_ALGORITHMS = ("RS256", "RS384", "RS512")


class ClaimError(Exception):
    def __init__(self, reason: str, **params: Any):
        self.reason = reason
        self.params = params
        super().__init__(reason % params if params else reason)


@dataclass(frozen=True)
class LaunchClaims:
    nonce: str
    issuer: str
    client_id: str
    subject: str
    deployment_id: str
    message_type: str
    roles: tuple[str, ...]
    target_link_uri: str
    resource_link: Mapping[str, Any] | None
    context: Mapping[str, Any] | None
    locale: str | None
    given_name: str | None
    family_name: str | None
    name: str | None
    email: str | None
    custom: Mapping[str, Any] = field(default_factory=dict)
    deep_linking_settings: Mapping[str, Any] | None = None


def check_header(header: Mapping[str, Any]) -> tuple[str, str]:
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
        raise ClaimError(N_("The id token's signing algorithm %(alg)s is not accepted."), alg=str(alg)[:20])
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ClaimError(N_("The id token names no key id (kid)."))
    return alg, kid


# Longest value the tool stores for each claim it keeps (the column sizes).
_STRING_LIMITS = {
    "iss": 255, "sub": 255, "azp": 255, "nonce": 255, CLAIM_DEPLOYMENT_ID: 255, CLAIM_VERSION: 20,
    CLAIM_MESSAGE_TYPE: 64, CLAIM_TARGET_LINK_URI: 2048, "given_name": 255, "family_name": 255, "name": 255,
    "email": 320,
}
_OBJECT_STRING_LIMITS = {
    CLAIM_CONTEXT: {"id": 255, "label": 255, "title": 4096},
    CLAIM_RESOURCE_LINK: {"id": 255, "title": 4096, "description": 16384},
    CLAIM_PRESENTATION: {"locale": 35, "document_target": 32, "return_url": 2048},
}


def _invalid(claim: str) -> ClaimError:
    return ClaimError(N_("The claim %(claim)s has an invalid value."), claim=claim)


def _missing(claim: str) -> ClaimError:
    return ClaimError(N_("The launch is missing the required claim %(claim)s."), claim=claim)


def _check_text(claim: str, value: Any, limit: int) -> None:
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise _invalid(claim)


def check_shapes(body: Mapping[str, Any]) -> None:
    """Types and sizes of every claim the tool reads, checked before any lookup or storage uses them."""
    for claim in ("iss", "aud"):
        if body.get(claim) in (None, "", []):
            raise _missing(claim)
    for claim, limit in _STRING_LIMITS.items():
        if body.get(claim) is not None:
            _check_text(claim, body[claim], limit)
    audience = body["aud"]
    if isinstance(audience, list):
        for entry in audience:
            _check_text("aud", entry, 255)
    else:
        _check_text("aud", audience, 255)
    for claim in ("exp", "iat", "nbf"):
        value = body.get(claim)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not math.isfinite(value) or abs(value) > 1e12):
            raise _invalid(claim)
    for claim, fields in _OBJECT_STRING_LIMITS.items():
        value = body.get(claim)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise _invalid(claim)
        for name, limit in fields.items():
            if value.get(name) is not None:
                _check_text(f"{claim}.{name}", value[name], limit)
    context_types = (body.get(CLAIM_CONTEXT) or {}).get("type")
    if context_types is not None and not (
        isinstance(context_types, list) and all(isinstance(t, str) and len(t) <= 255 for t in context_types)
    ):
        raise _invalid(CLAIM_CONTEXT + ".type")
    roles = body.get(CLAIM_ROLES)
    if roles is not None and not (
        isinstance(roles, list) and len(roles) <= 100 and all(isinstance(r, str) and len(r) <= 512 for r in roles)
    ):
        raise _invalid(CLAIM_ROLES)
    for claim in (CLAIM_CUSTOM, CLAIM_DEEP_LINKING):
        if body.get(claim) is not None and not isinstance(body[claim], Mapping):
            raise _invalid(claim)


def _string(body: Mapping[str, Any], claim: str, *, required: bool = True) -> str | None:
    value = body.get(claim)
    if value is None or value == "":
        if required:
            raise _missing(claim)
        return None
    if not isinstance(value, str):
        raise _invalid(claim)
    return value


def _object(body: Mapping[str, Any], claim: str, *, required: bool) -> Mapping[str, Any] | None:
    value = body.get(claim)
    if value is None:
        if required:
            raise _missing(claim)
        return None
    if not isinstance(value, Mapping):
        raise _invalid(claim)
    return value


def _number(body: Mapping[str, Any], claim: str) -> int:
    value = body.get(claim)
    if value is None:
        raise _missing(claim)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(claim)
    return int(value)


def check_times(body: Mapping[str, Any], *, now: int, skew: int, max_age: int) -> None:
    expires = _number(body, "exp")
    issued = _number(body, "iat")
    if expires + skew < now:
        raise ClaimError(N_("The id token has expired."))
    if issued - skew > now:
        raise ClaimError(N_("The id token was issued in the future."))
    if issued + max_age < now:
        raise ClaimError(N_("The id token is too old."))
    not_before = body.get("nbf")
    if isinstance(not_before, int | float) and not_before - skew > now:
        raise ClaimError(N_("The id token is not valid yet."))


def check_audience(body: Mapping[str, Any], *, issuer: str, client_id: str) -> None:
    if body.get("iss") != issuer:
        raise ClaimError(N_("The id token's issuer does not match the registered platform."))
    audience = body.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise ClaimError(N_("The id token is not addressed to this tool (audience)."))
    authorised = body.get("azp")
    # OIDC Core 3.1.3.7: with several audiences azp is required; when present it must be us.
    if (len(audiences) > 1 and authorised is None) or (authorised is not None and authorised != client_id):
        raise ClaimError(N_("The id token's authorised party (azp) is not this tool."))


def check_claims(
    body: Mapping[str, Any],
    *,
    issuer: str,
    client_id: str,
    now: int,
    skew: int,
    max_age: int,
    base_url: str,
) -> LaunchClaims:
    check_audience(body, issuer=issuer, client_id=client_id)
    check_times(body, now=now, skew=skew, max_age=max_age)
    nonce = body.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise ClaimError(N_("The launch has no nonce."))
    subject = _string(body, "sub")
    version = _string(body, CLAIM_VERSION)
    if version != "1.3.0":
        raise ClaimError(N_("The LTI version %(version)s is not supported; 1.3.0 is required."), version=version[:20])
    message_type = _string(body, CLAIM_MESSAGE_TYPE)
    if message_type not in MESSAGE_TYPES:
        raise ClaimError(N_("The message type %(type)s is not supported."), type=message_type[:64])
    deployment_id = _string(body, CLAIM_DEPLOYMENT_ID)
    target_link_uri = _string(body, CLAIM_TARGET_LINK_URI)
    if not within_tool(target_link_uri, base_url):
        raise ClaimError(N_("The target link %(uri)s is not part of this tool."), uri=target_link_uri[:200])
    roles = body.get(CLAIM_ROLES)
    if roles is None:
        raise _missing(CLAIM_ROLES)
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise _invalid(CLAIM_ROLES)
    resource_link = _object(body, CLAIM_RESOURCE_LINK, required=message_type == RESOURCE_LINK_REQUEST)
    if resource_link is not None and not (isinstance(resource_link.get("id"), str) and resource_link["id"]):
        raise _missing(CLAIM_RESOURCE_LINK + ".id")
    deep_linking = _object(body, CLAIM_DEEP_LINKING, required=message_type == DEEP_LINKING_REQUEST)
    if deep_linking is not None:
        return_url = deep_linking.get("deep_link_return_url")
        if return_url is None or return_url == "":
            raise _missing(CLAIM_DEEP_LINKING + ".deep_link_return_url")
        # The instructor's browser posts the signed answer there: a real platform URL, never a relative one.
        if not is_platform_url(return_url, base_url):
            raise _invalid(CLAIM_DEEP_LINKING + ".deep_link_return_url")
        accepted = deep_linking.get("accept_types")
        if not isinstance(accepted, list) or "ltiResourceLink" not in accepted:
            raise ClaimError(N_("The platform does not accept links to activities."))
    context = _object(body, CLAIM_CONTEXT, required=False)
    if context is not None and not (isinstance(context.get("id"), str) and context["id"]):
        raise _missing(CLAIM_CONTEXT + ".id")
    presentation = _object(body, CLAIM_PRESENTATION, required=False) or {}
    locale = presentation.get("locale") if isinstance(presentation.get("locale"), str) else None
    custom = _object(body, CLAIM_CUSTOM, required=False) or {}
    return LaunchClaims(
        nonce=nonce,
        issuer=issuer,
        client_id=client_id,
        subject=subject,
        deployment_id=deployment_id,
        message_type=message_type,
        roles=tuple(roles),
        target_link_uri=target_link_uri,
        resource_link=resource_link,
        context=context,
        locale=locale,
        given_name=_string(body, "given_name", required=False),
        family_name=_string(body, "family_name", required=False),
        name=_string(body, "name", required=False),
        email=_string(body, "email", required=False),
        custom=custom,
        deep_linking_settings=deep_linking,
    )
