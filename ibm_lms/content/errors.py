"""Errors of the content room."""

from ibm_lms.errors import N_, DomainError


class CourseNotFound(DomainError):
    status = 404
    code = "course_not_found"
    message = N_("There is no course %(slug)s.")


class CourseFileError(DomainError):
    """A course file that cannot be loaded; the message names the file and where."""

    code = "course_file_invalid"
    message = N_("The course file %(path)s is invalid: %(reason)s")
