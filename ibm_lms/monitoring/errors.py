"""Errors of the monitoring room: each says what was refused and why."""

from ibm_lms.errors import N_, DomainError


class QuestionnaireNotFound(DomainError):
    status = 404
    code = "questionnaire_not_found"
    message = N_("There is no questionnaire %(key)s.")


class QuestionnaireNotOpen(DomainError):
    status = 409
    code = "questionnaire_not_open"
    message = N_("This questionnaire is not open to you: %(reason)s")


class AnswersNotTaken(DomainError):
    status = 400
    code = "answers_not_taken"
    message = N_("Your answers were not saved: %(reason)s")


class NotAuthorised(DomainError):
    status = 403
    code = "not_authorised"
    message = N_("You may not do this: %(reason)s")
