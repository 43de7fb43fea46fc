"""/api/v1 as a script or a page's own code uses it: tokens, the CSRF header, schemas, errors, OpenAPI."""

from __future__ import annotations

import copy
import io

import pytest
from sqlalchemy import select

from ibm_lms.demo.platform import DEMO_USERS
from ibm_lms.extensions import db
from ibm_lms.quiz.models import Question, QuestionVersion
from ibm_lms.tenancy import service as tenancy
from tests.quiz.helpers import csrf_of

COURSE = "anti-corruption"
API = f"/api/v1/courses/{COURSE}"
SHARED_KEY = "ac-q-banknote-hand-back"


def token_for(cli, tenant: str = "ge-academy", role: str = "instructor") -> str:
    result = cli.invoke(args=["api", "token", "create", "--tenant", tenant, "--name", "bank sync", "--role", role])
    assert result.exit_code == 0, result.output
    return result.output.split(": ", 1)[1].split()[0]


@pytest.fixture
def bearer(platform, courses, cli):
    tenancy.ensure_tenant("ge-academy")
    db.session.commit()
    return {"Authorization": f"Bearer {token_for(cli)}"}


def test_a_token_lists_reads_copies_and_changes_questions(client, bearer):
    listed = client.get(f"{API}/questions", headers=bearer)
    assert listed.status_code == 200
    keys = {q["key"]: q for q in listed.get_json()}
    assert len(keys) >= 40 and keys[SHARED_KEY]["shared"] is True and keys[SHARED_KEY]["type"] == "true_false"
    copied = client.post(f"{API}/questions/{SHARED_KEY}/copy", headers=bearer)
    assert copied.status_code == 201 and copied.get_json()["shared"] is False
    definition = copy.deepcopy(copied.get_json()["definition"])
    definition["difficulty"] = "hard"
    definition["prompt"]["uk"] = "Український текст"
    saved = client.put(f"{API}/questions/{SHARED_KEY}", headers=bearer,
                       json={"definition": definition, "base_version": 1})
    assert saved.status_code == 200, saved.get_json()
    assert (saved.get_json()["version"], saved.get_json()["difficulty"]) == (2, "hard")
    stale = client.put(f"{API}/questions/{SHARED_KEY}", headers=bearer, json={"definition": definition,
                                                                             "base_version": 1})
    assert stale.status_code == 409 and stale.get_json()["error"] == "edit_conflict"
    row = db.session.execute(select(Question).where(Question.key == SHARED_KEY, Question.bank != 0)).scalar_one()
    assert db.session.get(QuestionVersion, row.current_version_id).created_by is None


def test_a_bad_definition_is_refused_with_every_problem_and_nothing_saved(client, bearer):
    response = client.put(f"{API}/questions/ac-q-api", headers=bearer, json={"definition": {
        "type": "single_choice", "outcomes": ["NOPE"], "category": "Bad Category", "difficulty": "medium",
        "title": {"en": "t"}, "prompt": {"en": "p"}, "feedback": {"en": "f"}, "answer": "z",
        "options": [{"id": "a", "text": {"en": "A"}}, {"id": "b", "text": {"en": "B"}}]}})
    assert response.status_code == 422
    paths = {p["path"] for p in response.get_json()["problems"]}
    assert {"answer", "category", "outcomes"} <= paths
    assert db.session.execute(select(Question).where(Question.bank != 0)).first() is None


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"definition": "a string"}', b"{}"])
def test_a_body_that_is_not_the_schema_is_a_clear_422(client, bearer, body):
    response = client.put(f"{API}/questions/ac-q-api", headers={**bearer, "Content-Type": "application/json"},
                          data=body)
    assert response.status_code == 422 and response.get_json()["error"] == "invalid_body"


@pytest.mark.parametrize("body", [b"not json", b'{"definition": ' + b"9" * 5000 + b"}", b'{"a": "\xff"}'])
def test_a_body_that_is_not_json_is_said_to_be_so(client, bearer, body):
    response = client.put(f"{API}/questions/ac-q-api", headers={**bearer, "Content-Type": "application/json"},
                          data=body)
    assert response.status_code == 422 and "not valid JSON" in response.get_json()["message"]


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000,
                                  b'{"definition": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
                                  b'{"definition": ' + b'{"a": ' * 40 + b"1" + b"}" * 41])
def test_a_body_nested_past_any_definition_is_a_clear_422(client, bearer, body):
    response = client.put(f"{API}/questions/ac-q-api", headers={**bearer, "Content-Type": "application/json"},
                          data=body)
    assert response.status_code == 422 and response.get_json()["error"] == "invalid_body"
    assert "nested more than 32 levels deep" in response.get_json()["message"]


def test_quizzes_round_trip_through_get_and_put(client, bearer):
    shared = client.get(f"{API}/quizzes/final-exam", headers=bearer).get_json()
    settings = shared["settings"]
    settings["time_limit_minutes"] = 60
    saved = client.put(f"{API}/quizzes/final-exam", headers=bearer, json={"settings": settings})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["shared"] is False and saved.get_json()["settings"]["time_limit_minutes"] == 60
    settings["draw"] = [{"count": 999}]
    refused = client.put(f"{API}/quizzes/final-exam", headers=bearer, json={"settings": settings})
    assert refused.status_code == 422 and refused.get_json()["problems"][0]["path"] == "draw.0.count"


def test_review_settings_that_are_not_a_table_are_a_problem(client, bearer):
    settings = client.get(f"{API}/quizzes/final-exam", headers=bearer).get_json()["settings"]
    refused = client.put(f"{API}/quizzes/final-exam", headers=bearer, json={"settings": {**settings, "review": "x"}})
    assert refused.status_code == 422 and [p["path"] for p in refused.get_json()["problems"]] == ["review"]


@pytest.mark.parametrize("draw, path", [({"questions": [["a"]]}, "draw.0.questions"),
                                        ({"count": 1, "tags": 5}, "draw.0.tags"),
                                        ({"count": 1, "outcomes": 1.5}, "draw.0.outcomes")])
def test_a_draw_of_the_wrong_shape_is_a_problem_not_an_error(client, bearer, draw, path):
    settings = client.get(f"{API}/quizzes/final-exam", headers=bearer).get_json()["settings"]
    refused = client.put(f"{API}/quizzes/final-exam", headers=bearer, json={"settings": {**settings, "draw": [draw]}})
    assert refused.status_code == 422 and [p["path"] for p in refused.get_json()["problems"]] == [path]


@pytest.mark.parametrize("base_version", [1.5, "2", 0, 2**70])
def test_a_base_version_that_names_no_version_is_refused(client, bearer, base_version):
    settings = client.get(f"{API}/quizzes/final-exam", headers=bearer).get_json()["settings"]
    refused = client.put(f"{API}/quizzes/final-exam", headers=bearer,
                         json={"settings": settings, "base_version": base_version})
    assert refused.status_code == 422 and refused.get_json()["error"] == "invalid_body"
    assert "base_version" in refused.get_json()["message"]


@pytest.mark.parametrize("tags", [5, "abc", {"a": 1}, None])
def test_tags_that_are_not_a_list_are_a_problem_not_an_error(client, bearer, tags):
    definition = client.get(f"{API}/questions/ac-q-banknote-hand-back", headers=bearer).get_json()["definition"]
    refused = client.put(f"{API}/questions/ac-q-banknote-hand-back", headers=bearer,
                         json={"definition": {**definition, "tags": tags}})
    assert refused.status_code == 422 and "tags" in {p["path"] for p in refused.get_json()["problems"]}


def test_statistics_and_images_answer_in_their_schema(client, bearer):
    from PIL import Image

    stats = client.get(f"{API}/quizzes/post-test/statistics?which=first", headers=bearer).get_json()
    assert stats["which"] == "first" and stats["quiz"]["attempts"] == 0 and stats["questions"] == []
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    uploaded = client.post(f"{API}/images", headers=bearer, content_type="multipart/form-data",
                           data={"image": (io.BytesIO(out.getvalue()), "a.png")})
    assert uploaded.status_code == 201 and uploaded.get_json()["markdown"].startswith("![](image:")


@pytest.mark.parametrize("header", ["Bearer ibm_not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "ibm_x"])
def test_no_valid_credential_is_a_401(client, bearer, header):
    response = client.get(f"{API}/questions", headers={"Authorization": header})
    assert response.status_code == 401 and response.get_json()["error"] == "not_signed_in"


def test_a_revoked_token_stops_working(client, bearer, cli):
    assert client.get(f"{API}/questions", headers=bearer).status_code == 200
    import json

    listed = cli.invoke(args=["api", "token", "list", "--tenant", "ge-academy"]).output.splitlines()
    assert listed[0] == "id\tname\trole\tcreated_at\tlast_used_at\trevoked" and len(listed) == 2
    token = json.loads(cli.invoke(args=["api", "token", "list", "--tenant", "ge-academy", "--json"]).output)
    assert token["revoked"] is False and token["last_used_at"].endswith("Z")
    for impossible in ("99999999999999999999999", "0"):
        refused = cli.invoke(args=["api", "token", "revoke", "--tenant", "ge-academy", impossible])
        assert refused.exit_code == 2 and "is not in the range" in refused.output and refused.exception is not None
        assert not isinstance(refused.exception, OverflowError)
    assert cli.invoke(args=["api", "token", "revoke", "--tenant", "ge-academy", str(token["id"])]).exit_code == 0
    assert client.get(f"{API}/questions", headers=bearer).status_code == 401
    assert json.loads(cli.invoke(args=["api", "token", "list", "--tenant", "ge-academy", "--json"]).output)["revoked"]


def test_another_academys_token_sees_only_its_own_bank(client, bearer, cli):
    client.post(f"{API}/questions/{SHARED_KEY}/copy", headers=bearer)
    tenancy.ensure_tenant("md-academy")
    db.session.commit()
    other = {"Authorization": f"Bearer {token_for(cli, 'md-academy')}"}
    listed = {q["key"]: q for q in client.get(f"{API}/questions", headers=other).get_json()}
    assert listed[SHARED_KEY]["shared"] is True  # the Georgian copy is not Moldova's
    assert client.delete(f"{API}/questions/{SHARED_KEY}", headers=other).status_code == 404


def test_a_session_needs_the_csrf_header_for_writes_and_learners_get_403(launcher, client, courses):
    launcher.platform.user = DEMO_USERS["instructor"]
    assert launcher.launch(locale="en").status_code == 303
    assert client.get(f"{API}/questions").status_code == 200
    assert client.post(f"{API}/questions/{SHARED_KEY}/copy").status_code == 400
    token = csrf_of(client.get(f"/courses/{COURSE}/quizzes/practice").get_data(as_text=True))
    assert client.post(f"{API}/questions/{SHARED_KEY}/copy", headers={"X-CSRFToken": token}).status_code == 201
    launcher.platform.user = DEMO_USERS["trainee"]
    assert launcher.launch(locale="en").status_code == 303
    refused = client.get(f"{API}/questions")
    assert refused.status_code == 403 and "question bank API" in refused.get_json()["message"]
    # Each API refuses in its own words: a trainee asking for certification records hears about those.
    refused = client.get("/api/v1/certification/candidates")
    assert refused.status_code == 403 and "question bank" not in refused.get_json()["message"]
    assert "certification records are for its administrators and approvers" in refused.get_json()["message"]


def test_the_openapi_document_describes_every_route(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.") and "Question" in document["components"]["schemas"]
    documented = {path.replace("{", "<").replace("}", ">") for path in document["paths"]}
    routes = {rule.rule.removeprefix("/api/v1") for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/openapi.json"}
    assert routes == documented


def test_the_openapi_document_says_where_its_paths_start(client):
    assert client.get("/api/v1/openapi.json").get_json()["servers"] == [{"url": "/api/v1"}]


def test_a_withdrawn_question_reads_as_the_bank_lists_it(client, bearer):
    copied = client.post(f"{API}/questions/{SHARED_KEY}/copy", headers=bearer).get_json()
    own = copy.deepcopy(copied["definition"])
    assert client.put(f"{API}/questions/ac-q-own", headers=bearer, json={"definition": own}).status_code == 200
    for key in (SHARED_KEY, "ac-q-own"):
        assert client.delete(f"{API}/questions/{key}", headers=bearer).status_code == 204
    # A withdrawn copy gives way to the shared question again; a withdrawn question of the academy's own is gone.
    shared = client.get(f"{API}/questions/{SHARED_KEY}", headers=bearer)
    assert shared.status_code == 200 and shared.get_json()["shared"] is True
    assert client.get(f"{API}/questions/ac-q-own", headers=bearer).status_code == 404
    assert "ac-q-own" not in {q["key"] for q in client.get(f"{API}/questions", headers=bearer).get_json()}
