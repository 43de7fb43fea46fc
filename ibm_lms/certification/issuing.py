"""Turning a confirmed decision into a signed credential in the holder's language, publishing what verifiers need
(the issuer's profile, keys and revocation list), and checking credentials against them."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import jwt
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select

from ibm_lms.config import require_public_address
from ibm_lms.content import service as content
from ibm_lms.errors import DomainError
from ibm_lms.extensions import db
from ibm_lms.i18n.data import pick_text
from ibm_lms.markers import N_
from ibm_lms.quiz import service as quiz
from ibm_lms.tenancy import service as tenancy
from ibm_lms.web import tool_url

from . import credentials, keys, programmes
from .models import Certification
from .rules import Programme, programme_to_table
from .texts import requirement

_RANDOM = random.SystemRandom()


def area_title(area: str, tenant_id: int, locale: str) -> str:
    try:
        return content.course_title(area, tenant_id, locale).text
    except DomainError:  # a course retired from the catalogue still names its certificates
        return area


def programme_title(programme: Programme, tenant_id: int, locale: str) -> str:
    """“Certified Trainer: Document security …” in the current locale."""
    return gettext("%(level)s: %(area)s", level=gettext(programme.level.title),
                   area=area_title(programme.area, tenant_id, locale))


def titles(tenant_id: int, locale: str):
    """A function naming a course or a programme by its key, or a course's quiz by the course and its key, for
    requirement texts."""
    known = {record.key: record.programme for record in programmes.current(tenant_id)}
    named: dict[str, str] = {}
    quizzes: dict[str, dict[str, dict[str, str]]] = {}

    def quiz_title(course: str, key: str) -> str:
        if course not in quizzes:
            try:
                quizzes[course] = quiz.quiz_titles(course, tenant_id)
            except DomainError:  # a course retired from the catalogue
                quizzes[course] = {}
        return pick_text(quizzes[course].get(key), locale).text or key

    def title(key: str, quiz_key: str | None = None) -> str:
        if quiz_key is not None:
            return quiz_title(key, quiz_key)
        # A dashboard names the same few programmes and courses hundreds of times.
        if key not in named:
            named[key] = programme_title(known[key], tenant_id, locale) if key in known else \
                area_title(key, tenant_id, locale)
        return named[key]
    return title


def holder_uri(tenant_id: int, user_id: int) -> str:
    """A stable id for the holder that reveals nothing of their platform account."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{current_app.config['BASE_URL']}/holders/"
                                                            f"{tenant_id}/{user_id}"))


def _free_index(tenant_id: int) -> int:
    """A random unused place in the academy's list, so that an index says nothing about when or in which order
    credentials were issued. Draws a few at once and keeps the first unused: one indexed query, however many
    credentials exist (the unique constraint settles a race between two issuers)."""
    for _ in range(50):
        draws = {_RANDOM.randrange(credentials.STATUS_LIST_BITS) for _ in range(16)}
        used = set(db.session.execute(select(Certification.status_index).where(
            Certification.tenant_id == tenant_id, Certification.status_index.in_(draws))).scalars())
        free = sorted(draws - used)
        if free:
            return _RANDOM.choice(free)
    raise RuntimeError("this academy's revocation list is nearly full")


def issue(row: Certification, programme: Programme) -> None:
    """Signs the credential of a confirmed decision and stores it on the row. The caller commits."""
    # A signed issuer address cannot be corrected afterwards.
    require_public_address(current_app.config)
    tenant = tenancy.get_tenant_by_id(row.tenant_id)
    row.status_index = _free_index(row.tenant_id)
    table = programme_to_table(programme)
    path = table["renewal"]["requirements"] if row.path == "renewal" and "renewal" in table else table["requirements"]
    with force_locale(row.locale):
        area = area_title(programme.area, row.tenant_id, row.locale)
        name = programme_title(programme, row.tenant_id, row.locale)
        description = gettext("The holder is certified by %(academy)s to train officers in “%(area)s” and to pass "
                              "the course on in their own service.", academy=tenant.name, area=area)
        if row.path == "imported":
            criteria = gettext("Certified by the academy before this tool kept its records; the decision was "
                               "recorded by two approvers.")
        else:
            title = titles(row.tenant_id, row.locale)
            criteria = " ".join(requirement(item, title) for item in path)
    document = credentials.credential(credentials.Content(
        credential_id=row.id, verify_url=tool_url("certification.verify", credential_id=row.id),
        issuer_id=issuer_id(tenant.slug), issuer_name=tenant.name,
        achievement_id=tool_url("certification.achievement", tenant=tenant.slug, key=programme.key),
        achievement_name=name, achievement_description=description, criteria=criteria,
        level=programme.level.value, area=programme.area, area_title=area,
        area_url=tool_url("certification.achievement", tenant=tenant.slug, key=programme.key),
        holder_id=holder_uri(row.tenant_id, row.holder_id), holder_name=row.holder_name or "",
        valid_from=row.valid_from, valid_until=row.valid_until, locale=row.locale,
        status_list_url=status_list_url(tenant.slug), status_index=row.status_index,
        sqf_level=programme.sqf_level))
    key = keys.active(row.tenant_id)
    row.credential = credentials.sign(document, private_pem=key.private_pem, kid=key.kid,
                                      subject=document["credentialSubject"]["id"])
    row.key_id = key.kid


def issuer_id(slug: str) -> str:
    return tool_url("certification.issuer", tenant=slug)


def status_list_url(slug: str) -> str:
    return tool_url("certification.status_list", tenant=slug)


def revoked_indexes(tenant_id: int) -> list[int]:
    return list(db.session.execute(select(Certification.status_index).where(
        Certification.tenant_id == tenant_id, Certification.state == "revoked",
        Certification.status_index.is_not(None))).scalars())


def status_list_token(tenant_id: int) -> str:
    """The academy's revocation list as a signed BitstringStatusListCredential. The caller commits (a first
    key may be made)."""
    tenant = tenancy.get_tenant_by_id(tenant_id)
    document = credentials.status_list_credential(
        list_url=status_list_url(tenant.slug), issuer_id=issuer_id(tenant.slug), issuer_name=tenant.name,
        revoked=revoked_indexes(tenant_id), issued=datetime.now(UTC).replace(microsecond=0))
    key = keys.active(tenant_id)
    return credentials.sign(document, private_pem=key.private_pem, kid=key.kid)


def verify_token(token: str) -> tuple[credentials.Verdict, int | None]:
    """Checks any credential against the keys and revocation list of the academy it names as issuer; a credential
    naming another issuer, or none of ours, is reported invalid with the reason."""
    # The header first: a token with another algorithm (HS256 with a signature that is no base64) would
    # otherwise fail to decode below and be called no JWT at all.
    problem = credentials.header_problem(token.strip())
    if problem:
        return credentials.Verdict(credentials.INVALID, [problem]), None
    try:
        claimed = jwt.decode(token.strip(), options={"verify_signature": False})
        issuer = claimed["issuer"]["id"]
    except (jwt.PyJWTError, KeyError, TypeError, AttributeError):
        return credentials.Verdict(credentials.INVALID, [
            N_("This is not a signed credential (a compact JWT).")]), None
    tenant = next((t for t in tenancy.list_tenants() if issuer_id(t.slug) == issuer), None)
    if tenant is None:
        return credentials.Verdict(credentials.INVALID, [
            N_("The credential names an issuer that is not an academy of this service.")]), None
    def is_revoked(document: dict) -> bool:
        # The bit the published list holds for this index, read by the unique (academy, index) key.
        index = int(document["credentialStatus"]["statusListIndex"])
        return db.session.execute(select(Certification.id).where(
            Certification.tenant_id == tenant.id, Certification.status_index == index,
            Certification.state == "revoked")).first() is not None

    verdict = credentials.verify(token, keys.jwks(tenant.id), now=datetime.now(UTC), revoked=is_revoked)
    return verdict, tenant.id
