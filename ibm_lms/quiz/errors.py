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


class QuestionNotFound(DomainError):
    status = 404
    code = "question_not_found"
    message = N_("There is no such question in this course's bank.")


class EditConflict(DomainError):
    status = 409
    code = "edit_conflict"
    message = N_("Someone saved version %(version)s while you were editing. Open it again and redo your change.")


class ImportRefused(DomainError):
    status = 422
    code = "import_refused"
    message = N_("Nothing was imported: the file has problems.")

    def __init__(self, *, problems: tuple[str, ...]):
        super().__init__()
        self.problems = problems


class NotAnAuthor(DomainError):
    status = 403
    code = "not_an_author"
    message = N_("Only instructors and administrators can change the question bank.")


class ImageRefused(DomainError):
    status = 400
    code = "image_refused"
    message = N_("This image cannot be used: %(reason)s.")

    def __init__(self, *, reason: str, status_code: int = 400):
        super().__init__(reason=reason)
        self.status = status_code


class ImageNotFound(DomainError):
    status = 404
    code = "image_not_found"
    message = N_("There is no such image.")


class UnknownFormat(DomainError):
    status = 400
    code = "unknown_format"
    message = N_("The format %(format)s is not one of: %(formats)s.")


class NotAnInstructor(DomainError):
    status = 403
    code = "not_an_instructor"
    message = N_("Only instructors and administrators can see and change the trainees' quiz grades.")


class NoSubmittedAttempt(DomainError):
    status = 404
    code = "no_submitted_attempt"
    message = N_("This trainee has no submitted attempt at this quiz, so there is no grade to override.")


class OwnGrade(DomainError):
    status = 403
    code = "own_grade"
    message = N_("Nobody can override their own grade: ask another instructor.")


class OverrideRefused(DomainError):
    status = 400
    code = "override_refused"
    message = N_("The grade was not changed: %(reason)s.")
