"""The tenancy room's door: tenants, the identities launches bring, and the session's signed-in user.

The session functions live in `session.py` and `session_transport.py`; they are handed out here so
that other rooms have one module to import from this room (with `data.py` for its records).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, and_, func, select, update

from ibm_lms.audit import service as audit
from ibm_lms.clock import utcnow
from ibm_lms.database import recent_writes, upsert
from ibm_lms.extensions import db
from ibm_lms.text import BIDI_CONTROLS, SLUG, is_bounded_text
from ibm_lms.unit_of_work import unit_of_work

from .data import (
    LaunchIdentity,
    Person,
    RecordedIdentity,
    Role,
    RosterEntry,
    RosterMember,
    RosterRecorded,
    TenantRecord,
)
from .errors import InvalidTenantName, InvalidTenantSlug, TenantExists, UnknownPerson, UnknownTenant
from .models import Context, Enrolment, Tenant, User
from .roles import is_academy_administrator, role_from_lti
from .session import (
    choose_locale,
    chosen_locale,
    current_identity,
    deep_link_request_id,
    forget_deep_link_request,
    login_required,
    require_identity,
    role_required,
    sign_in,
)
from .session_transport import sessionless, travels_in_urls, url_sessions_possible, with_token


def _record(tenant: Tenant) -> TenantRecord:
    return TenantRecord(id=tenant.id, slug=tenant.slug, name=tenant.name)


def ensure_tenant(slug: str, name: str | None = None) -> TenantRecord:
    """Returns the tenant, creating it if new. The caller commits."""
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise InvalidTenantSlug()
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        tenant = Tenant(slug=slug, name=name or slug)
        db.session.add(tenant)
        db.session.flush()
    return _record(tenant)


def add_tenant(slug: str, name: str | None, *, actor: str) -> TenantRecord:
    """Creates an academy; refused when the slug is taken (a typo of an existing one stays visible)."""
    with unit_of_work():
        if not isinstance(slug, str) or not SLUG.match(slug):
            raise InvalidTenantSlug()
        if db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).first() is not None:
            raise TenantExists(slug=slug)
        made = ensure_tenant(slug, _tenant_name(name or slug))
        audit.record(actor=actor, action="tenant.added", subject=f"tenant {slug}", details={"name": made.name},
                     tenant_id=made.id)
    return made


def rename_tenant(slug: str, name: str, *, actor: str) -> TenantRecord:
    with unit_of_work():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
        if tenant is None:
            raise UnknownTenant(slug=slug[:64])
        before, tenant.name = tenant.name, _tenant_name(name)
        audit.record(actor=actor, action="tenant.renamed", subject=f"tenant {slug}",
                     details={"from": before, "to": tenant.name}, tenant_id=tenant.id)
        return _record(tenant)


def _tenant_name(name: str) -> str:
    cleaned = " ".join(name.split()) if isinstance(name, str) else ""
    if not is_bounded_text(cleaned, 255) or BIDI_CONTROLS.search(cleaned):
        raise InvalidTenantName()
    return cleaned


def tenant_overview() -> list[dict]:
    """Every academy with its size, for administrators' listings."""
    users = {tenant_id: count for tenant_id, count in db.session.execute(
        select(User.tenant_id, func.count(User.id)).group_by(User.tenant_id))}
    return [{"slug": t.slug, "name": t.name, "created_at": t.created_at, "users": users.get(t.id, 0)}
            for t in db.session.execute(select(Tenant).order_by(Tenant.slug)).scalars()]


def get_tenant(slug: str) -> TenantRecord:
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        raise UnknownTenant(slug=slug)
    return _record(tenant)


def get_tenant_by_id(tenant_id: int) -> TenantRecord:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        raise UnknownTenant(slug=str(tenant_id))
    return _record(tenant)


def list_tenants() -> list[TenantRecord]:
    return [_record(t) for t in db.session.execute(select(Tenant).order_by(Tenant.slug)).scalars()]


def record_launch_identity(identity: LaunchIdentity, *, needs_preferred_locale: bool = True) -> RecordedIdentity:
    """Upserts the user, the context and the enrolment a launch describes. The caller commits.

    A row this process wrote moments ago with the same values is not written again (RecentWrites);
    the user's preferred locale is then the one of that write, unless `needs_preferred_locale`
    (the launch names no language of ours, so the user's own choice decides).

    Personal fields are overwritten with exactly what this launch shared, so a
    platform that stops sharing names or emails also stops us holding them.
    """
    now = utcnow()
    role = role_from_lti(identity.lti_roles)
    personal = {
        "given_name": identity.given_name,
        "family_name": identity.family_name,
        "name": identity.name,
        "email": identity.email,
        "region": identity.region,
        "academy_administrator": is_academy_administrator(identity.lti_roles),
    }
    # Relaunches with unchanged details skip their rewrite for a while (see RecentWrites).
    user_id, preferred = recent_writes("users").upsert(
        User.__table__,
        {
            "tenant_id": identity.tenant_id,
            "issuer": identity.issuer,
            "subject": identity.subject,
            "created_at": now,
            "last_seen_at": now,
            **personal,
        },
        conflict_on=("issuer", "subject"),
        update=("last_seen_at", *personal),
        returning=("id", "preferred_locale"),
        volatile=("created_at", "last_seen_at"),
        reuse=not needs_preferred_locale,
    )
    context_id = None
    if identity.lti_context_id:
        (context_id,) = recent_writes("contexts").upsert(
            Context.__table__,
            {
                "tenant_id": identity.tenant_id,
                "issuer": identity.issuer,
                "lti_context_id": identity.lti_context_id,
                "label": identity.context_label,
                "title": identity.context_title,
                "types": list(identity.context_types),
                "updated_at": now,
            },
            conflict_on=("issuer", "lti_context_id"),
            update=("label", "title", "types", "updated_at"),
            volatile=("updated_at",),
        )
        recent_writes("enrolments").upsert(
            Enrolment.__table__,
            {
                "tenant_id": identity.tenant_id,
                "user_id": user_id,
                "context_id": context_id,
                "role": role.value,
                "lti_roles": list(identity.lti_roles),
                "last_launch_at": now,
                # Launching from the course makes a member of it again, whatever an earlier roster said.
                "active": True,
                "left_at": None,
            },
            conflict_on=("user_id", "context_id"),
            update=("role", "lti_roles", "last_launch_at", "active", "left_at"),
            volatile=("last_launch_at",),
        )
    return RecordedIdentity(
        user_id=user_id,
        tenant_id=identity.tenant_id,
        context_id=context_id,
        role=role,
        display_name=_display_name(identity),
        preferred_locale=preferred,
        context_title=(identity.context_title or identity.context_label) if context_id is not None else None,
    )


def _display_name(identity: LaunchIdentity) -> str | None:
    if identity.name:
        return identity.name
    parts = [p for p in (identity.given_name, identity.family_name) if p]
    if parts:
        return " ".join(parts)
    return identity.email


def set_preferred_locale(tenant_id: int, user_id: int, locale: str) -> None:
    """Remembers a user's own language choice. The caller commits."""
    db.session.execute(
        update(User).where(User.id == user_id, User.tenant_id == tenant_id).values(preferred_locale=locale)
    )


def preferred_locale(tenant_id: int, user_id: int) -> str | None:
    """The language a user chose for themselves in this tool, if they ever did."""
    return db.session.execute(select(User.preferred_locale).where(
        User.id == user_id, User.tenant_id == tenant_id)).scalar_one_or_none()


def record_roster(tenant_id: int, issuer: str, context_id: int, members: list[RosterMember], *,
                  full: bool) -> RosterRecorded:
    """Records a context's members as the platform listed them. The caller commits.

    A full list makes everyone it leaves out inactive; a list of differences changes only those it
    names. Nobody is deleted: a trainee who left keeps every result."""
    now = utcnow()
    listed = set()
    for member in members:
        personal = {k: v for k, v in (("name", member.name), ("given_name", member.given_name),
                                      ("family_name", member.family_name), ("email", member.email)) if v}
        (user_id,) = upsert(User.__table__, {"tenant_id": tenant_id, "issuer": issuer, "subject": member.subject,
                                             "created_at": now, "last_seen_at": now, **personal},
                            conflict_on=("issuer", "subject"), update=tuple(personal) or ("subject",))
        listed.add(user_id)
        upsert(Enrolment.__table__, {"tenant_id": tenant_id, "user_id": user_id, "context_id": context_id,
                                     "role": role_from_lti(member.lti_roles).value,
                                     "lti_roles": list(member.lti_roles), "active": member.active,
                                     "left_at": None if member.active else now, "last_launch_at": None},
               conflict_on=("user_id", "context_id"), update=("role", "lti_roles", "active", "left_at"))
    left = 0
    if full:
        left = db.session.execute(
            update(Enrolment).where(Enrolment.tenant_id == tenant_id, Enrolment.context_id == context_id,
                                    Enrolment.active.is_(True), Enrolment.user_id.not_in(listed or {0}))
            .values(active=False, left_at=now)).rowcount
    active = sum(1 for m in members if m.active)
    return RosterRecorded(active=active, left=left + sum(1 for m in members if not m.active))


def roster(tenant_id: int, context_id: int) -> list[RosterEntry]:
    rows = db.session.execute(
        select(User, Enrolment).join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.context_id == context_id, Enrolment.tenant_id == tenant_id, User.tenant_id == tenant_id)
    ).all()
    entries = [RosterEntry(user_id=user.id, display_name=user.name or " ".join(
        p for p in (user.given_name, user.family_name) if p) or user.email, subject=user.subject,
        role=Role(enrolment.role), active=enrolment.active, last_launch_at=enrolment.last_launch_at)
        for user, enrolment in rows]
    return sorted(entries, key=lambda e: (not e.active, -e.role.rank, (e.display_name or e.subject).casefold()))


def subject_of(tenant_id: int, user_id: int) -> tuple[str, str]:
    """The (issuer, sub) a platform knows the user by: what its services (grades, rosters) need."""
    row = db.session.execute(
        select(User.issuer, User.subject).where(User.id == user_id, User.tenant_id == tenant_id)
    ).first()
    if row is None:
        raise UnknownTenant(slug=str(tenant_id))
    return row.issuer, row.subject


def gradebook_subject(tenant_id: int, user_id: int, context_id: int | None) -> str | None:
    """The sub a platform's gradebook knows a learner by; None for someone it does not grade in the context, an
    instructor or administrator trying an activity (Moodle grades its students only and refuses other scores)."""
    row = db.session.execute(
        select(User.subject, Enrolment.role).outerjoin(Enrolment, and_(
            Enrolment.user_id == User.id, Enrolment.tenant_id == tenant_id, Enrolment.context_id == context_id))
        .where(User.id == user_id, User.tenant_id == tenant_id)).first()
    if row is None:
        raise UnknownTenant(slug=str(tenant_id))
    return row.subject if row.role in (None, Role.LEARNER) else None


def person_of(tenant_id: int, user_id: int) -> Person:
    """Who a user is on their platform, with the name the platform shared (if any)."""
    user = db.session.execute(select(User).where(User.id == user_id, User.tenant_id == tenant_id)).scalar_one_or_none()
    if user is None:
        raise UnknownTenant(slug=str(tenant_id))
    name = user.name or " ".join(p for p in (user.given_name, user.family_name) if p) or None
    return Person(issuer=user.issuer, subject=user.subject, display_name=name)


def audit_name(tenant_id: int, user_id: int) -> str:
    """How the audit trail names a person acting in the browser: ISSUER:SUB, what the command line accepts back."""
    issuer, subject = subject_of(tenant_id, user_id)
    return f"{issuer}:{subject}"


# What a person may do beyond their academy, named from the command line only (never by a launch): a tool operator
# replaces the signing key every academy's Moodle trusts; a regional coordinator reads every academy's counts.
TOOL_OPERATOR, REGIONAL_COORDINATOR = "tool_operator", "regional_coordinator"
_CROSS_ACADEMY_ROLES = {TOOL_OPERATOR: User.tool_operator, REGIONAL_COORDINATOR: User.regional_coordinator}


def _named(who: str) -> User:
    """The user named ISSUER:SUB (an issuer is a URL with colons of its own, so each colon is tried)."""
    text = who.strip() if isinstance(who, str) else ""
    for position in [index for index, character in enumerate(text) if character == ":"]:
        issuer, subject = text[:position], text[position + 1:]
        if is_bounded_text(issuer, 255) and is_bounded_text(subject, 255):
            user = db.session.execute(select(User).where(User.issuer == issuer, User.subject == subject)
                                      ).scalar_one_or_none()
            if user is not None:
                return user
    raise UnknownPerson(who=text[:300])


def set_cross_academy_role(who: str, role: str, granted: bool, *, actor: str) -> bool:
    """Grants or takes back a cross-academy role of a person who has launched once; False when nothing changed.
    Audited: either role reaches beyond the person's own academy."""
    column = _CROSS_ACADEMY_ROLES[role]
    with unit_of_work():
        user = _named(who)
        if getattr(user, column.key) == granted:
            return False
        setattr(user, column.key, granted)
        audit.record(actor=actor, action=f"{role}.{'added' if granted else 'removed'}",
                     subject=f"person {user.issuer}:{user.subject}"[:300], tenant_id=user.tenant_id, details={})
    return True


def holders_of(role: str) -> list[tuple[str, Person]]:
    """Everyone holding a cross-academy role, with the slug of the academy they launch from."""
    rows = db.session.execute(select(Tenant.slug, User).join(Tenant, Tenant.id == User.tenant_id)
                              .where(_CROSS_ACADEMY_ROLES[role].is_(True)).order_by(User.issuer, User.subject)).all()
    return [(slug, Person(issuer=user.issuer, subject=user.subject, display_name=_name(user))) for slug, user in rows]


def holds(role: str, tenant_id: int, user_id: int) -> bool:
    return bool(db.session.execute(select(_CROSS_ACADEMY_ROLES[role]).where(
        User.id == user_id, User.tenant_id == tenant_id)).scalar_one_or_none())


def lti_context_of(tenant_id: int, context_id: int | None) -> str | None:
    """The platform's own id of a context (a Moodle course), as its reports name it."""
    if context_id is None:
        return None
    return db.session.execute(select(Context.lti_context_id).where(
        Context.id == context_id, Context.tenant_id == tenant_id)).scalar_one_or_none()


def academy_administrators(tenant_id: int, user_ids: Iterable[int] | None = None) -> set[int]:
    """The academy's users whose last launch came with an institution or system Administrator role."""
    query = select(User.id).where(User.tenant_id == tenant_id, User.academy_administrator.is_(True))
    if user_ids is not None:
        query = query.where(User.id.in_(list(user_ids)))
    return set(db.session.execute(query).scalars())


def user_id_of_issuer(tenant_id: int, issuer: str) -> int | None:
    """Any one of the academy's users who came from this issuer (None if nobody did)."""
    return db.session.execute(select(User.id).where(User.tenant_id == tenant_id, User.issuer == issuer)
                              .limit(1)).scalar_one_or_none()


def user_id_of(tenant_id: int, issuer: str, subject: str) -> int | None:
    """The academy's user known by (issuer, sub); None for a stranger or a user of another academy."""
    if not (is_bounded_text(issuer, 255) and is_bounded_text(subject, 255)):
        return None
    return db.session.execute(select(User.id).where(User.tenant_id == tenant_id, User.issuer == issuer,
                                                    User.subject == subject)).scalar_one_or_none()


def people(tenant_id: int, user_ids: Iterable[int]) -> dict[int, Person]:
    """The academy's users among `user_ids`, with the names their platform shared; others are left out."""
    wanted, found = sorted(set(user_ids)), {}
    for start in range(0, len(wanted), 1000):
        for user in db.session.execute(select(User.id, User.issuer, User.subject, User.name, User.given_name,
                                              User.family_name, User.region).where(
                User.tenant_id == tenant_id, User.id.in_(wanted[start:start + 1000]))):
            found[user.id] = Person(issuer=user.issuer, subject=user.subject, display_name=_name(user),
                                    region=user.region)
    return found


def count_by_region(tenant_id: int, keyed_users: Select) -> dict[tuple[str | None, object], int]:
    """How many of the academy's users there are per (region they last launched with, key), among `keyed_users`,
    a query of distinct (key, user id) rows: counts by region counted by the database, without the people."""
    rows = keyed_users.subquery()
    key, user_id = rows.c[0], rows.c[1]
    return {(region, found_key): count for region, found_key, count in db.session.execute(
        select(User.region, key, func.count()).join(rows, user_id == User.id).where(User.tenant_id == tenant_id)
        .group_by(User.region, key))}


def find_people(tenant_id: int, text: str, limit: int = 50) -> list[tuple[int, Person]]:
    """The academy's users whose name, email or platform id contains `text` (for pickers)."""
    query = select(User.id, User.issuer, User.subject, User.name, User.given_name, User.family_name).where(
        User.tenant_id == tenant_id)
    text = (text or "").strip()[:100]
    if text:
        pattern = "%" + text.replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(User.name.ilike(pattern) | User.email.ilike(pattern) | User.subject.ilike(pattern)
                            | User.family_name.ilike(pattern) | User.given_name.ilike(pattern))
    rows = db.session.execute(query.order_by(User.family_name, User.name, User.id).limit(limit))
    return [(row.id, Person(issuer=row.issuer, subject=row.subject, display_name=_name(row))) for row in rows]


def _name(row) -> str | None:
    return row.name or " ".join(p for p in (row.given_name, row.family_name) if p) or None


def count_users(tenant_id: int) -> int:
    return db.session.execute(select(func.count(User.id)).where(User.tenant_id == tenant_id)).scalar_one()


__all__ = [
    "REGIONAL_COORDINATOR",
    "TOOL_OPERATOR",
    "academy_administrators",
    "add_tenant",
    "audit_name",
    "choose_locale",
    "chosen_locale",
    "count_by_region",
    "count_users",
    "current_identity",
    "deep_link_request_id",
    "ensure_tenant",
    "find_people",
    "forget_deep_link_request",
    "get_tenant",
    "get_tenant_by_id",
    "holders_of",
    "holds",
    "list_tenants",
    "login_required",
    "lti_context_of",
    "people",
    "person_of",
    "preferred_locale",
    "record_launch_identity",
    "record_roster",
    "rename_tenant",
    "require_identity",
    "role_required",
    "roster",
    "sessionless",
    "set_cross_academy_role",
    "set_preferred_locale",
    "sign_in",
    "subject_of",
    "tenant_overview",
    "travels_in_urls",
    "url_sessions_possible",
    "user_id_of",
    "user_id_of_issuer",
    "with_token",
]
