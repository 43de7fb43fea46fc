"""Checks of an id token's header and claims against LTI 1.3 Core (pure: data in, LaunchClaims or ClaimError out).

The signature is verified elsewhere; everything a signature cannot prove (who the
token is for, when, for which deployment, in which message) is checked here, each
failure with its own reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ibm_lms.markers import N_
from ibm_lms.text import is_bounded_text, person_name

from .data import (
    CLAIM_AGS,
    CLAIM_CONTEXT,
    CLAIM_CUSTOM,
    CLAIM_DEEP_LINKING,
    CLAIM_DEPLOYMENT_ID,
    CLAIM_LIS,
    CLAIM_MESSAGE_TYPE,
    CLAIM_NRPS,
    CLAIM_PRESENTATION,
    CLAIM_RESOURCE_LINK,
    CLAIM_ROLES,
    CLAIM_TARGET_LINK_URI,
    CLAIM_VERSION,
    DEEP_LINKING_REQUEST,
    MESSAGE_TYPES,
    RESOURCE_LINK_ITEM,
    RESOURCE_LINK_REQUEST,
    AgsEndpoint,
    ContextClaim,
    DeepLinkingSettings,
    LaunchClaims,
    LisClaim,
    NrpsService,
    ResourceLinkClaim,
)
from .urls import is_platform_url, within_tool

# Asymmetric algorithms only: "none" and HMAC (which a forger can key with our copy of
# the platform's public key) are refused before any key is looked at.
ACCEPTED_ALGORITHMS = ("RS256", "RS384", "RS512")


class ClaimError(Exception):
    def __init__(self, reason: str, **params: Any):
        self.reason = reason
        self.params = params
        super().__init__(reason % params if params else reason)


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
    CLAIM_LIS: {"person_sourcedid": 255, "course_offering_sourcedid": 255, "course_section_sourcedid": 255},
    CLAIM_DEEP_LINKING: {"deep_link_return_url": 2048, "accept_media_types": 1024, "title": 4096,
                         "text": 16384, "data": 4096},
    CLAIM_AGS: {"lineitems": 2048, "lineitem": 2048},
    CLAIM_NRPS: {"context_memberships_url": 2048},
}
# Texts people write (titles, descriptions) may span lines; identifiers and names may not.
_MULTILINE = {f"{CLAIM_CONTEXT}.title", f"{CLAIM_RESOURCE_LINK}.title", f"{CLAIM_RESOURCE_LINK}.description",
              f"{CLAIM_DEEP_LINKING}.title", f"{CLAIM_DEEP_LINKING}.text"}
# Custom parameters: how many, and how long each name and value may be.
MAX_CUSTOM_PARAMETERS = 100


def _invalid(claim: str) -> ClaimError:
    return ClaimError(N_("The claim %(claim)s has an invalid value."), claim=claim)


def _missing(claim: str) -> ClaimError:
    return ClaimError(N_("The launch is missing the required claim %(claim)s."), claim=claim)


def _check_text(claim: str, value: Any, limit: int) -> None:
    # Empty is a shape like any other here; whether a claim may be empty is decided where it is read.
    if not is_bounded_text(value, limit, multiline=claim in _MULTILINE, empty=True):
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
    _check_string_lists(body)
    _check_service_lists(body)
    custom = body.get(CLAIM_CUSTOM)
    if custom is not None:
        _check_custom(custom)


def _check_string_lists(body: Mapping[str, Any]) -> None:
    settings = body.get(CLAIM_DEEP_LINKING)
    if not isinstance(settings, Mapping):
        return
    for name in ("accept_types", "accept_presentation_document_targets"):
        value = settings.get(name)
        if value is not None and not (isinstance(value, list) and len(value) <= 32
                                      and all(is_bounded_text(v, 64) for v in value)):
            raise _invalid(f"{CLAIM_DEEP_LINKING}.{name}")


def _check_service_lists(body: Mapping[str, Any]) -> None:
    for claim, name in ((CLAIM_AGS, "scope"), (CLAIM_NRPS, "service_versions")):
        value = (body.get(claim) or {}).get(name) if isinstance(body.get(claim), Mapping) else None
        if value is not None and not (isinstance(value, list) and len(value) <= 32
                                      and all(is_bounded_text(v, 255) for v in value)):
            raise _invalid(f"{claim}.{name}")


def _check_custom(custom: Any) -> None:
    """Custom parameters are a map of names to strings (LTI 1.3 Core 5.4.6); numbers and booleans are
    taken as their text, anything nested is refused."""
    if not isinstance(custom, Mapping) or len(custom) > MAX_CUSTOM_PARAMETERS:
        raise _invalid(CLAIM_CUSTOM)
    for name, value in custom.items():
        if not is_bounded_text(name, 255) or isinstance(value, Mapping | list) or (
            isinstance(value, str) and not is_bounded_text(value, 4096, multiline=True, empty=True)
        ):
            raise _invalid(CLAIM_CUSTOM)


MAX_REGION_LENGTH = 100
# The custom parameter an academy sets in the tool's settings in Moodle, e.g. `region=$Person.address.locality`
# (the person's City/town, which academies use for the regional directorate or detachment).
REGION_PARAMETER = "region"


def region_of(custom: Mapping[str, str]) -> str | None:
    """The person's region from the custom claim; None when absent, blank, too long, or a substitution variable the
    platform left as it was (Moodle sends `$Person.address.locality` itself when the person's field is empty)."""
    value = (custom.get(REGION_PARAMETER) or "").strip()
    if not value or value.startswith("$") or not is_bounded_text(value, MAX_REGION_LENGTH):
        return None
    return value


def _flag(value: Any) -> bool | None:
    """A JSON boolean; some platforms send "true"/"false" as strings. Anything else says nothing."""
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(value) if isinstance(value, str) else None


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
    resource_link = _resource_link(_object(body, CLAIM_RESOURCE_LINK, required=message_type == RESOURCE_LINK_REQUEST))
    deep_linking = _deep_linking(_object(body, CLAIM_DEEP_LINKING, required=message_type == DEEP_LINKING_REQUEST),
                                 base_url)
    context = _context(_object(body, CLAIM_CONTEXT, required=False))
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
        # Names are shown to others (rosters, the public verification page of a certificate): an override
        # character would make one read as another.
        given_name=person_name(_string(body, "given_name", required=False)),
        family_name=person_name(_string(body, "family_name", required=False)),
        name=person_name(_string(body, "name", required=False)),
        email=_string(body, "email", required=False),
        custom={name: value if isinstance(value, str) else _as_text(value) for name, value in custom.items()},
        lis=_lis(_object(body, CLAIM_LIS, required=False)),
        deep_linking=deep_linking,
        ags=_ags(_object(body, CLAIM_AGS, required=False), base_url),
        nrps=_nrps(_object(body, CLAIM_NRPS, required=False), base_url),
    )


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _optional(mapping: Mapping[str, Any], name: str) -> str | None:
    value = mapping.get(name)
    return value if isinstance(value, str) and value else None


def _resource_link(value: Mapping[str, Any] | None) -> ResourceLinkClaim | None:
    if value is None:
        return None
    if not (isinstance(value.get("id"), str) and value["id"]):
        raise _missing(CLAIM_RESOURCE_LINK + ".id")
    return ResourceLinkClaim(id=value["id"], title=_optional(value, "title"),
                             description=_optional(value, "description"))


def _context(value: Mapping[str, Any] | None) -> ContextClaim | None:
    if value is None:
        return None
    if not (isinstance(value.get("id"), str) and value["id"]):
        raise _missing(CLAIM_CONTEXT + ".id")
    # A null type is no type (check_shapes refused anything else that is not a list of strings).
    return ContextClaim(id=value["id"], label=_optional(value, "label"), title=_optional(value, "title"),
                        types=tuple(value.get("type") or ()))


def _lis(value: Mapping[str, Any] | None) -> LisClaim | None:
    if value is None:
        return None
    return LisClaim(person_sourcedid=_optional(value, "person_sourcedid"),
                    course_offering_sourcedid=_optional(value, "course_offering_sourcedid"),
                    course_section_sourcedid=_optional(value, "course_section_sourcedid"))


def _deep_linking(value: Mapping[str, Any] | None, base_url: str) -> DeepLinkingSettings | None:
    if value is None:
        return None
    return_url = value.get("deep_link_return_url")
    if return_url is None or return_url == "":
        raise _missing(CLAIM_DEEP_LINKING + ".deep_link_return_url")
    # The instructor's browser posts the signed answer there: a real platform URL, never a relative one.
    if not is_platform_url(return_url, base_url):
        raise _invalid(CLAIM_DEEP_LINKING + ".deep_link_return_url")
    accepted = value.get("accept_types")
    if not isinstance(accepted, list) or RESOURCE_LINK_ITEM not in accepted:
        raise ClaimError(N_("The platform does not accept links to activities."))
    multiple = _flag(value.get("accept_multiple"))
    return DeepLinkingSettings(
        return_url=return_url,
        accept_types=tuple(accepted),
        accept_presentation_document_targets=tuple(value.get("accept_presentation_document_targets") or ()),
        accept_media_types=_optional(value, "accept_media_types"),
        # Absent means the platform did not restrict it (Deep Linking 2.0, 4.4.1).
        accept_multiple=True if multiple is None else multiple,
        accept_lineitem=_flag(value.get("accept_lineitem")),
        auto_create=_flag(value.get("auto_create")) is True,
        title=_optional(value, "title"),
        text=_optional(value, "text"),
        # Returned verbatim; a platform that sends something other than a string gets nothing back.
        data=value["data"] if isinstance(value.get("data"), str) else None,
    )


def _service_url(value: Any, claim: str, base_url: str) -> str | None:
    """A service URL the tool will call with a bearer token: the platform's, never the tool's or a relative one."""
    if value is None or value == "":
        return None
    if not is_platform_url(value, base_url):
        raise _invalid(claim)
    return value


def _ags(value: Mapping[str, Any] | None, base_url: str) -> AgsEndpoint | None:
    if value is None:
        return None
    scopes = tuple(value.get("scope") or ())
    return AgsEndpoint(scopes=scopes,
                       lineitems=_service_url(value.get("lineitems"), CLAIM_AGS + ".lineitems", base_url),
                       lineitem=_service_url(value.get("lineitem"), CLAIM_AGS + ".lineitem", base_url))


def _nrps(value: Mapping[str, Any] | None, base_url: str) -> NrpsService | None:
    if value is None:
        return None
    url = _service_url(value.get("context_memberships_url"), CLAIM_NRPS + ".context_memberships_url", base_url)
    return None if url is None else NrpsService(url, tuple(value.get("service_versions") or ()))
