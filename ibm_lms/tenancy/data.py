"""Records and value types tenancy hands to other rooms (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The tool's three roles; LTI role URIs map onto them (roles.py)."""

    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    ADMINISTRATOR = "administrator"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.LEARNER: 0, Role.INSTRUCTOR: 1, Role.ADMINISTRATOR: 2}


@dataclass(frozen=True)
class TenantRecord:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class LaunchIdentity:
    """What a validated launch says about who is arriving, from where."""

    tenant_id: int
    issuer: str
    subject: str
    lti_roles: tuple[str, ...]
    given_name: str | None = None
    family_name: str | None = None
    name: str | None = None
    email: str | None = None
    lti_context_id: str | None = None
    context_label: str | None = None
    context_title: str | None = None
    context_types: tuple[str, ...] = ()
    region: str | None = None


@dataclass(frozen=True)
class RecordedIdentity:
    user_id: int
    tenant_id: int
    context_id: int | None
    role: Role
    display_name: str | None
    preferred_locale: str | None
    context_title: str | None = None


@dataclass(frozen=True)
class Identity:
    """The signed-in user of the current request, as the session holds it."""

    user_id: int
    tenant_id: int
    role: Role
    context_id: int | None
    display_name: str | None
    resource_link_id: int | None = None
    # The launch's course title as the platform named it: pages show it without asking the database.
    context_title: str | None = None


@dataclass(frozen=True)
class Person:
    issuer: str
    subject: str
    display_name: str | None
    region: str | None = None


@dataclass(frozen=True)
class RosterMember:
    """One member of a context as the platform's roster (NRPS) lists them."""

    subject: str
    lti_roles: tuple[str, ...]
    active: bool = True
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class RosterRecorded:
    active: int
    left: int


@dataclass(frozen=True)
class RosterEntry:
    """A member of a context, for the instructor's roster page."""

    user_id: int
    display_name: str | None
    subject: str
    role: Role
    active: bool
    last_launch_at: object
