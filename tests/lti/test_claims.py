"""The pure claim checks, without HTTP."""

from __future__ import annotations

import pytest

from ibm_lms.lti.cache_control import max_age_seconds
from ibm_lms.lti.claims import ClaimError, check_claims, check_header, region_of
from ibm_lms.lti.data import LTI

NOW = 1_800_000_000
BASE = {
    "iss": "https://moodle.example",
    "aud": "client-1",
    "sub": "user-1",
    "exp": NOW + 60,
    "iat": NOW,
    "nonce": "n-1",
    LTI + "message_type": "LtiResourceLinkRequest",
    LTI + "version": "1.3.0",
    LTI + "deployment_id": "1",
    LTI + "target_link_uri": "https://tool.example/lms/courses/",
    LTI + "resource_link": {"id": "rl-1"},
    LTI + "roles": [],
}


def check(**changes):
    body = {**BASE, **changes}
    body = {k: v for k, v in body.items() if v is not None}
    return check_claims(body, issuer="https://moodle.example", client_id="client-1", now=NOW, skew=60,
                        max_age=3600, base_url="https://tool.example/lms")


def test_valid_claims_are_parsed():
    claims = check(**{LTI + "launch_presentation": {"locale": "ka-GE"}})
    assert claims.locale == "ka-GE" and claims.roles == () and claims.context is None


def test_bidirectional_controls_are_removed_from_names():
    claims = check(name="\u202eeznaM anirI", given_name="\u2067Irina\u2069", family_name="\u202d\u202c")
    assert (claims.name, claims.given_name, claims.family_name) == ("eznaM anirI", "Irina", None)
    assert check(name="\u0646\u064a\u0646\u0648").name == "\u0646\u064a\u0646\u0648"  # an Arabic name as sent


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": NOW - 61}, "expired"),
        ({"iat": NOW + 61}, "future"),
        ({"iat": NOW - 3601}, "too old"),
        ({"nbf": NOW + 120}, "not valid yet"),
        ({"exp": "soon"}, "invalid value"),
        ({"aud": ["client-1", "other"]}, "azp"),
        ({"aud": 5}, "audience"),
        ({LTI + "target_link_uri": "https://tool.example/lmsevil/"}, "not part of this tool"),
        ({LTI + "target_link_uri": "http://tool.example/lms/courses/"}, "not part of this tool"),
        ({LTI + "context": {"title": "no id"}}, "context.id"),
        ({"sub": ""}, "sub"),
        ({"given_name": 5}, "given_name"),
        ({LTI + "message_type": "LtiDeepLinkingRequest"}, "deep_linking_settings"),
        *[({LTI + "message_type": "LtiDeepLinkingRequest",
            "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
                "deep_link_return_url": url, "accept_types": ["ltiResourceLink"]}}, reason)
          for url, reason in (("/mod/lti/contentitem_return.php", "invalid value"),
                              ("http://moodle.example/return", "invalid value"),
                              ("javascript:alert(1)", "invalid value"),
                              ("", "deep_link_return_url"))],
    ],
)
def test_refusals_name_their_reason(changes, reason):
    with pytest.raises(ClaimError) as raised:
        check(**changes)
    assert reason in str(raised.value)


def test_skew_is_tolerated():
    assert check(exp=NOW - 30, iat=NOW + 30).subject == "user-1"


@pytest.mark.parametrize("header", [{"alg": "none", "kid": "k"}, {"alg": "HS256", "kid": "k"},
                                    {"alg": "ES256", "kid": "k"}, {"alg": "RS256"}, {"alg": "RS256", "kid": 5}])
def test_headers_refused(header):
    with pytest.raises(ClaimError):
        check_header(header)


def test_header_accepted():
    assert check_header({"alg": "RS256", "kid": "k1"}) == ("RS256", "k1")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, 3600),
        ("max-age=600", 600),
        ("public, s-maxage=900, max-age=600", 900),
        ("no-store", 60),
        ("max-age=5", 60),
        ("max-age=99999999", 86400),
        ("max-age=abc", 3600),
    ],
)
def test_cache_control(header, expected):
    assert max_age_seconds(header, 3600) == expected


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "another-tool"}, "not addressed to this tool"),
        ({"aud": ["another-tool", "a-third-tool"], "azp": "another-tool"}, "not addressed to this tool"),
        ({"iss": "https://evil.example"}, "issuer does not match"),
        # The audience list names us, but the party the token was issued for is another tool.
        ({"aud": ["client-1", "another-tool"], "azp": "another-tool"}, "authorised party"),
        ({"aud": "client-1", "azp": "another-tool"}, "authorised party"),
    ],
)
def test_audience_issuer_and_authorised_party_are_checked_here(changes, reason):
    # pylti1p3's registration lookup would hide a missing check: call the claim checks on their own.
    with pytest.raises(ClaimError) as refused:
        check(**changes)
    assert reason in str(refused.value)


def test_an_audience_list_with_us_as_authorised_party_passes():
    assert check(aud=["client-1", "another-tool"], azp="client-1").client_id == "client-1"


def test_the_claims_come_out_typed():
    claims = check(**{
        LTI + "context": {"id": "c-1", "label": "IBM-101", "title": "Border checks\nspring", "type": None},
        LTI + "resource_link": {"id": "rl-1", "title": "Lesson 1"},
        LTI + "custom": {"course": "risk-analysis", "attempts": 3, "graded": True},
        LTI + "lis": {"person_sourcedid": "SIS-42"},
    })
    assert (claims.context.id, claims.context.title, claims.context.types) == ("c-1", "Border checks\nspring", ())
    assert (claims.resource_link.id, claims.resource_link.title) == ("rl-1", "Lesson 1")
    assert claims.custom == {"course": "risk-analysis", "attempts": "3", "graded": "true"}
    assert claims.lis.person_sourcedid == "SIS-42" and claims.lis.course_offering_sourcedid is None


@pytest.mark.parametrize("custom", [{"nested": {"a": 1}}, {"list": [1]}, {"bad\nname": "x"}, "a string"])
def test_custom_parameters_must_be_a_flat_map_of_names(custom):
    from ibm_lms.lti.claims import check_shapes

    with pytest.raises(ClaimError):
        check_shapes({**BASE, LTI + "custom": custom})


@pytest.mark.parametrize(("sent", "kept"), [
    ({"region": "Adjara Regional Directorate"}, "Adjara Regional Directorate"),
    ({"region": "  Lori  "}, "Lori"),
    ({"region": "$Person.address.locality"}, None),
    ({"region": "   "}, None),
    ({"region": "x" * 101}, None),
    ({"region": "two\nlines"}, None),
    ({}, None),
])
def test_a_region_is_one_short_line_of_text(sent, kept):
    assert region_of(sent) == kept


DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def _deep_linking(**settings):
    return {LTI + "message_type": "LtiDeepLinkingRequest", LTI + "resource_link": None,
            DL_SETTINGS: {"deep_link_return_url": "https://moodle.example/mod/lti/contentitem_return.php",
                          "accept_types": ["ltiResourceLink"], **settings}}


@pytest.mark.parametrize(("changes", "reason"), [
    # Absent and wrong are told apart: a platform's administrator fixes each differently.
    ({LTI + "roles": None}, "missing the required claim " + LTI + "roles"),
    ({"exp": None}, "missing the required claim exp"),
    (_deep_linking(deep_link_return_url=""), "missing the required claim " + DL_SETTINGS + ".deep_link_return_url"),
    (_deep_linking(accept_types=["file", "html"]), "does not accept links to activities"),
    (_deep_linking(accept_types="ltiResourceLink"), "does not accept links to activities"),
    ({AGS: {"scope": [AGS_SCOPE], "lineitems": "/mod/lti/services.php/2/lineitems"}}, AGS + ".lineitems"),
    ({AGS: {"scope": [AGS_SCOPE], "lineitem": "javascript:alert(1)"}}, AGS + ".lineitem"),
    ({NRPS: {"context_memberships_url": "ftp://moodle.example/members", "service_versions": ["2.0"]}},
     NRPS + ".context_memberships_url"),
    ({LTI + "roles": "Learner"}, "claim " + LTI + "roles has an invalid value"),
    ({LTI + "roles": [5]}, "claim " + LTI + "roles has an invalid value"),
    ({LTI + "context": "IBM-101"}, "claim " + LTI + "context has an invalid value"),
    ({"nonce": 5}, "nonce"),
])
def test_each_refusal_names_the_claim_and_whether_it_is_absent_or_wrong(changes, reason):
    with pytest.raises(ClaimError) as refused:
        check(**changes)
    assert reason in str(refused.value)


def test_deep_linking_flags_and_services_come_out_typed():
    claims = check(**_deep_linking(accept_multiple="false", auto_create=True, accept_lineitem="true"),
                   **{AGS: {"scope": [AGS_SCOPE], "lineitems": "https://moodle.example/li"},
                      NRPS: {"context_memberships_url": "https://moodle.example/m", "service_versions": ["2.0"]}})
    settings = claims.deep_linking
    assert (settings.accept_multiple, settings.auto_create, settings.accept_lineitem) == (False, True, True)
    assert settings.accept_presentation_document_targets == ()
    assert claims.ags.scopes == (AGS_SCOPE,) and claims.ags.lineitems == "https://moodle.example/li"
    assert claims.ags.lineitem is None
    assert (claims.nrps.memberships_url, claims.nrps.versions) == ("https://moodle.example/m", ("2.0",))
    unrestricted = check(**_deep_linking()).deep_linking
    assert (unrestricted.accept_multiple, unrestricted.auto_create, unrestricted.accept_lineitem) == (True, False, None)


@pytest.mark.parametrize("body", [
    {LTI + "context": {"id": "c-1", "type": [5]}},
    {DL_SETTINGS: {"accept_types": ["ltiResourceLink"] * 33}},
    {DL_SETTINGS: {"accept_presentation_document_targets": [5]}},
    {AGS: {"scope": [AGS_SCOPE] * 33}},
    {AGS: {"scope": AGS_SCOPE}},
    {NRPS: {"service_versions": [2.0]}},
    {LTI + "custom": {f"p{n}": "x" for n in range(101)}},
    {LTI + "custom": {"note": "x" * 4097}},
])
def test_claims_of_the_wrong_shape_are_refused_before_any_lookup(body):
    from ibm_lms.lti.claims import check_shapes

    with pytest.raises(ClaimError):
        check_shapes({**BASE, **body})


def test_an_empty_optional_text_is_no_text():
    link = check(**{LTI + "resource_link": {"id": "rl-1", "title": "", "description": ""}}).resource_link
    assert (link.title, link.description) == (None, None)


def test_titles_may_span_lines_and_identifiers_may_not():
    from ibm_lms.lti.claims import check_shapes

    check_shapes({**BASE, LTI + "context": {"id": "c-1", "title": "Border checks\nspring"}})
    with pytest.raises(ClaimError):
        check_shapes({**BASE, LTI + "context": {"id": "c-1\nc-2"}})


def test_claims_of_the_right_shape_pass_the_shape_check():
    from ibm_lms.lti.claims import check_shapes

    check_shapes({**BASE, LTI + "context": {"id": "c-1", "type": ["CourseOffering"]},
                  DL_SETTINGS: {"accept_types": ["ltiResourceLink"]}, AGS: {"lineitems": "https://moodle.example/li"},
                  NRPS: {"context_memberships_url": "https://moodle.example/m"},
                  LTI + "custom": {f"p{n}": n for n in range(98)} | {"flag": True, "note": "x" * 4096}})
