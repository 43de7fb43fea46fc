"""Errors of the certification room: each says what was refused and why, in words an academy can act on."""

from ibm_lms.errors import N_, DomainError


class ProgrammeNotFound(DomainError):
    status = 404
    code = "programme_not_found"
    message = N_("This academy has no certification programme %(key)s.")


class ProgrammesRefused(DomainError):
    status = 400
    code = "programmes_refused"
    message = N_("The programmes were not changed: %(reason)s")


class PersonNotFound(DomainError):
    status = 404
    code = "person_not_found"
    message = N_("No one known to this academy is %(who)s (they must have opened the tool from its Moodle, or "
                 "appear in a synchronised roster).")


class NotCandidate(DomainError):
    status = 409
    code = "not_candidate"
    message = N_("This person is not a candidate in %(area)s: an approver nominates them first.")


class NotAuthorised(DomainError):
    status = 403
    code = "not_authorised"
    message = N_("You may not do this: %(reason)s")


class SeparationOfDuties(DomainError):
    status = 409
    code = "separation_of_duties"
    message = N_("Refused to keep duties apart: %(reason)s")


class EvidenceRefused(DomainError):
    status = 400
    code = "evidence_refused"
    message = N_("The evidence was not recorded: %(reason)s")


class EvidenceNotFound(DomainError):
    status = 404
    code = "evidence_not_found"
    message = N_("There is no such evidence in this academy.")


class DecisionRefused(DomainError):
    status = 409
    code = "decision_refused"
    message = N_("The decision was not recorded: %(reason)s")


class DecisionUnclear(DomainError):
    status = 400
    code = "decision_unclear"
    message = N_("The decision was not recorded: press Approve or Reject.")


class CredentialNotFound(DomainError):
    status = 404
    code = "credential_not_found"
    message = N_("No credential with this id was issued here. A certificate whose code leads here is not genuine.")
