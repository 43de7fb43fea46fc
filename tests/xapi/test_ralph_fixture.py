"""The ``lrs`` fixture runs a real Ralph: statements go in and come back, one store per test, no process left behind.

The tests of Ralph's answers to duplicates and to invalid statements pin the facts the delivery worker is written
against (see the docstring of conftest.py): if a new Ralph answers otherwise, they fail and the worker needs a look.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.xapi.conftest import XAPI_HEADERS, Lrs, running_lrs

HOME_PAGE = "https://training.ibm.example"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
START = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def clean_database():
    """These tests use Ralph only: no app, no database to clean (tests/conftest.py's autouse fixture needs both)."""
    yield


def make_statement(n: int = 0, **overrides) -> dict:
    """A valid xAPI 1.0.3 statement: an account actor, an ADL verb, an activity with its definition, a timestamp."""
    statement = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "name": f"Learner {n}", "account": {"homePage": HOME_PAGE, "name": f"user-{n}"}},
        "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
        "object": {
            "objectType": "Activity",
            "id": f"{HOME_PAGE}/courses/anti-corruption/lessons/{n}",
            "definition": {
                "name": {"en-US": f"Lesson {n}"},
                "type": "http://adlnet.gov/expapi/activities/lesson",
            },
        },
        "timestamp": (START + timedelta(seconds=n)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    statement.update(overrides)
    return statement


def post(lrs: Lrs, body, auth=None) -> requests.Response:
    return requests.post(lrs.endpoint + "statements", json=body, auth=auth or lrs.auth, headers=XAPI_HEADERS,
                         timeout=10)


def get(lrs: Lrs, **params) -> requests.Response:
    return requests.get(lrs.endpoint + "statements", params=params, auth=lrs.auth, headers=XAPI_HEADERS, timeout=10)


def as_sent(stored: dict, sent: dict) -> dict:
    """The stored statement without what Ralph adds (stored, authority)."""
    return {key: stored.get(key) for key in sent}


def alive(pid: int) -> bool:
    """Whether the process exists, zombies included: the fixture must have reaped its server, not only killed it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_one_statement_and_a_batch_of_100_come_back_by_id(lrs):
    one = make_statement()
    response = post(lrs, one)
    assert response.status_code == 200, response.text
    assert response.json() == [one["id"]]

    batch = [make_statement(n) for n in range(1, 101)]
    response = post(lrs, batch)
    assert response.status_code == 200, response.text
    assert response.json() == [s["id"] for s in batch]

    first_page = get(lrs).json()
    assert len(first_page["statements"]) == 100 and first_page["more"], "101 statements do not fit in one page"
    stored = lrs.statements()
    assert sorted(s["id"] for s in stored) == sorted(s["id"] for s in [one, *batch])

    for sent in [one, *batch]:
        found = lrs.statement(sent["id"])
        assert found is not None, sent["id"]
        assert as_sent(found, sent) == sent
        assert found["authority"]["account"]["name"] == lrs.username
        assert found["stored"]
    assert lrs.statement(str(uuid.uuid4())) is None


def test_every_post_is_stored_not_only_the_first(lrs):
    """Ralph's fs backend creates its file on the first write and refuses the second: ralph_server.py appends."""
    sent = [make_statement(n) for n in range(3)]
    for statement in sent:
        response = post(lrs, statement)
        assert response.status_code == 200, response.text
    assert [s["id"] for s in lrs.statements()] == [s["id"] for s in sent]
    assert [p.name for p in lrs.store.iterdir()] == ["fs_lrs.jsonl"]
    assert not lrs.server.history_file.exists(), "Ralph's history file is written on every request"


def test_wrong_credentials_are_refused_with_401(lrs):
    for auth in [(lrs.username, "wrong-password"), ("somebody-else", lrs.password), None]:
        response = requests.post(lrs.endpoint + "statements", json=make_statement(), auth=auth, headers=XAPI_HEADERS,
                                 timeout=10)
        assert response.status_code == 401, (auth, response.status_code, response.text)
        assert response.headers["WWW-Authenticate"] == "Basic"
        response = requests.get(lrs.endpoint + "statements", auth=auth, headers=XAPI_HEADERS, timeout=10)
        assert response.status_code == 401, (auth, response.status_code, response.text)
    assert lrs.statements() == []
    assert requests.get(lrs.endpoint.replace("xAPI/", "whoami"), auth=lrs.auth, timeout=10).status_code == 200


def check_stop_and_start(lrs: Lrs) -> None:
    before = make_statement(1)
    assert post(lrs, before).status_code == 200
    endpoint, pid = lrs.endpoint, lrs.pid

    lrs.stop()
    assert not alive(pid) and lrs.pid is None
    with pytest.raises(requests.ConnectionError):
        post(lrs, make_statement(2))
    lrs.stop()  # stopping a stopped server is harmless

    lrs.start()
    assert lrs.endpoint == endpoint and alive(lrs.pid) and lrs.pid != pid
    assert as_sent(lrs.statement(before["id"]), before) == before
    after = make_statement(3)
    assert post(lrs, after).status_code == 200
    assert [s["id"] for s in lrs.statements()] == [before["id"], after["id"]]


def test_stop_refuses_connections_and_start_serves_the_same_store(lrs):
    check_stop_and_start(lrs)


def test_one_interpreter_per_server_works_as_well(tmp_path):
    """IBM_LMS_TEST_RALPH_LAUNCHER=spawn, and where there is no fork: python -m tests.xapi.ralph_server per server."""
    with pytest.raises(ZeroDivisionError), running_lrs(tmp_path, launcher="spawn") as lrs:
        pid = lrs.pid
        assert pid in lrs.server.launcher.processes, "a child of this process"
        sent = [make_statement(1), make_statement(2)]
        assert [post(lrs, statement).status_code for statement in sent] == [200, 200]
        assert [s["id"] for s in lrs.statements()] == [s["id"] for s in sent]
        1 / 0  # noqa: B018 - and the server is stopped all the same
    assert not alive(pid)


_first_test: dict = {}


def test_isolation_first_test_stores_a_statement(lrs):
    statement = make_statement()
    assert post(lrs, statement).status_code == 200
    _first_test.update(id=statement["id"], store=lrs.store, pid=lrs.pid)


def test_isolation_the_next_test_has_a_fresh_store_and_the_last_server_is_gone(lrs):
    if not _first_test:
        pytest.skip("runs after test_isolation_first_test_stores_a_statement")
    assert not alive(_first_test["pid"]), "the previous test's Ralph is still there"
    assert lrs.store != _first_test["store"]
    assert lrs.statements() == []
    assert lrs.statement(_first_test["id"]) is None


def test_the_server_is_stopped_even_when_the_test_fails(tmp_path):
    with pytest.raises(ZeroDivisionError), running_lrs(tmp_path) as lrs:
        pid = lrs.pid
        assert alive(pid)
        1 / 0  # noqa: B018
    assert not alive(pid)
    assert lrs.pid is None


def test_ralph_answers_to_a_stored_id(lrs):
    """The delivery worker retries: it must take 204 as delivered, and 409 as a statement it changed."""
    original = make_statement()
    assert post(lrs, original).status_code == 200

    response = post(lrs, original)
    assert (response.status_code, response.text) == (204, "")
    for different in [
        {**original, "verb": {"id": ATTEMPTED, "display": {"en-US": "attempted"}}},
        {**original, "verb": {"id": COMPLETED, "display": {"en-GB": "completed"}}},
        {**original, "timestamp": original["timestamp"].replace(".000Z", "Z")},  # the same instant, written otherwise
    ]:
        response = post(lrs, different)
        assert response.status_code == 409, response.text
        assert response.json()["detail"] == f"Differing statements already exist with the same ID: {original['id']}"

    without_timestamp = {k: v for k, v in make_statement(2).items() if k != "timestamp"}
    assert post(lrs, without_timestamp).status_code == 200
    assert post(lrs, without_timestamp).status_code == 409, "Ralph gives it the time of each POST as timestamp"

    upper = make_statement(3, id=str(uuid.uuid4()).upper())
    assert post(lrs, upper).json() == [upper["id"].lower()]
    assert get(lrs, statementId=upper["id"]).json() == {"statements": []}, "Ralph compares ids as stored, lower-case"
    assert lrs.statement(upper["id"])["id"] == upper["id"].lower()
    assert [s["id"] for s in lrs.statements()] == [original["id"], without_timestamp["id"], upper["id"].lower()]


def test_ralph_answers_to_a_batch_with_a_stored_id(lrs):
    stored = make_statement(0)
    assert post(lrs, stored).status_code == 200

    new = [make_statement(1), make_statement(2)]
    response = post(lrs, [new[0], stored, new[1]])
    assert response.status_code == 200, response.text
    assert response.json() == [new[0]["id"], new[1]["id"]], "the duplicate's id is not listed"

    assert post(lrs, [stored, new[0]]).status_code == 204

    refused = make_statement(3)
    response = post(lrs, [refused, {**stored, "verb": {"id": ATTEMPTED}}])
    assert response.status_code == 409, response.text
    assert lrs.statement(refused["id"]) is None, "none of a batch with a conflict is stored"

    twice = make_statement(4)
    response = post(lrs, [twice, twice])
    assert (response.status_code, response.json()) == (400, {"detail": "Duplicate statement IDs in the list of statements"})
    assert post(lrs, []).status_code == 400
    assert post(lrs, make_statement(5, id="not-a-uuid")).status_code == 422
    assert post(lrs, make_statement(6, actor={"objectType": "Agent", "name": "no IFI"})).status_code == 422
    assert [s["id"] for s in lrs.statements()] == [stored["id"], new[0]["id"], new[1]["id"]]


def test_ralph_stores_invalid_statements_so_our_validation_must_be_stricter(lrs):
    invalid = [
        make_statement(1, verb={"id": "completed", "display": {"en-US": "completed"}}),  # not an IRI
        make_statement(2, timestamp="yesterday"),
        make_statement(3, result={"score": {"scaled": 7}}),  # scaled is within [-1, 1]
    ]
    for statement in invalid:
        response = post(lrs, statement)
        assert response.status_code == 200, response.text
        assert as_sent(lrs.statement(statement["id"]), statement) == statement


def test_ralph_reading_answers(lrs):
    """What the helpers rely on, and what a reader of Ralph must know: conftest.py's docstring."""
    sent = [make_statement(n) for n in range(100)]
    response = requests.post(lrs.endpoint + "statements", json=sent, auth=lrs.auth, timeout=10)
    assert response.status_code == 200, "no X-Experience-API-Version header: accepted all the same"
    assert "X-Experience-API-Version" not in response.headers

    page = get(lrs).json()
    assert [s["id"] for s in page["statements"]] == [s["id"] for s in sent], "oldest first"
    assert page["more"].startswith("/xAPI/statements?"), "a path from the server's root"
    assert requests.get(lrs.endpoint.removesuffix("xAPI/") + page["more"].lstrip("/"), auth=lrs.auth,
                        timeout=10).json() == {"statements": []}, "a full last page is followed by an empty one"

    page = get(lrs, limit=3, ascending="true").json()
    assert [s["id"] for s in page["statements"]] == [s["id"] for s in sent[2::-1]], "each page reversed, only"

    since = get(lrs, since=sent[97]["timestamp"]).json()
    assert [s["id"] for s in since["statements"]] == [sent[98]["id"], sent[99]["id"]], "since compares timestamps"

    assert get(lrs, statementId=sent[0]["id"]).json()["statements"][0]["id"] == sent[0]["id"], "a StatementResult"
    unknown = get(lrs, statementId=str(uuid.uuid4()))
    assert (unknown.status_code, unknown.json()) == (200, {"statements": []})
