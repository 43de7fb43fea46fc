"""The one place domain events become xAPI statements (pure: tincan models, no Flask, no database).

Actors are accounts on the platform (`homePage` = the LTI issuer, `name` = the academy's pseudonym
of the LTI user), never names or e-mail addresses unless the academy chose to share them. Verbs
are ADL's (cmi5 uses the same IRIs). Activities are addressed under the tool's base URL: the pages
where they live where there is one. Every statement's id is a UUID v5 of its event and part, so
sending one twice stores it once.

tincan builds and serialises the statements; it is unmaintained and lenient, so `validation.check`
runs on every statement built here before it enters the outbox.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from tincan import (
    Activity,
    ActivityDefinition,
    ActivityList,
    Agent,
    AgentAccount,
    Context,
    ContextActivities,
    Extensions,
    InteractionComponent,
    InteractionComponentList,
    LanguageMap,
    Result,
    Score,
    Statement,
    Verb,
)

from ibm_lms.events import (
    CourseCompleted,
    DomainEvent,
    ExerciseAnswered,
    LaunchCompleted,
    LearningEvent,
    LessonCompleted,
    LessonViewed,
    ModuleCompleted,
    QuizAttemptStarted,
    QuizAttemptSubmitted,
    QuizGradeOverridden,
)
from ibm_lms.items.service import Item, numeric_value
from ibm_lms.memo import Memo

# The namespace of every statement id and registration this tool makes (a fixed, random UUID).
NAMESPACE = uuid.UUID("6f4c3e0a-2b7d-5b9e-9d1c-8a4f2e6b7c10")
PLATFORM = "IBM Training Suite"
ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {name: ADL + name for name in (
    "launched", "initialized", "experienced", "progressed", "answered", "completed", "passed", "failed",
    "terminated")}
ACTIVITY = "http://adlnet.gov/expapi/activities/"
TYPES = {"course": ACTIVITY + "course", "module": ACTIVITY + "module", "lesson": ACTIVITY + "lesson",
         "assessment": ACTIVITY + "assessment", "interaction": ACTIVITY + "cmi.interaction",
         "profile": ACTIVITY + "profile"}


@dataclass(frozen=True)
class Actor:
    home_page: str
    name: str
    display_name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Setting:
    """What every statement of one event shares: the tool, the person, the academy and its country."""

    base_url: str
    actor: Actor
    tenant: str
    country: str | None = None
    lti_context: str | None = None


@dataclass(frozen=True)
class Names:
    """Localised names of the course's activities an event's statements mention."""

    course: dict[str, str] = field(default_factory=dict)
    course_description: dict[str, str] = field(default_factory=dict)
    modules: dict[str, dict[str, str]] = field(default_factory=dict)
    lessons: dict[str, dict[str, str]] = field(default_factory=dict)
    quiz: dict[str, str] = field(default_factory=dict)
    # Items of the exercise or of the quiz's questions, by key (their current definitions).
    items: dict[str, Item] = field(default_factory=dict)


def statement_id(event: DomainEvent, part: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{event.event_id}/{part}"))


def registration(tenant_id: int, attempt_id: int) -> str:
    """One registration per quiz attempt: its statements group together in the LRS."""
    return str(uuid.uuid5(NAMESPACE, f"attempt/{tenant_id}/{attempt_id}"))


def _language_map(texts: dict[str, str] | None, fallback: str) -> LanguageMap:
    usable = {locale: text for locale, text in (texts or {}).items() if isinstance(text, str) and text.strip()}
    return LanguageMap(usable or {"en": fallback})


def _iri(setting: Setting, *parts: str) -> str:
    return setting.base_url.rstrip("/") + "/" + "/".join(parts)


def _course(setting: Setting, slug: str, names: Names) -> Activity:
    return Activity(id=_iri(setting, "courses", slug), definition=ActivityDefinition(
        name=_language_map(names.course, slug), description=_language_map(names.course_description, slug),
        type=TYPES["course"]))


def _module(setting: Setting, slug: str, key: str, names: Names) -> Activity:
    return Activity(id=_iri(setting, "courses", slug, "modules", key), definition=ActivityDefinition(
        name=_language_map(names.modules.get(key), key), type=TYPES["module"]))


def _lesson(setting: Setting, slug: str, key: str, names: Names) -> Activity:
    return Activity(id=_iri(setting, "courses", slug, "lessons", key), definition=ActivityDefinition(
        name=_language_map(names.lessons.get(key), key), type=TYPES["lesson"]))


def _quiz(setting: Setting, slug: str, key: str, names: Names) -> Activity:
    return Activity(id=_iri(setting, "courses", slug, "quizzes", key), definition=ActivityDefinition(
        name=_language_map(names.quiz, key), type=TYPES["assessment"]))


def _profile(setting: Setting) -> Activity:
    return Activity(id=_iri(setting, "xapi", "profile"), definition=ActivityDefinition(
        name=LanguageMap({"en": PLATFORM}), type=TYPES["profile"]))


def _extension(setting: Setting, name: str) -> str:
    return _iri(setting, "xapi", "extensions", name)


def _result_extensions(setting: Setting, values: dict) -> Extensions | None:
    return Extensions({_extension(setting, name): value for name, value in values.items()}) if values else None


def _context(setting: Setting, event: DomainEvent, *, parent: list[Activity] | None = None,
             grouping: list[Activity] | None = None, registration_id: str | None = None,
             extra: dict | None = None, instructor: Actor | None = None) -> Context:
    extensions = {_extension(setting, "tenant"): setting.tenant}
    if setting.country:
        extensions[_extension(setting, "country")] = setting.country
    if setting.lti_context:
        extensions[_extension(setting, "lti-context-id")] = setting.lti_context
    if isinstance(event, LearningEvent):
        extensions[_extension(setting, "course-version")] = event.course_version
    for name, value in (extra or {}).items():
        extensions[_extension(setting, name)] = value
    locale = getattr(event, "locale", None)
    return Context(registration=registration_id, platform=PLATFORM, language=locale or None,
                   instructor=_agent(instructor) if instructor else None,
                   context_activities=ContextActivities(parent=ActivityList(parent) if parent else None,
                                                        grouping=ActivityList(grouping) if grouping else None,
                                                        category=ActivityList([_profile(setting)])),
                   extensions=Extensions(extensions))


def _actor(setting: Setting) -> Agent:
    return _agent(setting.actor)


def _agent(actor: Actor) -> Agent:
    return Agent(account=AgentAccount(home_page=actor.home_page, name=actor.name), name=actor.display_name)


VERB_ANSWERED = "answered"


def _verb(name: str) -> Verb:
    return Verb(id=VERBS[name], display=LanguageMap({"en-US": name}))


def _duration(seconds: int | float | None) -> timedelta | None:
    # tincan writes a negative duration as nonsense; a clock step can give one, so it is clamped.
    return None if seconds is None else timedelta(seconds=max(0, round(seconds)))


def _instant(moment: datetime) -> datetime:
    # The tool's clock gives naive UTC (as the database stores it); tincan would write a naive time without a zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _statement(event: DomainEvent, part: str, setting: Setting, verb: str, obj: Activity, context: Context,
               result: Result | None = None) -> dict:
    built = Statement(id=statement_id(event, part), actor=_actor(setting), verb=_verb(verb), object=obj,
                      result=result, context=context, timestamp=_instant(event.occurred_at))
    as_json = json.loads(built.to_json("1.0.3"))
    as_json.pop("version", None)  # the LRS sets the version it stores
    return as_json


# --- Interactions -----------------------------------------------------------------------------------------------

def _components(entries: list[dict], text_key: str) -> InteractionComponentList:
    return InteractionComponentList([InteractionComponent(id=entry["id"],
                                                          description=_language_map(entry.get(text_key), entry["id"]))
                                     for entry in entries])


def interaction(setting: Setting, slug: str, kind: str, key: str, item: Item) -> Activity:
    """A question or an exercise as a cmi.interaction: its type, components and correct response pattern."""
    spec = item.spec
    definition = ActivityDefinition(name=_language_map(item.title, key), description=_language_map(item.prompt, key),
                                    type=TYPES["interaction"])
    if item.type in ("single_choice", "mrz_spot"):
        entries = spec.get("options") or spec.get("specimens")
        definition.interaction_type = "choice"
        definition.choices = _components(entries, "text" if "options" in spec else "label")
        definition.correct_responses_pattern = [spec["answer"]]
    elif item.type == "dilemma":
        definition.interaction_type = "choice"
        definition.choices = _components(spec["options"], "text")
        definition.correct_responses_pattern = [o["id"] for o in spec["options"] if o["score"] == 1]
    elif item.type == "multiple_response":
        definition.interaction_type = "choice"
        definition.choices = _components(spec["options"], "text")
        definition.correct_responses_pattern = ["[,]".join(sorted(spec["answer"]))]
    elif item.type == "true_false":
        definition.interaction_type = "true-false"
        definition.correct_responses_pattern = ["true" if spec["answer"] else "false"]
    elif item.type == "matching":
        definition.interaction_type = "matching"
        definition.source = _components(spec["pairs"], "prompt")
        definition.target = _components([{"id": p["id"], "match": p["match"]} for p in spec["pairs"]]
                                        + [{"id": d["id"], "match": d["text"]} for d in spec["distractors"]], "match")
        definition.correct_responses_pattern = ["[,]".join(f"{p['id']}[.]{p['id']}" for p in spec["pairs"])]
    elif item.type == "ordering":
        definition.interaction_type = "sequencing"
        definition.choices = _components(spec["items"], "text")
        definition.correct_responses_pattern = ["[,]".join(spec["answer"])]
    elif item.type == "numeric":
        definition.interaction_type = "numeric"
        answer, tolerance = spec["answer"], spec.get("tolerance") or 0
        definition.correct_responses_pattern = [f"{answer - tolerance:g}[:]{answer + tolerance:g}" if tolerance
                                                else f"{answer:g}"]
    elif item.type == "short_answer":
        definition.interaction_type = "fill-in"
        case = "{case_matters=true}" if spec.get("case_sensitive") else "{case_matters=false}"
        accepted = [answer for answers in spec["answers"].values() for answer in answers]
        definition.correct_responses_pattern = [case + answer for answer in dict.fromkeys(accepted)]
    elif item.type == "risk_rating":
        # Several dimensions, each rated on one scale: xAPI's likert takes a single rating, so each dimension is
        # matched to its point of the scale.
        definition.interaction_type = "matching"
        definition.source = _components(spec["dimensions"], "label")
        definition.target = InteractionComponentList([InteractionComponent(id=str(n), description=LanguageMap(
            {"en": str(n)})) for n in range(1, spec["scale"] + 1)])
        definition.correct_responses_pattern = ["[,]".join(f"{d['id']}[.]{d['model']}" for d in spec["dimensions"])]
    else:  # cloze, scenario, mrz_check: several answers in one; the response is their JSON
        definition.interaction_type = "other"
    return Activity(id=_iri(setting, "courses", slug, kind, key), definition=definition)


def response_text(item: Item, response: dict | None) -> str | None:
    """The response in the format the xAPI interaction type defines (JSON for the composite types), or None when
    nothing was given: an empty response string says nothing, and LRSs such as Ralph refuse it."""
    if not response:
        return None
    text = _response_text(item, response)
    return text or None


def typed_answer(item: Item, response: dict | None) -> dict:
    """A numeric answer as the trainee typed it ("1,5 kg"), kept beside the number the response holds."""
    if item.type == "numeric" and response and response.get("answer"):
        return {"typed-answer": str(response["answer"])}
    return {}


def _response_text(item: Item, response: dict) -> str:
    item_type = item.type
    if item_type in ("single_choice", "mrz_spot", "dilemma"):
        return "" if response.get("choice") is None else str(response["choice"])
    if item_type == "true_false":
        return {True: "true", False: "false"}.get(response.get("choice"), "")
    if item_type == "multiple_response":
        return "[,]".join(response.get("choices") or [])
    if item_type == "matching":
        return "[,]".join(f"{k}[.]{v}" for k, v in (response.get("matches") or {}).items() if v)
    if item_type == "ordering":
        return "[,]".join(response.get("order") or [])
    if item_type == "risk_rating":
        return "[,]".join(f"{k}[.]{v}" for k, v in (response.get("ratings") or {}).items())
    if item_type == "numeric":
        # xAPI's numeric response is a number: the answer in the model answer's unit, none when it reads as none.
        value = numeric_value(item, response)
        return "" if value is None else f"{value:g}"
    if item_type == "short_answer":
        return "" if response.get("answer") is None else str(response["answer"])
    return json.dumps(response, ensure_ascii=False, sort_keys=True)


# --- Events -----------------------------------------------------------------------------------------------------

def launched(event: LaunchCompleted, setting: Setting) -> list[dict]:
    # Every launch makes one, so the part a link, role and language share is built by tincan once
    # and each launch adds its own id, actor and time (as tincan writes them).
    statement = json.loads(_launch_shape(setting.base_url, setting.tenant, setting.country, setting.lti_context,
                                         event.target_link_uri, event.role, event.message_type, event.locale))
    statement["id"] = statement_id(event, "launched")
    statement["actor"] = json.loads(_actor_json(setting.actor))
    statement["timestamp"] = _instant(event.occurred_at).isoformat()
    return [statement]


@lru_cache(maxsize=4096)
def _launch_shape(base_url: str, tenant: str, country: str | None, lti_context: str | None, target_link_uri: str,
                  role: str, message_type: str, locale: str) -> str:
    """A launched statement's shared part as JSON text (text, so no caller can change the cached copy)."""
    setting = Setting(base_url=base_url, actor=Actor(home_page=base_url, name="-"), tenant=tenant, country=country,
                      lti_context=lti_context)
    event = LaunchCompleted(tenant_id=0, user_id=0, issuer=base_url, subject="-", role=role, locale=locale,
                            message_type=message_type, context_id=None, resource_link_id=None,
                            target_link_uri=target_link_uri)
    # The object is the activity the link opens, as cmi5 has it (a launched statement's object is the AU's
    # activity): the link's target is that activity's page, and so its id (a course, a quiz, or the catalogue).
    # It carries no definition: the statements about that activity define it, and an activity id must always
    # reference the same activity (xAPI 1.0.3, Data 2.4.4.1), which a definition of the link would contradict.
    shape = _statement(event, "launched", setting, "launched", Activity(id=target_link_uri), _context(
        setting, event, extra={"lti-role": role, "lti-message-type": message_type}))
    for per_launch in ("id", "actor", "timestamp"):
        del shape[per_launch]
    return json.dumps(shape)


def _question_json(interactions: Memo[tuple, str], base_url: str, slug: str, key: str, version_id: int,
                   item: Item) -> str:
    """A question version's interaction activity as JSON text: a version never changes, so it is built once and
    kept in the caller's memo, by (base URL, course, question key, version id)."""
    def build() -> str:
        setting = Setting(base_url=base_url, actor=Actor(home_page=base_url, name="-"), tenant="")
        return interaction(setting, slug, "questions", key, item).to_json("1.0.3")
    return interactions.get_or_make((base_url, slug, key, version_id), build)


@lru_cache(maxsize=4096)
def _actor_json(actor: Actor) -> str:
    return _actor(Setting(base_url="", actor=actor, tenant="")).to_json("1.0.3")


def lesson_viewed(event: LessonViewed, setting: Setting, names: Names) -> list[dict]:
    course = _course(setting, event.course_slug, names)
    return [_statement(event, "experienced", setting, "experienced",
                       _lesson(setting, event.course_slug, event.lesson_key, names),
                       _context(setting, event, parent=[_module(setting, event.course_slug, event.module_key, names)],
                                grouping=[course], extra={"lesson-version": event.lesson_version}))]


def exercise_answered(event: ExerciseAnswered, setting: Setting, names: Names) -> list[dict]:
    item = names.items[event.exercise_key]
    result = Result(score=Score(scaled=round(event.score_scaled, 4)), success=event.success, completion=True,
                    response=response_text(item, event.response), duration=_duration(event.duration_seconds),
                    extensions=_result_extensions(setting, typed_answer(item, event.response)))
    return [_statement(event, "answered", setting, "answered",
                       interaction(setting, event.course_slug, "exercises", event.exercise_key, item),
                       _context(setting, event, parent=[_lesson(setting, event.course_slug, event.lesson_key, names)],
                                grouping=[_course(setting, event.course_slug, names)],
                                extra={"item-version": event.exercise_version, "attempt": event.attempt}),
                       result)]


def lesson_completed(event: LessonCompleted, setting: Setting, names: Names) -> list[dict]:
    result = Result(score=Score(scaled=round(event.score_scaled, 4)), completion=True,
                    duration=_duration(event.duration_seconds))
    return [_statement(event, "completed", setting, "completed",
                       _lesson(setting, event.course_slug, event.lesson_key, names),
                       _context(setting, event, parent=[_module(setting, event.course_slug, event.module_key, names)],
                                grouping=[_course(setting, event.course_slug, names)],
                                extra={"lesson-version": event.lesson_version}), result)]


def module_completed(event: ModuleCompleted, setting: Setting, names: Names) -> list[dict]:
    return [_statement(event, "completed", setting, "completed",
                       _module(setting, event.course_slug, event.module_key, names),
                       _context(setting, event, parent=[_course(setting, event.course_slug, names)]),
                       Result(completion=True))]


def course_completed(event: CourseCompleted, setting: Setting, names: Names) -> list[dict]:
    result = Result(score=Score(scaled=round(event.score_scaled, 4)), completion=True,
                    success=event.score_scaled >= event.min_score, duration=_duration(event.duration_seconds))
    return [_statement(event, "completed", setting, "completed", _course(setting, event.course_slug, names),
                       _context(setting, event), result)]


def quiz_started(event: QuizAttemptStarted, setting: Setting, names: Names) -> list[dict]:
    return [_statement(event, "initialized", setting, "initialized",
                       _quiz(setting, event.course_slug, event.quiz_key, names),
                       _context(setting, event, parent=[_course(setting, event.course_slug, names)],
                                registration_id=registration(event.tenant_id, event.attempt_id),
                                extra=_quiz_extensions(event)))]


def _quiz_extensions(event: QuizAttemptStarted | QuizAttemptSubmitted) -> dict:
    return {"quiz-version": event.quiz_version, "quiz-kind": event.quiz_kind, "attempt": event.attempt_number}


def quiz_submitted(event: QuizAttemptSubmitted, setting: Setting, names: Names,
                   interactions: Memo[tuple, str]) -> list[dict]:
    """One `answered` per question, then `completed` for the attempt and `passed` or `failed` for its grade.
    `interactions` keeps each question version's interaction activity (see _question_json)."""
    quiz = _quiz(setting, event.course_slug, event.quiz_key, names)
    course = _course(setting, event.course_slug, names)
    attempt = registration(event.tenant_id, event.attempt_id)
    # Forty answers share all but their question, result and slot: tincan builds each shared part once (and each
    # question version's interaction once per application), and every statement is put together from those parts.
    shared = {"actor": json.loads(_actor_json(setting.actor)), "verb": _verb(VERB_ANSWERED).as_version("1.0.3"),
              "timestamp": _instant(event.occurred_at).isoformat()}
    context = _context(setting, event, parent=[quiz], grouping=[course], registration_id=attempt).as_version("1.0.3")
    statements = []
    for answer in event.answers:
        item = names.items.get(answer["question_key"])
        if item is None:
            continue  # a question withdrawn and gone since the attempt: its answer is in the attempt's score
        result = Result(score=Score(scaled=round(answer["score"], 4)), success=answer["score"] >= 1,
                        response=response_text(item, answer["response"]), completion=answer["response"] is not None,
                        extensions=_result_extensions(setting, typed_answer(item, answer["response"])))
        its_context = {**context, "extensions": {**context["extensions"],
                                                 _extension(setting, "item-version"): answer["question_version"],
                                                 _extension(setting, "slot"): answer["slot"] + 1}}
        statements.append({"id": statement_id(event, f"answered/{answer['slot']}"), **shared,
                           "object": json.loads(_question_json(interactions, setting.base_url, event.course_slug,
                                                               answer["question_key"], answer["question_version_id"],
                                                               item)),
                           "result": result.as_version("1.0.3"), "context": its_context})
    score = Score(scaled=round(event.score_scaled, 4), raw=round(event.score_scaled * len(event.answers), 4),
                  min=0, max=len(event.answers)) if event.answers else Score(scaled=round(event.score_scaled, 4))
    context = _context(setting, event, parent=[course], registration_id=attempt,
                       extra={**_quiz_extensions(event), "expired": event.expired, "grading": event.grading,
                              "grade-scaled": round(event.grade_scaled, 4), "pass-mark": event.pass_mark})
    statements.append(_statement(event, "completed", setting, "completed", quiz, context,
                                 Result(score=score, completion=True, duration=_duration(event.duration_seconds))))
    passed = event.score_scaled >= event.pass_mark
    statements.append(_statement(event, "passed" if passed else "failed", setting, "passed" if passed else "failed",
                                 quiz, context, Result(score=score, success=passed)))
    return statements


def grade_overridden(event: QuizGradeOverridden, setting: Setting, names: Names,
                     instructor: Actor | None) -> list[dict]:
    """`passed` or `failed` for the quiz grade now in force, set by an instructor (or the attempts' grade again
    once the override ended), with the instructor in the context: the latest result an LRS holds for the quiz is
    then the one the gradebook shows. Attempts' statements stay as they are, true of each attempt; the reason is
    not sent (free text about a person, kept in the audit trail)."""
    passed = event.passed
    result = Result(score=Score(scaled=round(event.grade_scaled, 4)), success=passed)
    extra = {"quiz-kind": event.quiz_kind, "grade-override": event.overridden, "pass-mark": event.pass_mark}
    if event.previous_grade_scaled is not None:
        extra["previous-grade-scaled"] = round(event.previous_grade_scaled, 4)
    context = _context(setting, event, parent=[_course(setting, event.course_slug, names)], extra=extra,
                       instructor=instructor)
    verb = "passed" if passed else "failed"
    return [_statement(event, "grade-overridden", setting, verb,
                       _quiz(setting, event.course_slug, event.quiz_key, names), context, result)]
