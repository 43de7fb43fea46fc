"""The administrator's page of the academy's statements: how many wait, which the LRS refused, resend."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Role
from ibm_lms.text import whole_number, whole_number_or_none

from . import service

blueprint = Blueprint("xapi", __name__, url_prefix="/xapi")


@blueprint.get("/")
@tenancy.role_required(Role.ADMINISTRATOR)
def status():
    identity = tenancy.require_identity()
    counts = service.academy_counts(identity.tenant_id)
    return render_template("xapi/status.html", identity=identity, counts=counts,
                           events=service.academy_queue(identity.tenant_id), lrs=service.view(identity.tenant_id),
                           parked=service.parked(identity.tenant_id), queued=request.args.get("queued", type=whole_number))


@blueprint.post("/retry")
@tenancy.role_required(Role.ADMINISTRATOR)
def retry():
    identity = tenancy.require_identity()
    ids = [n for n in map(whole_number_or_none, request.form.getlist("id")) if n is not None]
    queued = service.retry(identity.tenant_id, ids or None)
    return redirect(url_for("xapi.status", queued=queued), code=303)
