"""Role mapping and tenant isolation."""

from __future__ import annotations

import pytest

from ibm_lms.tenancy import service
from ibm_lms.tenancy.data import LaunchIdentity
from ibm_lms.tenancy.errors import InvalidTenantSlug
from ibm_lms.tenancy.roles import Role, is_academy_administrator, role_from_lti

M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([M + "Learner"], Role.LEARNER),
        ([M + "ContentDeveloper"], Role.INSTRUCTOR),
        ([M + "Mentor"], Role.LEARNER),
        (["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator", M + "Learner"],
         Role.ADMINISTRATOR),
        (["TeachingAssistant"], Role.INSTRUCTOR),
        # Moodle's roster (NRPS) names a site administrator in the deprecated person vocabulary.
        (["Instructor", "http://purl.imsglobal.org/vocab/lis/v2/person#Administrator"], Role.ADMINISTRATOR),
        (["http://purl.imsglobal.org/vocab/lis/v2/personal#Administrator"], Role.LEARNER),
        (["https://evil.example/vocab#Administrator"], Role.LEARNER),
        ([None, 5, ""], Role.LEARNER),
        (None, Role.LEARNER),
    ],
)
def test_role_from_lti(roles, expected):
    assert role_from_lti(roles) == expected


@pytest.mark.parametrize(("roles", "expected"), [
    (["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"], True),
    (["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"], True),
    (["Instructor", "http://purl.imsglobal.org/vocab/lis/v2/person#Administrator"], True),
    ([M + "Administrator"], False),
    (["Administrator"], False),
])
def test_an_academy_administrator_administers_the_moodle_itself(roles, expected):
    assert is_academy_administrator(roles) is expected


def test_tenant_slugs_are_validated(app):
    with pytest.raises(InvalidTenantSlug):
        service.ensure_tenant("Not A Slug")
    assert service.ensure_tenant("ge-academy").slug == "ge-academy"
    assert service.ensure_tenant("ge-academy").id == service.get_tenant("ge-academy").id


def _identity(tenant_id: int, issuer: str, context: str) -> LaunchIdentity:
    return LaunchIdentity(tenant_id=tenant_id, issuer=issuer, subject="42", lti_roles=(M + "Learner",),
                          name="Officer", lti_context_id=context, context_title=f"Course of {issuer}")


def test_same_subject_on_two_platforms_is_two_users_in_two_tenants(app):
    georgia = service.ensure_tenant("ge")
    moldova = service.ensure_tenant("md")
    first = service.record_launch_identity(_identity(georgia.id, "https://moodle.ge", "c1"))
    second = service.record_launch_identity(_identity(moldova.id, "https://moodle.md", "c1"))
    assert first.user_id != second.user_id and first.context_id != second.context_id
    assert service.count_users(georgia.id) == 1 and service.count_users(moldova.id) == 1
    # Each launch names its own course, and the session takes the title from there.
    assert (first.context_title, second.context_title) == ("Course of https://moodle.ge", "Course of https://moodle.md")


def test_preferred_locale_is_scoped_by_tenant(app):
    georgia = service.ensure_tenant("ge")
    moldova = service.ensure_tenant("md")
    recorded = service.record_launch_identity(_identity(georgia.id, "https://moodle.ge", "c1"))
    service.set_preferred_locale(moldova.id, recorded.user_id, "ro")
    again = service.record_launch_identity(_identity(georgia.id, "https://moodle.ge", "c1"))
    assert again.preferred_locale is None
    service.set_preferred_locale(georgia.id, recorded.user_id, "ka")
    assert service.record_launch_identity(_identity(georgia.id, "https://moodle.ge", "c1")).preferred_locale == "ka"
