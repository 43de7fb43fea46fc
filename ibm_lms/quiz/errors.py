"""Errors of the quiz room, each with its status and a message the trainee or instructor can act on."""

from ibm_lms.errors import N_, DomainError


class QuizNotFound(DomainError):
    status = 404
    code = "quiz_not_found"
    message = N_("There is no such quiz in this course.")


class AttemptNotFound(DomainError):
    status = 404
    code = "attempt_not_found"
    message = N_("There is no such attempt of yours.")


class NoAttemptLeft(DomainError):
    status = 409
    code = "no_attempt_left"
    message = N_("You have used every attempt this quiz allows.")


class QuizEmpty(DomainError):
    status = 409
    code = "quiz_empty"
    message = N_("This quiz has no questions to draw. Ask your instructor.")


class AnswerRefused(DomainError):
    status = 400
    code = "answer_refused"
    message = N_("This answer cannot be accepted: %(reason)s")


class TimeIsUp(DomainError):
    status = 409
    code = "time_is_up"
    message = N_("The time for this attempt is over. It was submitted with the answers saved before the end.")


class AttemptFinished(DomainError):
    status = 409
    code = "attempt_finished"
    message = N_("This attempt is already submitted.")
