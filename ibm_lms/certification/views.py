"""Certification pages for people signed in through a launch: the academy's dashboard, candidates and decisions;
Master Trainers' observations and reviews; each candidate's own path, session log and credentials."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext

from ibm_lms.errors import N_, DomainError, Phrase
from ibm_lms.tenancy import service as tenancy
from ibm_lms.text import decimal_number, page_number, whole_number

from . import service
from .dashboard import PAGE, SUPPRESS_BELOW
from .errors import DecisionUnclear, EvidenceRefused, NotAuthorised
from .evidence import MAX_ATTACHMENT_BYTES
from .rules import RUBRIC, RUBRIC_SCALE, EvidenceKind, Stage, programme_to_table
from .texts import progress, requirement

blueprint = Blueprint("certification_pages", __name__, url_prefix="/certification")
MAX_UPLOAD_BYTES = 6 * 1024 * 1024


def _identity():
    return tenancy.require_identity()


@blueprint.context_processor
def _texts() -> dict:
    return {"cert_requirement": requirement, "cert_progress": progress, "cert_tables": programme_to_table}


def _locale() -> str:
    return str(get_locale())


def _certificate_locale(tenant_id: int, holder_id: int) -> str:
    """The language a holder's certificate and credential are written in: theirs when they chose one, since both
    are signed and cannot be reworded later; else the approver's."""
    return tenancy.preferred_locale(tenant_id, holder_id) or _locale()


def _filters() -> service.Filters:
    stage = request.args.get("stage") or None
    return service.Filters(area=request.args.get("area") or None, programme=request.args.get("programme") or None,
                           stage=stage if stage in {s.value for s in Stage} else None,
                           expiring=request.args.get("expiring", type=whole_number) if request.args.get("expiring") in
                           ("30", "90") else None, page=max(request.args.get("page", 1, type=page_number) or 1, 1))


def _day(name: str) -> date:
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError:
        raise EvidenceRefused(reason=Phrase(N_("the date must be a real day, not in the future"))) from None


def _upload() -> service.Upload | None:
    file = request.files.get("attachment")
    if file is None or not file.filename:
        return None
    return service.Upload(filename=file.filename, data=file.read(MAX_ATTACHMENT_BYTES + 1))


def _number(name: str, kind=float):
    """A form's number (ASCII digits; a decimal may use a point or a comma), or None when blank or not one."""
    value = request.form.get(name, "").strip()
    try:
        return whole_number(value) if kind is int else decimal_number(value)
    except ValueError:
        return None


def _participants() -> int | None:
    if not request.form.get("participants", "").strip():
        return None
    participants = _number("participants", int)
    if participants is None:  # typed but not a number: said, not dropped
        raise EvidenceRefused(reason=Phrase(N_("the number of participants must be from 0 to 500")))
    return participants


def _text(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    return value or None


def _details() -> service.Details:
    return service.Details(area=request.form.get("area", ""), occurred_on=_day("occurred_on"),
                           course_delivered=_text("course_delivered"), participants=_participants(),
                           feedback_summary=_text("feedback_summary"), comments=_text("comments"))


def _form_user() -> int:
    user_id = request.form.get("user_id", type=whole_number)
    if user_id is None:
        abort(400)
    return user_id


def _done(endpoint: str, message: str, **values):
    return redirect(url_for(endpoint, done=message, **values), code=303)


@blueprint.get("/")
@tenancy.login_required
def home():
    identity = _identity()
    access = service.access(identity)
    if not access.academy:
        return redirect(url_for(".mine"))
    return render_template("certification/dashboard.html", identity=identity, access=access,
                           overview=service.overview(identity.tenant_id),
                           title=service.titles(identity.tenant_id, _locale()), stages=list(Stage),
                           done=request.args.get("done"))


@blueprint.get("/regional")
@tenancy.login_required
def regional():
    """The regional programme's view: per academy and area, counts only, small ones hidden."""
    identity = _identity()
    access = service.access(identity)
    if not access.regional:
        raise NotAuthorised(reason=Phrase(N_("the regional counts are for the regional coordinators the tool's "
                                           "operator names")))
    return render_template("certification/regional.html", identity=identity, access=access,
                           rows=service.regional_overview(), title=service.titles(identity.tenant_id, _locale()),
                           suppressed_below=SUPPRESS_BELOW)


@blueprint.get("/programmes")
@tenancy.login_required
def programmes():
    identity = _identity()
    return render_template("certification/programmes.html", identity=identity, access=service.access(identity),
                           programmes=service.programme_list(identity.tenant_id),
                           title=service.titles(identity.tenant_id, _locale()), rubric=RUBRIC)


@blueprint.route("/programmes/edit", methods=["GET", "POST"])
@tenancy.login_required
def edit_programmes():
    """The academy's programmes as their TOML file, for its administrators and approvers to change."""
    identity = _identity()
    service.require_academy(identity)
    problem, changes = None, None
    text = request.form.get("definition") if request.method == "POST" else \
        service.export_programmes(identity.tenant_id)
    if request.method == "POST":
        try:
            changes = service.import_programmes(identity.tenant_id, text or "", actor=service.actor_of(identity))
        except DomainError as error:
            problem = error.translated()
    return render_template("certification/edit_programmes.html", identity=identity,
                           access=service.access(identity), text=text, problem=problem, changes=changes,
                           done=None), (422 if problem else 200)


@blueprint.get("/candidates")
@tenancy.login_required
def candidates():
    identity = _identity()
    access = service.require_academy(identity)
    filters = _filters()
    found, total = service.candidates(identity.tenant_id, filters)
    return render_template("certification/candidates.html", identity=identity, access=access, candidates=found,
                           total=total,
                           filters=filters, page_size=PAGE, stages=list(Stage),
                           programmes=service.programme_list(identity.tenant_id),
                           title=service.titles(identity.tenant_id, _locale()),
                           people=tenancy.find_people(identity.tenant_id, request.args.get("q", ""))
                           if request.args.get("q") else [], query=request.args.get("q", ""))


@blueprint.get("/candidates/export.<fmt>")
@tenancy.login_required
def export(fmt: str):
    identity = _identity()
    service.require_academy(identity)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    body = service.export_candidates(identity.tenant_id, _filters(), fmt)
    media = "text/csv" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=media,
                    headers={"Content-Disposition": f'attachment; filename="certification-candidates.{fmt}"'})


@blueprint.get("/roster")
@tenancy.login_required
def roster():
    identity = _identity()
    service.require_academy(identity)
    filters = _filters()
    return render_template("certification/roster.html", identity=identity, filters=filters,
                           candidates=service.roster(identity.tenant_id, filters),
                           title=service.titles(identity.tenant_id, _locale()), today=service.today())


@blueprint.post("/nominate")
@tenancy.login_required
def nominate():
    identity = _identity()
    user_id = _form_user()
    service.nominate(identity.tenant_id, request.form.get("programme", ""), user_id, actor=service.actor_of(identity),
                     by=identity)
    return _done(".candidate", "nominated", user_id=user_id)


@blueprint.get("/candidates/<int:user_id>")
@tenancy.login_required
def candidate(user_id: int):
    identity = _identity()
    access = service.require_academy(identity)
    person = tenancy.people(identity.tenant_id, [user_id]).get(user_id)
    if person is None:
        abort(404)
    return render_template("certification/candidate.html", identity=identity, access=access, person=person,
                           user_id=user_id, standings=service.candidate_standings(identity.tenant_id, user_id),
                           evidence=service.evidence_list(identity.tenant_id, candidate_id=user_id),
                           certifications=service.certifications(identity.tenant_id, holder_id=user_id),
                           title=service.titles(identity.tenant_id, _locale()), rubric=RUBRIC,
                           certificate_locale=_certificate_locale(identity.tenant_id, user_id),
                           done=request.args.get("done"))


@blueprint.post("/propose")
@tenancy.login_required
def propose():
    identity = _identity()
    holder_id = _form_user()
    service.propose(identity, request.form.get("programme", ""), holder_id,
                    _certificate_locale(identity.tenant_id, holder_id))
    return _done(".candidate", "proposed", user_id=holder_id)


@blueprint.post("/decisions/<credential_id>/confirm")
@tenancy.login_required
def confirm(credential_id: str):
    identity = _identity()
    record = service.confirm(identity, credential_id)
    return _done(".candidate", "issued", user_id=record.holder_id)


@blueprint.post("/decisions/<credential_id>/withdraw")
@tenancy.login_required
def withdraw(credential_id: str):
    identity = _identity()
    service.withdraw(identity, credential_id, request.form.get("reason", ""))
    return _done(".home", "withdrawn")


@blueprint.post("/credentials/<credential_id>/revoke")
@tenancy.login_required
def revoke(credential_id: str):
    identity = _identity()
    record = service.revoke(credential_id, request.form.get("reason", ""), actor=service.actor_of(identity),
                            by=identity)
    return _done(".candidate", "revoked", user_id=record.holder_id)


@blueprint.route("/observe", methods=["GET", "POST"])
@tenancy.login_required
def observe():
    identity = _identity()
    access = service.access(identity)
    if not access.master_areas:
        abort(403)
    problem = None
    if request.method == "POST":
        try:
            scores = {name: _number(f"score_{name}", int) for name in RUBRIC}
            service.record_observation(identity, request.form.get("candidate_id", type=whole_number) or 0,
                                       EvidenceKind(request.form.get("kind", "")), scores, _details(), _upload())
            return _done(".observe", "recorded")
        except (DomainError, ValueError) as error:
            problem = error.translated() if isinstance(error, DomainError) else gettext("Choose what you observed.")
    return render_template("certification/observe.html", identity=identity, access=access, rubric=RUBRIC,
                           scale=range(RUBRIC_SCALE[0], RUBRIC_SCALE[1] + 1), problem=problem, form=request.form,
                           people=tenancy.find_people(identity.tenant_id, request.args.get("q", ""), limit=200),
                           title=service.titles(identity.tenant_id, _locale()), done=request.args.get("done"),
                           today=service.today()), (422 if problem else 200)


@blueprint.get("/reviews")
@tenancy.login_required
def reviews():
    identity = _identity()
    access = service.access(identity)
    if not (access.academy or access.master_areas):
        abort(403)
    pending = service.evidence_list(identity.tenant_id, state="pending",
                                    areas=None if access.academy else access.master_areas)
    return render_template("certification/reviews.html", identity=identity, access=access, pending=pending,
                           title=service.titles(identity.tenant_id, _locale()), done=request.args.get("done"))


@blueprint.post("/evidence/<int:evidence_id>/review")
@tenancy.login_required
def review(evidence_id: int):
    identity = _identity()
    decision = request.form.get("decision")
    # A decision is final, so only an explicit press of one of the two buttons decides.
    if decision not in ("approve", "reject"):
        raise DecisionUnclear()
    service.review_evidence(identity, evidence_id, approve=decision == "approve", note=_text("note"))
    return _done(".reviews", "reviewed")


@blueprint.get("/evidence/<int:evidence_id>/attachment")
@tenancy.login_required
def attachment(evidence_id: int):
    data, media_type, name = service.evidence_attachment(_identity(), evidence_id)
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)[:100] or "attachment"
    return Response(data, mimetype=media_type, headers={
        "Content-Disposition": f'attachment; filename="{safe}"', "Content-Security-Policy": "sandbox",
        "X-Content-Type-Options": "nosniff"})


def _mine(identity, *, problem: str | None = None, form=None, done: str | None = None):
    return render_template("certification/mine.html", identity=identity, access=service.access(identity),
                           standings=service.candidate_standings(identity.tenant_id, identity.user_id),
                           evidence=service.evidence_list(identity.tenant_id, candidate_id=identity.user_id),
                           certifications=service.certifications(identity.tenant_id, holder_id=identity.user_id),
                           title=service.titles(identity.tenant_id, _locale()), rubric=RUBRIC, done=done,
                           today=service.today(), problem=problem, form=form or {})


@blueprint.get("/mine")
@tenancy.login_required
def mine():
    return _mine(_identity(), done=request.args.get("done"))


@blueprint.post("/sessions")
@tenancy.login_required
def log_session():
    identity = _identity()
    try:
        service.log_session(identity, _number("hours") or 0, _details(), _upload())
    except DomainError as error:
        return _mine(identity, problem=error.translated(), form=request.form), error.status
    return _done(".mine", "logged")


@blueprint.get("/credentials/<credential_id>/certificate.pdf")
@tenancy.login_required
def certificate(credential_id: str):
    row = service.holder_credential(_identity(), credential_id)
    return Response(service.certificate_pdf(row), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="certificate-{row.id}.pdf"'})


@blueprint.get("/credentials/<credential_id>/credential.jwt")
@tenancy.login_required
def credential(credential_id: str):
    row = service.holder_credential(_identity(), credential_id)
    return Response(row.credential, mimetype="application/vc+jwt", headers={
        "Content-Disposition": f'attachment; filename="credential-{row.id}.jwt"'})


def init_app(app) -> None:
    from ibm_lms.web import allow_larger_body

    from .programmes import MAX_FILE_BYTES

    app.register_blueprint(blueprint)
    allow_larger_body(app, "certification_pages.observe", MAX_UPLOAD_BYTES)
    allow_larger_body(app, "certification_pages.log_session", MAX_UPLOAD_BYTES)
    # The form sends the file URL-encoded: a Cyrillic or Georgian letter of 2-3 bytes travels as 6-9. The body
    # may be that much larger (and some), so that the editor's own check of the file's size answers a file a little
    # over it, with the text kept.
    allow_larger_body(app, "certification_pages.edit_programmes", 4 * MAX_FILE_BYTES + 64 * 1024)
