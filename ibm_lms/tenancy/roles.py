"""LTI role URIs reduced to the tool's three roles (pure).

Several roles, short names and unknown roles are all legal in a launch; the most
privileged recognised one wins and anything unrecognised counts as Learner, the
least privileged role.
"""

from __future__ import annotations

from collections.abc import Iterable

from .data import Role

_ADMINISTRATOR_NAMES = {"administrator", "sysadmin", "sysSupport".lower(), "accountadmin"}
_INSTRUCTOR_NAMES = {"instructor", "contentdeveloper", "teachingassistant", "faculty"}
# Role vocabularies whose names we trust; anything else is treated as unknown.
_VOCABULARIES = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person",
    "http://purl.imsglobal.org/vocab/lis/v2/system/person",
    # LTI 1.3's deprecated form of a system or institution role; Moodle's roster names a site administrator so.
    "http://purl.imsglobal.org/vocab/lis/v2/person#",
)


def _role_name(uri: str) -> str | None:
    """The role's local name, or None for a URI outside the LIS vocabularies."""
    uri = uri.strip()
    if not uri:
        return None
    if "://" not in uri:
        # Short context role names ("Instructor") are deprecated but still sent.
        return uri.rsplit("#", 1)[-1].lower()
    if not uri.startswith(_VOCABULARIES):
        return None
    # A sub-role ("membership/Instructor#TeachingAssistant") is named by its fragment.
    return uri.rsplit("#", 1)[-1].rsplit("/", 1)[-1].lower()


def role_from_lti(roles: Iterable[str] | None) -> Role:
    best = Role.LEARNER
    for uri in roles or ():
        if not isinstance(uri, str):
            continue
        name = _role_name(uri)
        if name in _ADMINISTRATOR_NAMES:
            return Role.ADMINISTRATOR
        if name in _INSTRUCTOR_NAMES and best.rank < Role.INSTRUCTOR.rank:
            best = Role.INSTRUCTOR
    return best


_ACADEMY_ROLE_VOCABULARIES = (
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#",
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#",
    "http://purl.imsglobal.org/vocab/lis/v2/person#",
)


def is_academy_administrator(roles: Iterable[str] | None) -> bool:
    """An institution or system Administrator: someone who administers the academy's Moodle itself, not only
    one course (a context Administrator is not enough to take part in its certification decisions)."""
    for uri in roles or ():
        if isinstance(uri, str) and uri.strip().startswith(_ACADEMY_ROLE_VOCABULARIES) \
                and _role_name(uri) in _ADMINISTRATOR_NAMES:
            return True
    return False
