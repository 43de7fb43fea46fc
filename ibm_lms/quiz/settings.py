"""A quiz's settings and question draws, checked against the bank they draw from (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ibm_lms.items.service import Problem, localised, plain, tracked, unread_keys
from ibm_lms.markers import N_

KINDS = ("practice", "pre_test", "post_test", "exam")
GRADING = ("highest", "last", "average", "first")
# What a trainee sees of a submitted attempt: only the score; which answers were right and the feedback;
# and the right answers too.
REVIEW_LEVELS = ("score", "feedback", "answers")
MAX_QUESTIONS = 200


@dataclass(frozen=True)
class Draw:
    """Fixed questions, or `count` questions drawn at random from those matching every filter given."""

    questions: tuple[str, ...] = ()
    count: int = 0
    category: str | None = None
    tags: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    difficulty: str | None = None

    def matches(self, key: str, category: str, tags: tuple[str, ...], outcomes: tuple[str, ...],
                difficulty: str) -> bool:
        if self.questions:
            return key in self.questions
        return ((self.category is None or category == self.category)
                and all(tag in tags for tag in self.tags)
                and (not self.outcomes or any(o in outcomes for o in self.outcomes))
                and (self.difficulty is None or difficulty == self.difficulty))

    @property
    def size(self) -> int:
        return len(self.questions) if self.questions else self.count


@dataclass(frozen=True)
class QuizSettings:
    title: dict[str, str]
    description: dict[str, str]
    kind: str = "practice"
    time_limit_minutes: int = 0
    attempts: int = 0
    pass_mark: float = 0.5
    grading: str = "highest"
    shuffle_questions: bool = True
    shuffle_choices: bool = True
    review_after_submit: str = "feedback"
    review_after_close: str = "answers"
    draws: tuple[Draw, ...] = field(default=())

    def as_json(self) -> dict:
        values = asdict(self)
        values["draws"] = [asdict(d) for d in self.draws]
        return values

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuizSettings:
        values = dict(data)
        values["draws"] = tuple(Draw(**{**d, "questions": tuple(d["questions"]), "tags": tuple(d["tags"]),
                                        "outcomes": tuple(d["outcomes"])}) for d in data["draws"])
        return cls(**values)

    @property
    def question_count(self) -> int:
        return sum(d.size for d in self.draws)


def _whole(raw, name: str, default: int, low: int, high: int, problems: list[Problem], example: str) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(Problem.of((name,), N_("must be a whole number from %(low)d to %(high)d"), example,
                                   low=low, high=high))
        return default
    return value


def _choice(raw, name: str, default: str, allowed: tuple[str, ...], problems: list[Problem]) -> str:
    value = raw.get(name, default)
    if value not in allowed:
        problems.append(Problem.of((name,), N_("must be one of %(allowed)s"), f'{name} = "{allowed[0]}"',
                                   allowed=", ".join(allowed)))
        return default
    return value


def check_settings(raw: Mapping[str, Any], bank: Mapping[str, Any]) -> tuple[QuizSettings | None, list[Problem]]:
    """The settings a quiz file (or form) gives, checked: every draw must be satisfiable from `bank`
    (question key -> an object with item, category, tags, difficulty). A key no check reads is a problem too."""
    problems: list[Problem] = []
    raw = tracked(dict(raw))
    title = localised(raw.get("title"), ("title",), problems)
    description = localised(raw.get("description"), ("description",), problems, required=False)
    kind = _choice(raw, "kind", "practice", KINDS, problems)
    grading = _choice(raw, "grading", "highest", GRADING, problems)
    minutes = _whole(raw, "time_limit_minutes", 0, 0, 600, problems, N_("time_limit_minutes = 30 (0: no limit)"))
    attempts = _whole(raw, "attempts", 0, 0, 100, problems, N_("attempts = 1 (0: no limit)"))
    pass_mark = raw.get("pass_mark", 0.5)
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, int | float) or not 0 <= pass_mark <= 1:
        problems.append(Problem.of(("pass_mark",), N_("must be a share from 0 to 1"), "pass_mark = 0.7"))
        pass_mark = 0.5
    flags = {}
    for name in ("shuffle_questions", "shuffle_choices"):
        flags[name] = raw.get(name, True)
        if not isinstance(flags[name], bool):
            problems.append(Problem.of((name,), N_("must be true or false"), f"{name} = true"))
    review = raw.get("review", {})
    if not isinstance(review, Mapping):
        problems.append(Problem.of(("review",), N_("must be a table of when trainees see what"),
                                   'review = { after_submit = "feedback", after_close = "answers" }'))
        review = {}
    after_submit = _choice(review, "after_submit", "feedback", REVIEW_LEVELS, problems)
    after_close = _choice(review, "after_close", "answers", REVIEW_LEVELS, problems)
    draws = _draws(raw.get("draw"), bank, problems)
    settings = QuizSettings(title=plain(title), description=plain(description), kind=kind, time_limit_minutes=minutes,
                            attempts=attempts, pass_mark=float(pass_mark), grading=grading,
                            review_after_submit=after_submit, review_after_close=after_close, draws=draws, **flags)
    if not problems:  # a check that stopped at a problem has not read what follows it
        problems = [Problem.of(path, N_("is not a setting of a quiz"), N_("remove it, or correct its spelling"))
                    for path in unread_keys(raw)]
    return (None if problems else settings), problems


def _draws(entries, bank: Mapping[str, Any], problems: list[Problem]) -> tuple[Draw, ...]:
    if not isinstance(entries, list) or not entries or not all(isinstance(e, Mapping) for e in entries):
        problems.append(Problem.of(("draw",), N_("a quiz needs at least one [[draw]]"),
                                   N_('add [[draw]] with questions = ["…"], or count = 10 and a category, tags or '
                                      'outcomes')))
        return ()
    draws, used = [], 0
    for index, entry in enumerate(entries):
        path = ("draw", index)
        fixed = entry.get("questions", [])
        if fixed:
            if not isinstance(fixed, list) or not all(isinstance(k, str) for k in fixed):
                problems.append(Problem.of((*path, "questions"), N_("must be a list of question ids"),
                                           'questions = ["ds-q-check-digit-count"]'))
                continue
            missing = [k for k in fixed if k not in bank]
            if missing:
                problems.append(Problem.of((*path, "questions"), N_("names questions the bank does not have: %(ids)s"),
                                           N_("use ids of questions/<id>.toml"), ids=", ".join(map(str, missing))))
                continue
            draws.append(Draw(questions=tuple(fixed)))
            used += len(fixed)
            continue
        labels = {name: entry.get(name, []) for name in ("tags", "outcomes")}
        wrong = [name for name, value in labels.items()
                 if not isinstance(value, list) or not all(isinstance(v, str) for v in value)]
        for name in wrong:
            problems.append(Problem.of((*path, name), N_("must be a list of labels"), f'{name} = ["…"]'))
        if wrong:
            continue
        count = entry.get("count", 0)
        draw = Draw(count=count if isinstance(count, int) and not isinstance(count, bool) else 0,
                    category=entry.get("category"), tags=tuple(labels["tags"]),
                    outcomes=tuple(labels["outcomes"]), difficulty=entry.get("difficulty"))
        if draw.count < 1:
            problems.append(Problem.of((*path, "count"), N_("a random draw needs count = 1 or more"), "count = 10"))
            continue
        pool = [key for key, q in bank.items()
                if draw.matches(key, q.category, q.tags, q.item.outcomes, q.difficulty)]
        if len(pool) < draw.count:
            problems.append(Problem.of((*path, "count"), N_("asks for %(count)d questions, the bank has %(found)d "
                                                            "that match"),
                                       N_("lower the count, widen the filters, or add questions"),
                                       count=draw.count, found=len(pool)))
            continue
        draws.append(draw)
        used += draw.count
    if used > MAX_QUESTIONS:
        problems.append(Problem.of(("draw",), N_("the quiz has %(count)d questions"),
                                   N_("a quiz has at most %(limit)d"), count=used, limit=MAX_QUESTIONS))
    return tuple(draws)
