"""Errors of the content room, each with its status and a message the trainee can act on."""

from ibm_lms.errors import N_, DomainError


class CourseNotFound(DomainError):
    status = 404
    code = "course_not_found"
    message = N_("There is no course %(slug)s.")


class LessonNotFound(DomainError):
    status = 404
    code = "lesson_not_found"
    message = N_("The course has no lesson %(lesson)s.")


class ExerciseNotFound(DomainError):
    status = 404
    code = "exercise_not_found"
    message = N_("The exercise %(exercise)s is not part of this lesson.")


class FigureNotFound(DomainError):
    status = 404
    code = "figure_not_found"
    message = N_("There is no such figure.")


class AnswerRefused(DomainError):
    status = 400
    code = "answer_refused"
    message = N_("This answer cannot be accepted: %(reason)s")


class AnswerReplayed(DomainError):
    status = 409
    code = "answer_replayed"
    message = N_("This answer was already recorded. Open the lesson again to answer once more.")


class ExerciseChanged(DomainError):
    status = 409
    code = "exercise_changed"
    message = N_("This exercise has changed since the page was opened. Open the lesson again.")


class LessonNotFinished(DomainError):
    status = 409
    code = "lesson_not_finished"
    message = N_("Answer every exercise of the lesson before you mark it complete: %(missing)s")


class CourseFileError(DomainError):
    """A course folder that cannot be loaded; the message names the file and where."""

    code = "course_file_invalid"
    message = N_("The course file %(path)s is invalid: %(reason)s")
