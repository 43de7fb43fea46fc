"""What anyone may read without signing in: a certificate's verification page (HTML, or JSON by Accept), a form to
check any credential, and each academy's issuer profile, published keys, revocation list and achievements."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import get_locale, gettext

from ibm_lms.errors import wants_json
from ibm_lms.extensions import csrf
from ibm_lms.text import person_name

from . import service

blueprint = Blueprint("certification", __name__)
MAX_TOKEN_CHARS = 64 * 1024
# Verifiers and wallets fetch these from other origins; nothing in them is secret, and they vary only by academy.
_PUBLIC = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}


def _json(document: dict, media_type: str = "application/json") -> Response:
    response = jsonify(document)
    response.mimetype = media_type
    response.headers.update(_PUBLIC)
    return response


def _verification_json(found: service.Verification) -> dict:
    # What the database holds vouches for nothing when the credential does not verify: nothing of it, as on the page.
    record = found.record if found.verdict.status != "invalid" else None
    return {"status": found.verdict.status, "valid": found.verdict.valid,
            "problems": [gettext(problem) for problem in found.verdict.problems],
            "issuer": found.academy,
            "holder": person_name(record.holder_name) if record else None,
            "programme": record.programme_key if record else None,
            "valid_from": record.valid_from.isoformat() if record and record.valid_from else None,
            "valid_until": record.valid_until.isoformat() if record and record.valid_until else None,
            # When, never why: the reason is the academy's internal record (a disciplinary case, say), and this
            # answer goes to anyone holding the paper certificate's QR code.
            "revoked_on": record.revoked_at.date().isoformat()
            if record and record.revoked_at and found.verdict.status == "revoked" else None,
            "credential": found.verdict.credential}


def _holder(found: service.Verification) -> str | None:
    """The name the credential signs, without bidirectional controls: one signed before they were removed from
    names must not read as another person's on this page."""
    subject = (found.verdict.credential or {}).get("credentialSubject") or {}
    names = [item.get("identityHash") for item in subject.get("identifier") or () if isinstance(item, dict)]
    return " ".join(name for name in map(person_name, (n for n in names if isinstance(n, str))) if name) or None


def _page(found: service.Verification, status: int = 200):
    if wants_json():
        response = jsonify(_verification_json(found))
        response.headers["Cache-Control"] = "no-store"
        return response, status
    title = None
    if found.record is not None:
        title = service.programme_title_or_key(found.record.tenant_id, found.record.programme_key, str(get_locale()))
    return render_template("certification/verify.html", found=found, programme_title=title,
                           holder=_holder(found)), status


@blueprint.get("/verify/<credential_id>")
def verify(credential_id: str):
    return _page(service.verify_stored(credential_id))


@blueprint.route("/verify", methods=["GET", "POST"])
@csrf.exempt  # changes nothing and needs no session: a verifier pastes a credential from anywhere
def verify_any():
    if request.method == "GET":
        return render_template("certification/verify.html", found=None, programme_title=None)
    token = request.form.get("credential") or request.get_data(as_text=True)
    if not token or len(token) > MAX_TOKEN_CHARS:
        from .errors import CredentialNotFound

        raise CredentialNotFound()
    found = service.verify_token(token)
    return _page(found, 200 if found.verdict.status != "invalid" else 422)


@blueprint.get("/issuers/<tenant>")
def issuer(tenant: str):
    return _json(service.issuer_profile(tenant))


@blueprint.get("/issuers/<tenant>/jwks.json")
def jwks(tenant: str):
    return _json(service.jwks(tenant), "application/jwk-set+json")


@blueprint.get("/issuers/<tenant>/status/revocation")
def status_list(tenant: str):
    response = Response(service.status_list(tenant), mimetype="application/vc+jwt")
    response.headers.update({**_PUBLIC, "Cache-Control": "public, max-age=60"})
    return response


@blueprint.get("/issuers/<tenant>/achievements/<key>")
def achievement(tenant: str, key: str):
    return _json(service.achievement(tenant, key, str(get_locale())))
