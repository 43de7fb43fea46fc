"""The academies' standard questionnaires and how an answer to one is read (pure).

Two of Kirkpatrick's four levels are asked of the trainee: reaction (level 1) when the course is complete, and
behaviour at work (level 3) once the trainee has been back at their post for a while. Learning (level 2) is
measured by the course itself (lessons, exercises, quizzes); results for the service (level 4: detections,
seizures) are counted by the services' own systems, not here. The questions are the same for every course and
every academy, so that the regional programme can set academies side by side."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ibm_lms.markers import N_
from ibm_lms.text import BIDI_CONTROLS, is_bounded_text

SCALE = (N_("Strongly disagree"), N_("Disagree"), N_("Neither agree nor disagree"), N_("Agree"),
         N_("Strongly agree"))
NOT_APPLICABLE = "na"
MAX_COMMENT_CHARS = 2000


@dataclass(frozen=True)
class Statement:
    key: str
    text: str  # msgid
    # Whether "does not apply to my post" is an answer (a post where no case has come up yet).
    may_not_apply: bool = False


@dataclass(frozen=True)
class Questionnaire:
    key: str
    level: int
    title: str  # msgid, as the trainee is asked
    short_title: str  # msgid, as the academy and the regional programme read it
    statements: tuple[Statement, ...]
    comment: str  # msgid: what the optional comment is for
    # The days after the course was completed when it is asked: the follow-up once the trainee has been back at
    # work for a while, and not so late that the course is forgotten.
    opens_after_days: int
    closes_after_days: int


REACTION = Questionnaire(
    key="reaction", level=1, title=N_("Your view of the course"), short_title=N_("At the end of the course"),
    statements=(
        Statement("relevant", N_("The course is relevant to the duties of my post.")),
        Statement("clear", N_("The lessons were clear and easy to follow.")),
        Statement("practice", N_("The exercises and worked examples prepared me for real cases.")),
        Statement("confident", N_("I am confident that I can apply what I learned.")),
        Statement("recommend", N_("I would recommend this course to colleagues in my service.")),
    ),
    comment=N_("What should the academy improve in this course?"),
    opens_after_days=0,
    closes_after_days=90,
)

FOLLOW_UP = Questionnaire(
    key="follow_up", level=3, title=N_("Two months on: the course at your post"),
    short_title=N_("Two months on"),
    statements=(
        Statement("applied", N_("Since the course I have applied what I learned in my daily work.")),
        Statement("changed", N_("The course changed how I carry out checks or controls at my post.")),
        Statement("supported", N_("My supervisors supported me in applying what I learned.")),
        Statement("detected", N_("What I learned helped me detect or prevent an offence or irregularity."),
                  may_not_apply=True),
    ),
    comment=N_("Describe a case where the course made a difference, without names, document numbers or other "
               "details that could identify a person."),
    opens_after_days=60,
    closes_after_days=180,
)

QUESTIONNAIRES = {questionnaire.key: questionnaire for questionnaire in (REACTION, FOLLOW_UP)}


class AnswersRefused(ValueError):
    """An answer the questionnaire cannot take: `msgid` (marked with N_) and `values` say why."""

    def __init__(self, msgid: str, **values):
        super().__init__(msgid % values if values else msgid)
        self.msgid, self.values = msgid, values


def read_answers(questionnaire: Questionnaire, form: Mapping[str, list[str]]) -> tuple[dict[str, int | None], str]:
    """The rating of each statement (1 to 5, or None where it does not apply) and the comment, from a form's
    lists of values; raises AnswersRefused naming the first statement left out or answered out of range."""
    ratings: dict[str, int | None] = {}
    for number, statement in enumerate(questionnaire.statements, 1):
        values = form.get(statement.key) or []
        if len(values) > 1:
            raise AnswersRefused(N_("statement %(number)d was answered more than once"), number=number)
        if not values or not values[0]:
            raise AnswersRefused(N_("statement %(number)d has no answer: choose one of the five, or the last "
                                    "where it is offered"), number=number)
        value = values[0]
        if value == NOT_APPLICABLE and statement.may_not_apply:
            ratings[statement.key] = None
        elif value in {"1", "2", "3", "4", "5"}:
            ratings[statement.key] = int(value)
        else:
            raise AnswersRefused(N_("statement %(number)d has an answer that is not one of those offered"),
                                 number=number)
    comments = form.get("comment") or [""]
    if len(comments) > 1:
        raise AnswersRefused(N_("the form holds more than one comment"))
    # A browser counts a line break as one character against the field's limit and sends it as two.
    comment = comments[0].replace("\r\n", "\n").strip()
    if not is_bounded_text(comment, MAX_COMMENT_CHARS, multiline=True, empty=True):
        raise AnswersRefused(N_("the comment must be plain text of at most %(limit)d characters"),
                             limit=MAX_COMMENT_CHARS)
    if BIDI_CONTROLS.search(comment):
        raise AnswersRefused(N_("the comment holds characters that reorder text; type it again without them"))
    return ratings, comment
