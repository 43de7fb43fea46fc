"""xAPI statement validation (ibm_lms.xapi.validation, pure).

Every shape of statement the product sends passes; each rule, broken alone in an otherwise valid statement, is
reported once, at its exact path; what Ralph stores although it is not xAPI is refused; and no input, however
malformed or large, makes `problems()` raise or take long.
"""

from __future__ import annotations

import copy
import json
import math
import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from ibm_lms.xapi.validation import (
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_STRING_BYTES,
    MAX_VALUES,
    InvalidStatement,
    check,
    problems,
)

TOOL = "https://training.border.example.org"
COURSE = f"{TOOL}/courses/document-checks"
VERBS = "http://adlnet.gov/expapi/verbs/"
TYPES = "http://adlnet.gov/expapi/activities/"
EXTENSION = f"{TOOL}/xapi/extensions/"
REGISTRATION = "6b8e4c1a-93f2-5d7e-a0b4-2c9d1e7f3a58"
STATEMENT_ID = "0d9f8a3c-4b1e-5c6d-8e7f-a1b2c3d4e5f6"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
# The course's name in the product's eight languages (az written with its script subtag).
NAMES = {"en": "Document checks", "ru": "Проверка документов", "uk": "Перевірка документів",
         "ka": "დოკუმენტების შემოწმება", "hy": "Փաստաթղթերի ստուգում", "az-Latn": "Sənədlərin yoxlanılması",
         "ro": "Verificarea documentelor", "be": "Праверка дакументаў"}


# --- Valid statements of every shape the product sends -----------------------------------------------------------

def actor() -> dict:
    return {"objectType": "Agent", "account": {"homePage": "https://moodle.border.example.org", "name": "7c1f0e9a"}}


def verb(name: str) -> dict:
    return {"id": VERBS + name, "display": {"en-US": name}}


def activity(path: str, kind: str, names: dict | None = None) -> dict:
    return {"objectType": "Activity", "id": f"{COURSE}/{path}",
            "definition": {"name": names or {"en": path}, "type": TYPES + kind}}


def context(**changes: Any) -> dict:
    base = {
        "registration": REGISTRATION, "platform": "IBM Training Suite", "language": "ru",
        "contextActivities": {
            "parent": [activity("lessons/passports", "lesson")],
            "grouping": [activity("", "course", NAMES)],
            "category": [{"id": f"{TOOL}/xapi/profile", "definition": {"type": TYPES + "profile"}}]},
        "extensions": {EXTENSION + "tenant": "md-border-academy", EXTENSION + "course-version": 3,
                       EXTENSION + "lti-context-id": "course-17", EXTENSION + "expired": False,
                       EXTENSION + "pass-mark": 0.7, EXTENSION + "note": None}}
    base.update(changes)
    return base


def statement(verb_name: str, obj: dict, result: dict | None = None, **context_changes: Any) -> dict:
    built = {"id": STATEMENT_ID, "actor": actor(), "verb": verb(verb_name), "object": obj,
             "context": context(**context_changes), "timestamp": "2024-05-01T09:30:12.345678+00:00"}
    if result is not None:
        built["result"] = result
    return built


def about(obj: dict) -> dict:
    """A statement about something other than an Activity: its context has no platform (Data 2.4.6)."""
    built = statement("experienced", obj)
    del built["context"]["platform"]
    return built


def substatement() -> dict:
    return about({"objectType": "SubStatement", "actor": actor(), "verb": verb("planned"), "object": {"id": COURSE}})


def components(*ids: str) -> list[dict]:
    return [{"id": component_id, "description": {"en": f"Option {component_id}", "ru": f"Вариант {component_id}"}}
            for component_id in ids]


# Each cmi.interaction type as our items become them: its definition's interaction part and a learner response.
INTERACTIONS: dict[str, tuple[dict, str]] = {
    "true-false": ({"correctResponsesPattern": ["true"]}, "false"),
    "choice": ({"choices": components("a", "b", "c"), "correctResponsesPattern": ["b[,]c"]}, "b"),
    "fill-in": ({"correctResponsesPattern": ["{case_matters=false}Chișinău", "{case_matters=false}Kishinev"]},
                "chisinau"),
    "long-fill-in": ({"correctResponsesPattern": ["{lang=en}The photo does not match the holder."]},
                     "The holder looks older than the photo and the laminate is lifted at the corner."),
    "matching": ({"source": components("s1", "s2"), "target": components("t1", "t2", "t3"),
                  "correctResponsesPattern": ["s1[.]t2[,]s2[.]t1"]}, "s1[.]t2[,]s2[.]t3"),
    "performance": ({"steps": components("photo", "mrz", "stamp"),
                     "correctResponsesPattern": ["{order_matters=false}photo[.]match[,]mrz[.]1[:]3[,]stamp[.]"]},
                    "photo[.]match[,]mrz[.]2"),
    "sequencing": ({"choices": components("greet", "document", "question", "decide"),
                    "correctResponsesPattern": ["greet[,]document[,]question[,]decide"]},
                   "greet[,]question[,]document[,]decide"),
    "likert": ({"scale": components("1", "2", "3", "4", "5"), "correctResponsesPattern": ["4"]}, "3"),
    "numeric": ({"correctResponsesPattern": ["4[:]6", "1.5e+06"]}, "5"),
    "other": ({"correctResponsesPattern": ["(47.0105,28.8638)"]}, '{"gaps": ["MDA", "1987"]}'),
}


def answered(kind: str = "choice") -> dict:
    interaction, response = INTERACTIONS[kind]
    definition = {"name": {"en": "Passport check", "ro": "Verificarea pașaportului"},
                  "description": {"en": "Which pages must be checked?"},
                  "type": TYPES + "cmi.interaction", "interactionType": kind, **copy.deepcopy(interaction)}
    obj = {"objectType": "Activity", "id": f"{COURSE}/questions/q-{kind}", "definition": definition}
    result = {"score": {"scaled": 0.5}, "success": False, "completion": True, "response": response,
              "duration": "PT1M05.25S",
              "extensions": {EXTENSION + "attempt": 2, EXTENSION + "item-version": 4}}
    return statement("answered", obj, result,
                     contextActivities={"parent": [activity("quizzes/final", "assessment")],
                                        "grouping": [activity("", "course", NAMES)]})


def launched() -> dict:
    link = {"objectType": "Activity", "id": f"{TOOL}/lti/launch",
            "definition": {"name": {"en": "IBM Training Suite"}, "type": TYPES + "link"}}
    return statement("launched", link, contextActivities={"category": [activity("profile", "profile")]})


def experienced() -> dict:
    return statement("experienced", activity("lessons/passports", "lesson", NAMES),
                     contextActivities={"parent": [activity("modules/travel-documents", "module")],
                                        "grouping": [activity("", "course", NAMES)]})


def completed() -> dict:
    result = {"score": {"scaled": 0.85}, "completion": True, "duration": "PT12M30S"}
    return statement("completed", activity("lessons/passports", "lesson"), result)


def graded(verb_name: str, scaled: float) -> dict:
    score = {"scaled": scaled, "raw": scaled * 20, "min": 0, "max": 20}
    return statement(verb_name, activity("quizzes/final", "assessment"),
                     {"score": score, "success": verb_name == "passed", "completion": True, "duration": "PT25M"})


VALID_SHAPES: dict[str, Callable[[], dict]] = {
    "launched": launched,
    "experienced": experienced,
    **{f"answered {kind}": (lambda kind=kind: answered(kind)) for kind in INTERACTIONS},
    "completed": completed,
    "passed": lambda: graded("passed", 0.85),
    "failed": lambda: graded("failed", 0.4),
}


@pytest.mark.parametrize("shape", VALID_SHAPES)
def test_every_statement_shape_we_send_is_valid(shape):
    built = VALID_SHAPES[shape]()
    assert problems(built) == []
    check(built)  # does not raise


def test_a_full_context_is_valid():
    built = completed()
    built["context"].update({
        "revision": "2024-04 spelling fixes",
        "instructor": {"objectType": "Agent", "name": "Ion Popescu", "mbox": "mailto:ion.popescu@border.example.org"},
        "team": {"objectType": "Group", "name": "Shift B", "member": [actor()]},
        "statement": {"objectType": "StatementRef", "id": REGISTRATION},
    })
    assert problems(built) == []


@pytest.mark.parametrize("language", ["en", "en-US", "ru", "uk", "ka", "hy", "az", "az-Latn", "ro", "be", "und",
                                      "EN-us", "sr-Latn-RS", "es-419", "zh-Hant-TW", "de-CH-1901", "qaa",
                                      "en-US-u-ca-gregory", "x-border", "i-klingon", "zh-min-nan", "en-GB-oed"])
def test_language_tags_of_rfc_5646_are_accepted(language):
    built = experienced()
    built["context"]["language"] = language
    built["object"]["definition"]["description"] = {language: "…"}
    assert problems(built) == []


@pytest.mark.parametrize("field, value", [
    ("id", "3F2B8C1E-6A4D-4F0E-9B7A-2C5D8E1F4A60"),  # upper case
    ("id", "00000000-0000-0000-0000-000000000000"),  # any version and variant
    ("timestamp", "2024-05-01T09:30:12Z"),
    ("timestamp", "2024-05-01T13:30:12.5+04:00"),
    ("timestamp", "2024-02-29T23:59:59.123456789-03:30"),
    ("stored", "2024-05-01T09:31:00.000Z"),
    ("version", "1.0.0"),
    ("version", "1.0.3"),
])
def test_top_level_values_in_their_accepted_forms(field, value):
    built = completed()
    built[field] = value
    assert problems(built) == []


@pytest.mark.parametrize("duration", ["PT0S", "PT00S", "PT01H00M00S", "P1DT01H01M01S", "PT0.5S", "PT4H35M59.14S",
                                      "PT16559.14S", "P3Y1M29DT4H35M59.14S", "P3Y", "P4W", "P0D", "PT36H"])
def test_iso_8601_durations_are_accepted(duration):
    built = completed()
    built["result"]["duration"] = duration
    assert problems(built) == []


@pytest.mark.parametrize("iri", [
    "http://adlnet.gov/expapi/verbs/answered", "https://example.org/xapi/verbs#checked",
    "urn:uuid:6b8e4c1a-93f2-5d7e-a0b4-2c9d1e7f3a58", "tag:border.example.org,2024:verbs/checked",
    "https://example.org/курсы/паспорт?lang=ru#шаг-1", "https://[2001:db8::1]:8443/verbs/x",
    "https://example.org/a%20b", "HTTPS://Example.ORG/Verbs/Checked",
])
def test_absolute_iris_are_accepted(iri):
    built = completed()
    built["verb"]["id"] = iri
    assert problems(built) == []


@pytest.mark.parametrize("identifier", [
    {"mbox": "mailto:olena.kovalenko@border.example.org"},
    {"mbox": "mailto:ана.петрова@пример.рф"},
    {"mbox_sha1sum": "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"},
    {"openid": "https://openid.example.org/olena"},
    {"account": {"homePage": "https://moodle.border.example.org", "name": "7c1f0e9a"}},
])
def test_each_inverse_functional_identifier_identifies_an_agent(identifier):
    built = completed()
    built["actor"] = {"objectType": "Agent", "name": "Olena Kovalenko", **identifier}
    assert problems(built) == []


def test_groups_anonymous_and_identified_are_actors():
    built = completed()
    built["actor"] = {"objectType": "Group", "member": [actor(), {"mbox": "mailto:b@border.example.org"}]}
    assert problems(built) == []
    built["actor"] = {"objectType": "Group", "name": "Shift B", "account": {"homePage": TOOL, "name": "shift-b"}}
    assert problems(built) == []


def test_context_activities_may_be_single_activities():
    built = experienced()
    built["context"]["contextActivities"] = {"parent": activity("modules/travel-documents", "module"),
                                             "other": {"id": f"{COURSE}/glossary"}}
    assert problems(built) == []


@pytest.mark.parametrize("obj", [
    {"objectType": "Agent", "mbox": "mailto:trainee@border.example.org"},
    {"objectType": "Group", "member": [{"mbox": "mailto:trainee@border.example.org"}]},
    {"objectType": "StatementRef", "id": REGISTRATION},
    {"objectType": "SubStatement", "actor": {"mbox": "mailto:trainee@border.example.org"},
     "verb": verb("completed"), "object": {"id": f"{COURSE}/lessons/visas"},
     "result": {"completion": True}, "context": {"platform": "IBM Training Suite"},
     "timestamp": "2030-01-01T00:00:00Z"},
])
def test_every_kind_of_object(obj):
    assert problems(about(obj)) == []


def test_an_agent_object_must_say_it_is_one():
    # Data 2.4.4.2: without objectType, an object is an Activity, which has an id and no mbox.
    built = about({"mbox": "mailto:t@example.org"})
    assert problems(built) == ["object.mbox: is not a property of an Activity", "object.id: is required"]


def test_a_voiding_statement_is_valid():
    built = about({"objectType": "StatementRef", "id": STATEMENT_ID})
    built["verb"] = verb("voided")
    assert problems(built) == []


def test_authority_and_attachments_in_their_valid_forms():
    built = completed()
    built["authority"] = {"objectType": "Group", "member": [
        {"account": {"homePage": "https://lrs.example.org/OAuth/token", "name": "ibm-training-suite"}},
        {"mbox": "mailto:admin@border.example.org"}]}
    built["attachments"] = [{
        "usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
        "display": {"en": "Certificate", "ru": "Сертификат"}, "description": {"en": "The course certificate"},
        "contentType": "application/pdf", "length": 20480, "sha2": SHA256,
        "fileUrl": f"{TOOL}/certificates/7c1f0e9a.pdf"}, {
        "usageType": "http://adlnet.gov/expapi/attachments/signature", "display": {"en": "Signature"},
        "contentType": "application/octet-stream", "length": 512, "sha2": SHA256}]
    assert problems(built) == []


def test_xapi_2_0_context_agents_and_groups_are_accepted_for_2_0_only():
    built = completed()
    built["version"] = "2.0.0"
    built["context"]["contextAgents"] = [{"objectType": "contextAgent", "agent": actor(),
                                          "relevantTypes": [f"{TOOL}/xapi/roles/examiner"]}]
    built["context"]["contextGroups"] = [{"objectType": "contextGroup", "group": {
        "objectType": "Group", "account": {"homePage": TOOL, "name": "shift-b"}}}]
    assert problems(built, version="2.0.0") == []
    assert sorted(problems(built)) == [
        "context.contextAgents: is an xAPI 2.0 property, not one of a 1.0.3 Context",
        "context.contextGroups: is an xAPI 2.0 property, not one of a 1.0.3 Context",
        "version: must be 1.0.x, such as 1.0.0"]


def test_an_unknown_version_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown xAPI version"):
        problems(completed(), version="0.95")


# --- Each rule broken alone is reported once, at its exact path ---------------------------------------------------

DELETE = object()


def changed(built: dict, path: tuple, value: Any) -> dict:
    """A copy of the statement with the value at `path` replaced (or removed, for DELETE)."""
    built = copy.deepcopy(built)
    holder = built
    for key in path[:-1]:
        holder = holder[key]
    if value is DELETE:
        del holder[path[-1]]
    else:
        holder[path[-1]] = value
    return built


def the_problem(built: dict) -> str:
    found = problems(built)
    assert len(found) == 1, found
    return found[0]


def path_of(problem: str) -> str:
    return problem.split(": ", 1)[0]


OBJ = ("object",)
DEF = ("object", "definition")
CTX = ("context",)
CA = ("context", "contextActivities")
SCORE = ("result", "score")

# (case, statement, path changed, new value, path expected in the one problem)
BROKEN: list[tuple[str, Callable[[], dict], tuple, Any, str]] = [
    # Statement (Data 2.2, 2.4)
    ("unknown property", completed, ("score",), 1, "score"),
    ("property of the wrong case", completed, ("Timestamp",), "2024-05-01T09:30:12Z", "Timestamp"),
    ("id not a uuid", completed, ("id",), "12345", "id"),
    ("id without hyphens", completed, ("id",), "3f2b8c1e6a4d4f0e9b7a2c5d8e1f4a60", "id"),
    ("id in braces", completed, ("id",), "{3f2b8c1e-6a4d-4f0e-9b7a-2c5d8e1f4a60}", "id"),
    ("id a number", completed, ("id",), 12345, "id"),
    ("actor missing", completed, ("actor",), DELETE, "actor"),
    ("verb missing", completed, ("verb",), DELETE, "verb"),
    ("object missing", completed, ("object",), DELETE, "object"),
    ("null property", completed, ("context",), None, "context"),
    ("empty object", completed, ("result",), {}, "result"),
    ("timestamp naive", completed, ("timestamp",), "2024-05-01T09:30:12.345", "timestamp"),
    ("timestamp a word", completed, ("timestamp",), "yesterday", "timestamp"),
    ("timestamp date only", completed, ("timestamp",), "2024-05-01", "timestamp"),
    ("timestamp with a space", completed, ("timestamp",), "2024-05-01 09:30:12Z", "timestamp"),
    ("timestamp without seconds", completed, ("timestamp",), "2024-05-01T09:30Z", "timestamp"),
    ("timestamp in lower case", completed, ("timestamp",), "2024-05-01t09:30:12z", "timestamp"),
    ("timestamp on a day that does not exist", completed, ("timestamp",), "2023-02-29T09:30:12Z", "timestamp"),
    ("timestamp at hour 24", completed, ("timestamp",), "2024-05-01T24:00:00Z", "timestamp"),
    ("timestamp with a leap second", completed, ("timestamp",), "2016-12-31T23:59:60Z", "timestamp"),
    ("timestamp offset -00:00", completed, ("timestamp",), "2024-05-01T09:30:12-00:00", "timestamp"),
    ("timestamp offset without colon", completed, ("timestamp",), "2024-05-01T09:30:12+0400", "timestamp"),
    ("timestamp a number", completed, ("timestamp",), 1714555812, "timestamp"),
    ("stored naive", completed, ("stored",), "2024-05-01T09:31:00", "stored"),
    ("version 2.0 in 1.0.3", completed, ("version",), "2.0.0", "version"),
    ("version incomplete", completed, ("version",), "1.0", "version"),
    ("version a number", completed, ("version",), 1.0, "version"),
    # Actor, Agent, Group (Data 2.4.2)
    ("two identifiers", completed, ("actor", "mbox"), "mailto:trainee@border.example.org", "actor"),
    ("no identifier", completed, ("actor", "account"), DELETE, "actor"),
    ("unknown agent property", completed, ("actor", "email"), "trainee@border.example.org", "actor.email"),
    ("objectType of the wrong case", completed, ("actor", "objectType"), "agent", "actor.objectType"),
    ("agent name empty", completed, ("actor", "name"), "", "actor.name"),
    ("agent name a number", completed, ("actor", "name"), 7, "actor.name"),
    ("account homePage not an IRL", completed, ("actor", "account", "homePage"), "moodle.example.org",
     "actor.account.homePage"),
    ("account homePage without a host", completed, ("actor", "account", "homePage"), "urn:moodle",
     "actor.account.homePage"),
    ("account name empty", completed, ("actor", "account", "name"), "", "actor.account.name"),
    ("account name missing", completed, ("actor", "account", "name"), DELETE, "actor.account.name"),
    ("account extra property", completed, ("actor", "account", "id"), 5, "actor.account.id"),
    ("anonymous group without members", completed, ("actor",), {"objectType": "Group", "name": "Shift B"},
     "actor.member"),
    ("group member is a group", completed, ("actor",),
     {"objectType": "Group", "member": [{"objectType": "Group", "member": [actor()]}]}, "actor.member[0].objectType"),
    ("group member without identifier", completed, ("actor",),
     {"objectType": "Group", "member": [actor(), {"name": "Nobody"}]}, "actor.member[1]"),
    ("group members empty", completed, ("actor",), {"objectType": "Group", "member": []}, "actor.member"),
    ("authority of three", completed, ("authority",),
     {"objectType": "Group", "member": [actor(), actor(), actor()]}, "authority.member"),
    ("authority without identifier", completed, ("authority",), {"name": "LRS"}, "authority"),
    # Verb (Data 2.4.3)
    ("verb id a word", completed, ("verb", "id"), "answered", "verb.id"),
    ("verb id without colon", completed, ("verb", "id"), "http//adlnet.gov/expapi/verbs/answered", "verb.id"),
    ("verb id relative", completed, ("verb", "id"), "/expapi/verbs/answered", "verb.id"),
    ("verb id with a space", completed, ("verb", "id"), "http://adlnet.gov/expapi/verbs/answered it", "verb.id"),
    ("verb id empty", completed, ("verb", "id"), "", "verb.id"),
    ("verb id missing", completed, ("verb", "id"), DELETE, "verb.id"),
    ("verb display a string", completed, ("verb", "display"), "completed", "verb.display"),
    ("verb display in english", completed, ("verb", "display"), {"english": "completed"}, 'verb.display["english"]'),
    ("verb display in en_US", completed, ("verb", "display"), {"en_US": "completed"}, 'verb.display["en_US"]'),
    ("verb display value a list", completed, ("verb", "display", "en-US"), ["completed"], 'verb.display["en-US"]'),
    ("verb display value empty", completed, ("verb", "display", "en-US"), "", 'verb.display["en-US"]'),
    ("verb display language twice", completed, ("verb", "display", "EN-us"), "done", 'verb.display["EN-us"]'),
    ("verb extra property", completed, ("verb", "name"), "completed", "verb.name"),
    ("voided verb on an activity", completed, ("verb", "id"), VERBS + "voided", "object.objectType"),
    # Object: Activity and its definition (Data 2.4.4.1)
    ("objectType unknown", completed, OBJ + ("objectType",), "Course", "object.objectType"),
    ("activity id relative", completed, OBJ + ("id",), "lessons/passports", "object.id"),
    ("activity id a fragment", completed, OBJ + ("id",), "#passports", "object.id"),
    ("activity id missing", completed, OBJ + ("id",), DELETE, "object.id"),
    ("activity extra property", completed, OBJ + ("name",), {"en": "x"}, "object.name"),
    ("definition extra property", completed, DEF + ("title",), {"en": "x"}, "object.definition.title"),
    ("definition name a string", completed, DEF + ("name",), "Passports", "object.definition.name"),
    ("definition type not an IRI", completed, DEF + ("type",), "lesson", "object.definition.type"),
    ("definition moreInfo without host", completed, DEF + ("moreInfo",), "urn:x:lesson",
     "object.definition.moreInfo"),
    ("definition extensions key not an IRI", completed, DEF + ("extensions",), {"difficulty": 3},
     'object.definition.extensions["difficulty"]'),
    # Interactions (Data 2.4.4.1)
    ("interactionType unknown", answered, DEF + ("interactionType",), "multiple-choice",
     "object.definition.interactionType"),
    ("interactionType of the wrong case", answered, DEF + ("interactionType",), "Choice",
     "object.definition.interactionType"),
    ("interactionType missing with interaction properties", answered, DEF + ("interactionType",), DELETE,
     "object.definition.interactionType"),
    ("correctResponsesPattern a string", answered, DEF + ("correctResponsesPattern",), "b[,]c",
     "object.definition.correctResponsesPattern"),
    ("correctResponsesPattern item a number", answered, DEF + ("correctResponsesPattern", 0), 2,
     "object.definition.correctResponsesPattern[0]"),
    ("correct response names no choice", answered, DEF + ("correctResponsesPattern", 0), "b[,]z",
     "object.definition.correctResponsesPattern[0]"),
    ("correct response with an empty item", answered, DEF + ("correctResponsesPattern", 0), "b[,]",
     "object.definition.correctResponsesPattern[0]"),
    ("component list the type does not take", answered, DEF + ("scale",), components("1", "2"),
     "object.definition.scale"),
    ("component list not an array", answered, DEF + ("choices",), {"id": "a"}, "object.definition.choices"),
    ("component without id", answered, DEF + ("choices", 1, "id"), DELETE, "object.definition.choices[1].id"),
    ("component ids not unique", answered, DEF + ("choices", 2, "id"), "a", "object.definition.choices[2].id"),
    ("component id with whitespace", answered, DEF + ("choices", 0, "id"), "a 1", "object.definition.choices[0].id"),
    ("component extra property", answered, DEF + ("choices", 0, "text"), "A", "object.definition.choices[0].text"),
    ("component description not a language map", answered, DEF + ("choices", 0, "description"), "A",
     "object.definition.choices[0].description"),
    ("response names no choice", answered, ("result", "response"), "z", "result.response"),
    # Object: other kinds (Data 2.4.4.2, 2.4.4.3)
    ("statement ref id not a uuid", lambda: about({"objectType": "StatementRef", "id": STATEMENT_ID}),
     OBJ + ("id",), "s-1", "object.id"),
    ("statement ref extra property", lambda: about({"objectType": "StatementRef", "id": STATEMENT_ID}),
     OBJ + ("definition",), {"type": TYPES}, "object.definition"),
    ("agent object mbox without mailto", lambda: about({"objectType": "Agent", "mbox": "mailto:t@example.org"}),
     OBJ + ("mbox",), "t@example.org", "object.mbox"),
    ("substatement with an id", substatement, OBJ + ("id",), STATEMENT_ID, "object.id"),
    ("substatement with stored", substatement, OBJ + ("stored",), "2024-05-01T09:31:00Z", "object.stored"),
    ("substatement with a version", substatement, OBJ + ("version",), "1.0.0", "object.version"),
    ("substatement with authority", substatement, OBJ + ("authority",), actor(), "object.authority"),
    ("substatement with attachments", substatement, OBJ + ("attachments",), [], "object.attachments"),
    ("substatement in a substatement", substatement, OBJ + ("object",), substatement()["object"],
     "object.object.objectType"),
    ("substatement without verb", substatement, OBJ + ("verb",), DELETE, "object.verb"),
    ("substatement timestamp naive", substatement, OBJ + ("timestamp",), "2030-01-01T00:00:00", "object.timestamp"),
    ("substatement platform about an agent", lambda: changed(substatement(), OBJ + ("object",), {
        "objectType": "Agent", "mbox": "mailto:t@example.org"}), OBJ + ("context",), {"platform": "IBM Training Suite"},
     "object.context.platform"),
    # Result (Data 2.4.5)
    ("scaled above 1", completed, SCORE + ("scaled",), 7, "result.score.scaled"),
    ("scaled below -1", completed, SCORE + ("scaled",), -1.5, "result.score.scaled"),
    ("scaled a string", completed, SCORE + ("scaled",), "0.85", "result.score.scaled"),
    ("scaled a boolean", completed, SCORE + ("scaled",), True, "result.score.scaled"),
    ("scaled NaN", completed, SCORE + ("scaled",), math.nan, "result.score.scaled"),
    ("scaled infinite", completed, SCORE + ("scaled",), math.inf, "result.score.scaled"),
    ("raw above max", lambda: graded("passed", 0.85), SCORE + ("raw",), 21, "result.score.raw"),
    ("raw below min", lambda: graded("passed", 0.85), SCORE + ("raw",), -1, "result.score.raw"),
    ("raw a boolean", lambda: graded("passed", 0.85), SCORE + ("raw",), False, "result.score.raw"),
    ("max beyond a double", lambda: graded("passed", 0.85), SCORE + ("max",), 10 ** 400, "result.score.max"),
    ("min not below max", lambda: changed(graded("passed", 0.85), SCORE + ("raw",), DELETE), SCORE + ("min",), 20,
     "result.score.min"),
    ("score extra property", completed, SCORE + ("percent",), 85, "result.score.percent"),
    ("success a string", completed, ("result", "success"), "true", "result.success"),
    ("completion a number", completed, ("result", "completion"), 1, "result.completion"),
    ("response a number", completed, ("result", "response"), 42, "result.response"),
    ("response null", completed, ("result", "response"), None, "result.response"),
    ("result extra property", completed, ("result", "grade"), "A", "result.grade"),
    ("result extensions key not an IRI", completed, ("result", "extensions"), {"attempt": 2},
     'result.extensions["attempt"]'),
    ("result extensions empty", completed, ("result", "extensions"), {}, "result.extensions"),
    # Context (Data 2.4.6)
    ("registration not a uuid", completed, CTX + ("registration",), "attempt-5", "context.registration"),
    ("instructor without identifier", completed, CTX + ("instructor",), {"name": "Ion Popescu"},
     "context.instructor"),
    ("team an agent", completed, CTX + ("team",), actor(), "context.team.objectType"),
    ("contextActivities unknown kind", completed, CA + ("course",), [activity("", "course")],
     "context.contextActivities.course"),
    ("contextActivities a string", completed, CA + ("grouping",), COURSE, "context.contextActivities.grouping"),
    ("contextActivities activity id relative", completed, CA + ("parent", 0, "id"), "lessons/passports",
     "context.contextActivities.parent[0].id"),
    ("contextActivities single activity without id", completed, CA + ("parent",), {"definition": {"type": TYPES}},
     "context.contextActivities.parent.id"),
    ("contextActivities an agent", completed, CA + ("other",), [{"objectType": "Agent", "id": COURSE}],
     "context.contextActivities.other[0].objectType"),
    ("revision when the object is an agent", lambda: about({"objectType": "Agent", "mbox": "mailto:t@example.org"}),
     CTX + ("revision",), "r2", "context.revision"),
    ("platform when the object is a statement", lambda: about({"objectType": "StatementRef", "id": STATEMENT_ID}),
     CTX + ("platform",), "IBM Training Suite", "context.platform"),
    ("platform empty", completed, CTX + ("platform",), "", "context.platform"),
    ("language in english", completed, CTX + ("language",), "english", "context.language"),
    ("language en_US", completed, CTX + ("language",), "en_US", "context.language"),
    ("context statement without objectType", completed, CTX + ("statement",), {"id": STATEMENT_ID},
     "context.statement.objectType"),
    ("context extensions key not an IRI", completed, CTX + ("extensions", "tenant"), "md",
     'context.extensions["tenant"]'),
    ("context extension value NaN", completed, CTX + ("extensions", EXTENSION + "tenant"), math.nan,
     f'context.extensions["{EXTENSION}tenant"]'),
    ("context extra property", completed, CTX + ("course",), COURSE, "context.course"),
    ("context agents in 1.0.3", completed, CTX + ("contextAgents",), [], "context.contextAgents"),
    # Attachments (Data 2.4.11)
    ("attachments not an array", completed, ("attachments",), {"usageType": TYPES}, "attachments"),
]


def _attachment(**changes: Any) -> Callable[[], dict]:
    def build() -> dict:
        built = completed()
        built["attachments"] = [{"usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
                                 "display": {"en": "Certificate"}, "contentType": "application/pdf",
                                 "length": 20480, "sha2": SHA256, **changes}]
        return built
    return build


ATTACHMENT = ("attachments", 0)
BROKEN += [
    ("attachment without sha2", _attachment(), ATTACHMENT + ("sha2",), DELETE, "attachments[0].sha2"),
    ("attachment usageType not an IRI", _attachment(), ATTACHMENT + ("usageType",), "certificate",
     "attachments[0].usageType"),
    ("attachment display in english", _attachment(), ATTACHMENT + ("display",), {"english": "Certificate"},
     'attachments[0].display["english"]'),
    ("attachment contentType not a media type", _attachment(), ATTACHMENT + ("contentType",), "pdf",
     "attachments[0].contentType"),
    ("attachment length a string", _attachment(), ATTACHMENT + ("length",), "20480", "attachments[0].length"),
    ("attachment length a fraction", _attachment(), ATTACHMENT + ("length",), 20.5, "attachments[0].length"),
    ("attachment length negative", _attachment(), ATTACHMENT + ("length",), -1, "attachments[0].length"),
    ("attachment sha2 upper case", _attachment(), ATTACHMENT + ("sha2",), SHA256.upper(), "attachments[0].sha2"),
    ("attachment sha2 too short", _attachment(), ATTACHMENT + ("sha2",), SHA256[:40], "attachments[0].sha2"),
    ("attachment fileUrl relative", _attachment(), ATTACHMENT + ("fileUrl",), "certificates/1.pdf",
     "attachments[0].fileUrl"),
    ("attachment extra property", _attachment(), ATTACHMENT + ("name",), "cert.pdf", "attachments[0].name"),
    ("signature not octet-stream", _attachment(usageType="http://adlnet.gov/expapi/attachments/signature",
                                                contentType="application/octet-stream"),
     ATTACHMENT + ("contentType",), "application/jose", "attachments[0].contentType"),
]


@pytest.mark.parametrize("case, build, where, value, expected", BROKEN, ids=[case[0] for case in BROKEN])
def test_each_rule_broken_alone_is_reported_at_its_path(case, build, where, value, expected):
    valid = build()
    assert problems(valid) == [], "the statement the case starts from must be valid"
    assert path_of(the_problem(changed(valid, where, value))) == expected


@pytest.mark.parametrize("kind, pattern", [
    ("true-false", "yes"), ("true-false", "True"),
    ("choice", "a[,]d"), ("sequencing", "greet[,]wave"),
    ("likert", "6"), ("likert", "3[,]4"),
    ("matching", "s1[.]t9"), ("matching", "s9[.]t1"), ("matching", "s1-t1"), ("matching", "s1[.]t1[.]t2"),
    ("performance", "visa[.]ok"), ("performance", "photo"), ("performance", "[.]ok"),
    ("numeric", "four"), ("numeric", "6[:]4"), ("numeric", "[:]"), ("numeric", "4..6"), ("numeric", "1[:]2[:]3"),
])
def test_response_patterns_follow_their_interaction_type(kind, pattern):
    problem = the_problem(changed(answered(kind), DEF + ("correctResponsesPattern",), [pattern]))
    assert path_of(problem) == "object.definition.correctResponsesPattern[0]"
    assert problem.endswith(f"({kind} interaction)")
    assert path_of(the_problem(changed(answered(kind), ("result", "response"), pattern))) == "result.response"


@pytest.mark.parametrize("kind, component_list", [
    ("true-false", "choices"), ("fill-in", "choices"), ("numeric", "steps"), ("other", "scale"),
    ("choice", "steps"), ("sequencing", "scale"), ("likert", "choices"), ("matching", "choices"),
    ("performance", "source"),
])
def test_only_the_component_lists_of_the_interaction_type(kind, component_list):
    built = changed(answered(kind), DEF + (component_list,), components("x", "y"))
    assert path_of(the_problem(built)) == f"object.definition.{component_list}"


@pytest.mark.parametrize("duration", ["PT-5S", "-PT5S", "P", "PT", "P4W1D", "P1DT", "PT1.5H", "PT1,5S", "PT.5S",
                                      "PT5.S", "P16559.14S", "pt5s", "1h", "5", "PT5S ", "P1Y1Y", "PT٣S"])
def test_malformed_or_negative_durations_are_refused(duration):
    built = changed(completed(), ("result", "duration"), duration)
    assert path_of(the_problem(built)) == "result.duration"


@pytest.mark.parametrize("language", ["english", "en_US", "xx", "e", "12", "en-", "-en", "en--US", "en US", "",
                                      "de-DE-1901-1901", "en-a-bbb-a-ccc", "en-US-", "ѐn", "x", "en-u"])
def test_what_is_not_a_language_tag_is_refused(language):
    assert path_of(the_problem(changed(completed(), CTX + ("language",), language))) == "context.language"
    assert path_of(the_problem(changed(completed(), ("verb", "display"), {language: "completed"}))) == \
        f"verb.display[{json.dumps(language, ensure_ascii=False)}]"


@pytest.mark.parametrize("iri", ["answered", "http//x", "www.example.org/verbs/answered", "http://", "https:verbs",
                                 "http://exa mple.org/v", "http://example.org/\tv", "http://example.org/\x00",
                                 "http://example.org/\u202ev", "http://example.org/<v>", "http://example.org/a#b#c",
                                 "http://example.org/%zz", "http://example.org/{v}", "1http://example.org", ":v",
                                 "http://example.org/a\\b", "http://[::1/v", "http://example.org/\ue000"])
def test_what_is_not_an_absolute_iri_is_refused(iri):
    assert path_of(the_problem(changed(completed(), ("verb", "id"), iri))) == "verb.id"


@pytest.mark.parametrize("mbox", ["trainee@border.example.org", "MAILTO:trainee@border.example.org", "mailto:",
                                  "mailto:trainee", "mailto:trainee@localhost", "mailto:@border.example.org",
                                  "mailto:a@b@border.example.org", "mailto:a..b@border.example.org",
                                  "mailto:trainee@border.example.org?subject=hi", "mailto:trainee@-border.org",
                                  "mailto:trainee@example.test", "mailto:trainee@10.0.0.1", "mailto:a b@example.org",
                                  "mailto:{a}@example.org"])
def test_an_mbox_is_mailto_and_one_address(mbox):
    built = changed(completed(), ("actor",), {"mbox": mbox})
    assert path_of(the_problem(built)) == "actor.mbox"


@pytest.mark.parametrize("checksum", ["2fd4e1c67a2d28fced849ee1bb76e7391b93eb1", "2FD4E1C67A2D28FCED849EE1BB76E7391B93EB12",
                                      "zfd4e1c67a2d28fced849ee1bb76e7391b93eb12", 12])
def test_an_mbox_sha1sum_is_40_lower_case_hexadecimal_digits(checksum):
    assert path_of(the_problem(changed(completed(), ("actor",), {"mbox_sha1sum": checksum}))) == "actor.mbox_sha1sum"


@pytest.mark.parametrize("openid", ["openid.example.org/olena", "https://openid.example.org/олена", ""])
def test_an_openid_is_an_absolute_uri(openid):
    assert path_of(the_problem(changed(completed(), ("actor",), {"openid": openid}))) == "actor.openid"


@pytest.mark.parametrize("text, why", [
    ("a\x00b", "NUL"), ("a\ud800b", "unpaired surrogate"), ("x" * (MAX_STRING_BYTES + 1), "longer than"),
    ("я" * (MAX_STRING_BYTES // 2 + 1), "longer than")])
def test_strings_that_cannot_be_stored_are_refused_even_in_extensions(text, why):
    assert why in the_problem(changed(completed(), ("actor", "account", "name"), text))
    extension = the_problem(changed(completed(), CTX + ("extensions", EXTENSION + "tenant"), {"deep": [text]}))
    assert extension.startswith(f'context.extensions["{EXTENSION}tenant"]["deep"][0]: ')


def test_extension_values_are_free_json():
    values = [None, "", 0, -2.5, True, [], {}, [None, {"a": [1, "b", {"c": None}]}], "Ω" * 1000]
    built = changed(completed(), CTX + ("extensions",), {f"{EXTENSION}v{i}": v for i, v in enumerate(values)})
    assert problems(built) == []


# --- What Ralph stores although it is not xAPI ----------------------------------------------------------------------

@pytest.mark.parametrize("where, value, expected", [
    (("verb", "id"), "answered", "verb.id"),
    (("verb", "id"), "http//adlnet.gov/expapi/verbs/answered", "verb.id"),
    (("timestamp",), "yesterday", "timestamp"),
    (("timestamp",), "2024-05-01T09:30:12", "timestamp"),
    (("result", "score", "scaled"), 7, "result.score.scaled"),
    (("result", "duration"), "-PT5S", "result.duration"),
    (("result", "duration"), "PT-5S", "result.duration"),
], ids=["verb a word", "verb without colon", "timestamp yesterday", "naive timestamp", "scaled 7",
        "negative duration", "negative seconds"])
def test_what_ralph_accepts_is_refused(where, value, expected):
    assert path_of(the_problem(changed(completed(), where, value))) == expected


def test_the_exact_messages_of_the_common_problems():
    broken = changed(completed(), ("result", "score", "scaled"), 7)
    broken["timestamp"] = "2024-05-01T09:30:12"
    broken["result"]["duration"] = "PT-5S"
    assert problems(broken) == ["result.score.scaled: must be between -1 and 1",
                                "result.duration: must not be negative",
                                "timestamp: must include a time zone: Z or an offset such as +04:00"]


def test_check_raises_with_every_problem():
    broken = changed(completed(), ("verb", "id"), "completed")
    broken["timestamp"] = "yesterday"
    with pytest.raises(InvalidStatement) as raised:
        check(broken)
    assert raised.value.problems == tuple(problems(broken))
    assert len(raised.value.problems) == 2
    assert isinstance(raised.value, ValueError)
    assert "verb.id" in str(raised.value)


# --- Size guards ------------------------------------------------------------------------------------------------------

def test_more_components_than_accepted_is_one_problem():
    built = changed(answered("choice"), DEF + ("choices",), components(*(f"c{i}" for i in range(MAX_ITEMS + 1))))
    assert the_problem(built) == f"object.definition.choices: has {MAX_ITEMS + 1} items, more than the {MAX_ITEMS} accepted"


def test_more_members_than_accepted_is_one_problem():
    built = changed(completed(), ("actor",), {"objectType": "Group", "member": [actor()] * (MAX_ITEMS + 1)})
    assert path_of(the_problem(built)) == "actor.member"


@pytest.mark.parametrize("junk, expected", [
    (list(range(MAX_VALUES + 1)), f"statement: holds more than {MAX_VALUES} values"),
    ([["x" * 1000] * 1000] * 9, "statement: holds more than 8000000 characters of text"),
], ids=["values", "text"])
def test_absurdly_large_statements_are_refused_quickly(junk, expected):
    built = completed()
    built["context"]["extensions"][EXTENSION + "junk"] = junk
    started = time.perf_counter()
    assert problems(built) == [expected]
    assert time.perf_counter() - started < 1


def test_deep_nesting_is_refused_without_recursion():
    deep: dict = {}
    inner = deep
    for _ in range(200_000):  # far beyond Python's recursion limit
        inner["a"] = {}
        inner = inner["a"]
    built = completed()
    built["context"]["extensions"][EXTENSION + "deep"] = deep  # not through changed(): deepcopy recurses
    assert problems(built) == [f"statement: is nested more than {MAX_DEPTH} levels deep"]


def test_a_statement_at_the_limits_is_checked_in_good_time():
    built = answered("choice")
    ids = ["a", "b", "c", *(f"c{i}" for i in range(3, MAX_ITEMS))]  # the pattern and response name a, b and c
    built["object"]["definition"]["choices"] = [
        {"id": choice, "description": {language: f"{text} {choice}" for language, text in NAMES.items()}}
        for choice in ids]
    started = time.perf_counter()
    assert problems(built) == []
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("junk, expected", [
    ((1, 2), 'context.extensions["https://training.border.example.org/xapi/extensions/junk"]: is a tuple'),
    ({1, 2}, 'context.extensions["https://training.border.example.org/xapi/extensions/junk"]: is a set'),
    (b"bytes", 'context.extensions["https://training.border.example.org/xapi/extensions/junk"]: is a bytes'),
    ({1: "a"}, 'context.extensions["https://training.border.example.org/xapi/extensions/junk"]: has the key "1"'),
], ids=["tuple", "set", "bytes", "integer key"])
def test_what_is_not_json_data_is_refused(junk, expected):
    assert the_problem(changed(completed(), CTX + ("extensions", EXTENSION + "junk"), junk)).startswith(expected)


def test_a_reference_cycle_is_refused_and_a_shared_object_is_not():
    built = completed()
    built["context"]["extensions"][EXTENSION + "loop"] = built["context"]
    assert the_problem(built) == (f'context.extensions["{EXTENSION}loop"]: refers back to an object that contains it '
                                  "(a cycle), which JSON cannot hold")
    shared = completed()
    shared["authority"] = shared["actor"]  # the same dict twice, as a builder may well do
    assert problems(shared) == []


# --- problems() never raises, never changes its input --------------------------------------------------------------

def junk_value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(12 if depth < 4 else 8)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 7, 10 ** 30, 2 ** 1100, 0.5, -1e308, math.nan, math.inf, -0.0])
    if choice in (3, 4, 5, 6, 7):
        return rng.choice(["", " ", "a", "answered", "http://x", "mailto:a@b.org", "en-US", "english", "PT5S",
                           "PT-5S", "2024-05-01T09:30:12Z", "yesterday", STATEMENT_ID, "\x00", "\ud800", "[,]", "[.]",
                           "[:]", "{case_matters=true}", "Agent", "Group", "SubStatement", "StatementRef",
                           "Activity", "choice", "likert", "true", "a[,]b", "s1[.]t1", "4[:]", "Ω" * 50])
    if choice in (8, 9):
        return [junk_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["id", "actor", "verb", "object", "result", "context", "objectType", "mbox", "member", "account",
            "homePage", "name", "display", "definition", "interactionType", "choices", "scale", "source", "target",
            "steps", "correctResponsesPattern", "score", "scaled", "raw", "min", "max", "response", "duration",
            "extensions", "contextActivities", "parent", "team", "instructor", "statement", "attachments",
            "usageType", "sha2", "length", "contentType", "timestamp", "stored", "version", "authority", "en",
            "http://x/e", "", "Ω"]
    return {rng.choice(keys): junk_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def nodes(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += nodes(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += nodes(inner, (*path, index))
    return found


def assert_well_formed(found: Any) -> None:
    assert isinstance(found, list)
    for problem in found:
        assert isinstance(problem, str)
        where, separator, message = problem.partition(": ")
        assert where and separator and message, problem
        problem.encode("utf-8")  # printable: no unpaired surrogate leaks into a message


def test_problems_never_raises_on_random_json():
    rng = random.Random(20240501)
    for _ in range(400):
        junk = junk_value(rng)
        assert_well_formed(problems(junk))
        if isinstance(junk, dict):
            assert_well_formed(problems(junk, version="2.0.0"))


def test_problems_never_raises_on_valid_statements_damaged_at_random():
    rng = random.Random(7)
    shapes = list(VALID_SHAPES.values())
    for _ in range(400):
        built = rng.choice(shapes)()
        where = rng.choice(nodes(built)[1:])
        damaged = changed(built, where, DELETE if rng.random() < 0.2 else junk_value(rng))
        before = copy.deepcopy(damaged)
        assert_well_formed(problems(damaged))
        assert_well_formed(problems(damaged, version="2.0.0"))
        # Deep equality except NaN, which equals nothing: compare the JSON texts instead.
        assert json.dumps(damaged, sort_keys=True, default=repr) == json.dumps(before, sort_keys=True, default=repr)


def test_removing_a_required_property_anywhere_is_always_a_problem():
    for shape in VALID_SHAPES.values():
        built = shape()
        for required in (("actor",), ("verb",), ("object",), ("verb", "id"), ("object", "id"),
                         ("actor", "account")):
            assert problems(changed(built, required, DELETE)) != []


def test_problems_does_not_change_the_statement_it_checks():
    built = changed(graded("passed", 0.85), ("object", "objectType"), DELETE)  # an LRS would add it; we must not
    before = copy.deepcopy(built)
    problems(built)
    assert built == before


def test_an_activity_valid_once_stays_valid_and_a_broken_one_is_reported_wherever_it_appears():
    # Valid first: the same activity in the next statement is accepted as before, and a problem elsewhere in that
    # statement is still found.
    first = experienced()
    assert problems(first) == []
    again = experienced()
    again["verb"]["id"] = "launched"
    assert [p.split(":")[0] for p in problems(again)] == ["verb.id"]
    # Broken: reported as the object and again as a parent, each with its own path, call after call.
    broken = activity("lessons/visas", "lesson", {"en": "Visas", "english": "Visas"})
    for _ in range(2):
        built = experienced()
        built["object"] = copy.deepcopy(broken)
        built["context"]["contextActivities"] = {"parent": [copy.deepcopy(broken)]}
        found = problems(built)
        assert any(p.startswith('object.definition.name["english"]') for p in found)
        assert any(p.startswith('context.contextActivities.parent[0].definition.name["english"]') for p in found)
