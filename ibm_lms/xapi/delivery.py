"""Delivering the statement outbox to each academy's LRS, in batches, without losing or doubling one.

A batch is POSTed as one array with `X-Experience-API-Version: 1.0.3`; the LRS answers 200 with the
ids it stored, or 204 when it held every one already (an identical resend after a worker died:
delivered). When it refuses the array (400, 422, or 409 because one id is stored with different
content, which stores none of the batch), each statement is posted alone to find which: the one
refused is parked with the LRS's answer for an administrator, the others go in. An array too large for the LRS
(413, often a proxy's body limit) is halved until the parts go in; a statement too large alone is parked. 5xx,
timeouts and unreadable answers are retried with backoff; an array that failed before is then posted statement by
statement, so that one statement the LRS fails on holds back no other and is parked after POISON_AFTER tries when
it fails alone between answers that worked (an LRS that goes down or limits the rate mid-round parks none). 401/403
keep the statements waiting (the credentials need fixing, not the statements). Three failures in a row open the
academy's circuit breaker: no worker calls that LRS until it closes, then one batch probes it.
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import Text, bindparam, cast, select, update

from ibm_lms import outboxes
from ibm_lms.clock import utcnow
from ibm_lms.extensions import app_state, db
from ibm_lms.unit_of_work import unit_of_work

from . import settings, validation
from .models import LrsSettings, StatementOutbox

PENDING, DELIVERED, PARKED = outboxes.PENDING, "delivered", "parked"
XAPI_VERSION = "1.0.3"
LEASE_SECONDS = 120
BACKOFF_FIRST_SECONDS = 15
BACKOFF_MAX_SECONDS = 3600
TIMEOUT = (5, 30)  # connect, read (seconds)
MAX_ANSWER_BYTES = 256 * 1024
BREAKER_AFTER_FAILURES = 3
BREAKER_FIRST_SECONDS = 30
BREAKER_MAX_SECONDS = 15 * 60
# An array that fails with 5xx, a timeout or garbage this many times is posted statement by statement instead.
ISOLATE_AFTER = 2
# A statement the LRS fails on alone this many times, while it stores others, is parked with its last answer.
POISON_AFTER = 5
TOO_LARGE = 413
# How long a worker remembers the size of a request an LRS refused as too large (its limit may be raised).
TOO_LARGE_SECONDS = 3600


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (refused connection, timeout)
    body: str

    @property
    def reached(self) -> bool:
        return self.status is not None


def _session() -> requests.Session:
    # One keep-alive session per worker process: a batch costs one request, not one TLS handshake.
    return app_state("xapi.http", requests.Session)


def _auth_headers(lrs: settings.Lrs) -> dict[str, str]:
    if lrs.auth == "oauth":
        return {"Authorization": f"Bearer {_oauth_token(lrs)}"}
    return {}


def _oauth_token(lrs: settings.Lrs) -> str:
    cache = app_state("xapi.oauth_tokens", dict)
    held = cache.get((lrs.token_url, lrs.username))
    if held and held[1] > utcnow():
        return held[0]
    answer = _session().post(lrs.token_url, data={"grant_type": "client_credentials", "scope": "statements/write"},
                             auth=(lrs.username, lrs.password), timeout=TIMEOUT, allow_redirects=False)
    body = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
    token = body.get("access_token") if isinstance(body, dict) else None
    if answer.status_code != 200 or not isinstance(token, str):
        raise requests.RequestException(f"token endpoint answered {answer.status_code}")
    lifetime = body.get("expires_in") if isinstance(body.get("expires_in"), int) else 3600
    cache[(lrs.token_url, lrs.username)] = (token, utcnow() + timedelta(seconds=max(60, lifetime - 60)))
    return token


def _call(lrs: settings.Lrs, method: str, url: str, **kwargs) -> Answer:
    auth = (lrs.username, lrs.password) if lrs.auth == "basic" and lrs.username else None
    try:
        headers = {"X-Experience-API-Version": XAPI_VERSION, "Content-Type": "application/json",
                   "User-Agent": "ibm-lms", **_auth_headers(lrs)}
        with _session().request(method, url, headers=headers, auth=auth, timeout=TIMEOUT, allow_redirects=False,
                                stream=True, **kwargs) as response:
            body = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
            return Answer(response.status_code, body[:MAX_ANSWER_BYTES].decode("utf-8", "replace"))
    except (requests.RequestException, ValueError) as error:
        return Answer(None, type(error).__name__)


def _stored_ids(answer: Answer) -> list[str] | None:
    try:
        found = json.loads(answer.body)
    except ValueError:
        return None
    return found if isinstance(found, list) and all(isinstance(i, str) for i in found) else None


# Claims per call. A claim takes at least CLAIM_AT_LEAST rows, split into arrays of the caller's size per academy:
# small arrays then cost the database one claim and one record for many arrays, not one of each per array.
CLAIMS_PER_CALL = 10
CLAIM_AT_LEAST = 50
# Arrays handed to the sender thread before their turn: while the LRS stores one, the next waits in the sender,
# and the worker records what was answered and claims more in one transaction. The database's work and the
# LRS's overlap instead of adding up, and the LRS is never left waiting for the worker.
ON_THE_WAY = 2


@dataclass(frozen=True)
class _Batch:
    tenant_id: int
    rows: dict[int, str]  # outbox id -> the statement's JSON as stored
    lrs: settings.Lrs
    tries: dict[int, int]  # outbox id -> how many times it was sent before


def deliver_due(limit: int = 200) -> int:
    """Delivers what is due for every academy that has a reachable LRS, in arrays of at most `limit` statements
    (at most CLAIMS_PER_CALL claims a call); returns how many rows were sent."""
    with unit_of_work():
        conditions = _deliverable()
    return _Pipeline(limit, conditions).run()


def _deliverable() -> list:
    """Which rows may go now: those of academies with an LRS whose circuit breaker is closed."""
    held_back = list(db.session.execute(select(LrsSettings.tenant_id).where(
        LrsSettings.open_until > utcnow())).scalars())
    tenant_id = StatementOutbox.__table__.c.tenant_id
    conditions = [tenant_id.not_in(held_back)] if held_back else []
    with_lrs = settings.tenants_with_lrs()
    if with_lrs is not None:
        conditions.append(tenant_id.in_(with_lrs or [-1]))
    return conditions


class _Pipeline:
    """One call of the worker: claim, send, record, with at most ON_THE_WAY arrays on their way.

    Every request goes through the one sender thread, one at a time (the keep-alive session is never used by two
    threads at once), and leaves only once the rows' lease is committed. Answers are recorded when the claimed
    arrays run out, together with the next claim, and at the end of the call: a worker that dies in between
    leaves delivered rows leased, and they are sent again once the lease ends (the LRS answers 204 to an
    identical resend). An academy whose LRS fails gets no further array in this call: its arrays not yet sent go
    back to the queue untouched, and an array already on its way behind the failed one does not count again
    towards the breaker (one call, one failure)."""

    def __init__(self, limit: int, conditions: list) -> None:
        self.limit, self.conditions = limit, conditions
        self.app = current_app._get_current_object()
        self.lrs_of: dict[int, settings.Lrs | None] = {}  # each academy's settings read once a call
        self.claims_left = CLAIMS_PER_CALL
        self.sent = 0
        # What the next record writes.
        self.outcomes: dict[int, tuple[str, Answer]] = {}
        self.breaker_news: list[tuple[int, bool]] = []  # (academy, its LRS answered) in the order heard
        self.released: list[int] = []
        # What this call's breakers have heard already.
        self.healthy: set[int] = set()
        self.failing: set[int] = set()

    def run(self) -> int:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="xapi-sender") as self.sender:
            waiting: deque[_Batch] = deque()
            on_the_way: deque[tuple[_Batch, Future]] = deque()
            while True:
                if not waiting:
                    with unit_of_work():
                        self._record()
                        while len(on_the_way) + len(waiting) < ON_THE_WAY and (more := self._claim()):
                            waiting.extend(more)
                while waiting and len(on_the_way) < ON_THE_WAY:
                    batch = waiting.popleft()
                    on_the_way.append((batch, self._in_sender(_post_batch, batch)))
                if not on_the_way:
                    return self.sent
                batch, sent = on_the_way.popleft()
                self._hear(batch, sent.result())
                if batch.tenant_id in self.failing:
                    self.released += [row_id for left in waiting if left.tenant_id == batch.tenant_id
                                      for row_id in left.rows]
                    waiting = deque(left for left in waiting if left.tenant_id != batch.tenant_id)

    def _in_sender(self, work, *args) -> Future:
        def run():
            with self.app.app_context():
                return work(*args)
        return self.sender.submit(run)

    def _claim(self) -> list[_Batch]:
        """The next due rows, leased and read as the database holds their JSON (sent as they are, never decoded
        and encoded again), in arrays of at most `limit` per academy. An academy whose LRS settings went away
        since keeps its rows claimed until the lease ends."""
        if not self.claims_left:
            return []
        self.claims_left -= 1
        table = StatementOutbox.__table__
        failing = [table.c.tenant_id.not_in(self.failing)] if self.failing else []
        rows, _ = outboxes.claim_rows(StatementOutbox, max(self.limit, CLAIM_AT_LEAST), LEASE_SECONDS,
                                      *self.conditions, *failing,
                                      columns=(table.c.tenant_id, cast(table.c.statement, Text), table.c.attempts))
        if not rows:
            self.claims_left = 0
        by_tenant: dict[int, dict[int, str]] = {}
        tries: dict[int, int] = {}
        for row_id, tenant_id, text, attempts in rows:
            by_tenant.setdefault(tenant_id, {})[row_id] = text
            tries[row_id] = attempts or 0
        for tenant_id in by_tenant.keys() - self.lrs_of.keys():
            self.lrs_of[tenant_id] = settings.lrs_for(tenant_id)
        arrays = []
        for tenant_id, statements in by_tenant.items():
            if self.lrs_of[tenant_id] is None:
                continue
            ids = list(statements)
            arrays += [_Batch(tenant_id, {row_id: statements[row_id] for row_id in ids[start:start + self.limit]},
                              self.lrs_of[tenant_id], {row_id: tries[row_id] for row_id in ids[start:start + self.limit]})
                       for start in range(0, len(ids), self.limit)]
        return arrays

    def _hear(self, batch: _Batch, answer: Answer) -> None:
        """Notes what became of an answered array's rows, for the next record. The breaker hears once a call
        from each academy: its LRS answered, or it failed."""
        outcomes, healthy = self._outcomes(batch, answer)
        self.outcomes.update(outcomes)
        self.sent += len(batch.rows)
        told = self.healthy if healthy else self.failing
        if batch.tenant_id not in told:
            self.breaker_news.append((batch.tenant_id, healthy))
            told.add(batch.tenant_id)

    def _outcomes(self, batch: _Batch, answer: Answer) -> tuple[dict[int, tuple[str, Answer]], bool]:
        """What became of each row of an answered batch, and whether the LRS is healthy. An array the LRS
        refuses, finds too large or failed on before is sent again in parts (still with no transaction open, see
        _settle)."""
        if _accepted(answer):
            return {row_id: (DELIVERED, answer) for row_id in batch.rows}, True
        return self._in_sender(_settle, batch.lrs, batch.rows, batch.tries, answer).result()

    def _record(self) -> None:
        _finish(self.outcomes, self.breaker_news, self.released)
        self.outcomes, self.breaker_news, self.released = {}, [], []


def _post_batch(batch: _Batch) -> Answer:
    # The network is reached with no transaction open.
    return _post_rows(batch.lrs, batch.rows)


def _post_rows(lrs: settings.Lrs, rows: dict[int, str]) -> Answer:
    body = ("[" + ",".join(rows.values()) + "]").encode()
    # An array as large as one the LRS refused is not uploaded again only to be refused: it is split at once.
    known = app_state("xapi.too_large", dict).get(lrs.statements_url)
    if known and len(rows) > 1 and len(body) >= known[0] and time.monotonic() < known[1]:
        return Answer(TOO_LARGE, f"not sent: the LRS refused {known[0]} bytes as too large")
    answer = _call(lrs, "POST", lrs.statements_url, data=body)
    if answer.status == TOO_LARGE:
        app_state("xapi.too_large", dict)[lrs.statements_url] = (len(body), time.monotonic() + TOO_LARGE_SECONDS)
    return answer


def _settle(lrs: settings.Lrs, rows: dict[int, str], tries: dict[int, int],
            answer: Answer, deadline: float | None = None) -> tuple[dict[int, tuple[str, Answer]], bool]:
    """What becomes of rows whose array was answered `answer`, and whether the LRS is healthy; runs in the sender.

    Refused (400, 409, 422): each statement alone, to park only those refused. Too large (413): the LRS is
    healthy and a smaller request will do, so the array is halved until its parts go in, and a statement too
    large alone is parked. Failed (5xx, timeout, garbage) once before: each statement alone (_isolate)."""
    if _accepted(answer):
        return {row_id: (DELIVERED, answer) for row_id in rows}, True
    if answer.status in REFUSED:
        return {row_id: _post_alone(lrs, json.loads(text)) for row_id, text in rows.items()}, True
    # Parts are sent one after another while the rows' lease runs: they stop well before it ends, so that no
    # other worker takes the rows while this one still sends them.
    deadline = deadline if deadline is not None else time.monotonic() + LEASE_SECONDS / 2
    if answer.status == TOO_LARGE:
        if len(rows) == 1:
            return {row_id: (PARKED, answer) for row_id in rows}, True
        ids = list(rows)
        outcomes: dict[int, tuple[str, Answer]] = {}
        healthy = True
        for half in (ids[:len(ids) // 2], ids[len(ids) // 2:]):
            part = {row_id: rows[row_id] for row_id in half}
            if time.monotonic() > deadline:
                outcomes.update({row_id: (PENDING, answer) for row_id in part})
                continue
            found, answered = _settle(lrs, part, tries, _post_rows(lrs, part), deadline)
            outcomes.update(found)
            healthy = healthy and answered
        return outcomes, healthy
    if len(rows) > 1 and answer.status not in (401, 403, 429) and max(tries.values()) + 1 >= ISOLATE_AFTER:
        return _isolate(lrs, rows, tries, answer, deadline)
    return {row_id: (PENDING, answer) for row_id in rows}, False


def _isolate(lrs: settings.Lrs, rows: dict[int, str], tries: dict[int, int],
             answer: Answer, deadline: float) -> tuple[dict[int, tuple[str, Answer]], bool]:
    """Posts each statement of an array that failed again and again alone, so that the statements the LRS stores
    go in and one it fails on (a "poison" statement) holds back no other.

    Those tried least go first, in random order among equals: a statement that makes the LRS time out cannot
    stand first every time and stop the rest. The round stops, leaving the rest untried, at a 429 or a 401/403,
    at two failures in a row (an LRS going down or overloaded, whatever went in before) and when the lease's
    time is half spent. A statement is parked for failing only when it failed alone, between answers that
    worked, in a round where the LRS stored others, and after POISON_AFTER tries: in an outage none is parked."""
    order = sorted(rows, key=lambda row_id: (tries[row_id], random.random()))
    outcomes: dict[int, tuple[str, Answer]] = {}
    failures_in_a_row = 0
    for row_id in order:
        if time.monotonic() > deadline:
            break
        status, alone = _post_alone(lrs, json.loads(rows[row_id]))
        outcomes[row_id] = (status, alone)
        if status != PENDING:
            failures_in_a_row = 0
            continue
        failures_in_a_row += 1
        if alone.status in (401, 403, 429) or failures_in_a_row == 2:
            break
    posted = list(outcomes)
    stored = any(status == DELIVERED for status, _ in outcomes.values())
    for index, row_id in enumerate(posted):
        status, alone = outcomes[row_id]
        # A failure between answers that worked (or at an end of the round) is this statement's, not the LRS's.
        alone_in_failing = all(outcomes[posted[near]][0] != PENDING for near in (index - 1, index + 1)
                               if 0 <= near < len(posted))
        if (status == PENDING and stored and alone_in_failing and alone.status not in (401, 403, 429)
                and tries[row_id] + 1 >= POISON_AFTER):
            outcomes[row_id] = (PARKED, alone)
    for row_id in rows.keys() - outcomes.keys():
        outcomes[row_id] = (PENDING, answer)
    # Healthy when the LRS's last answer in the round was a success or a refusal: not when it ended failing.
    return outcomes, bool(posted) and outcomes[posted[-1]][0] != PENDING


# What an LRS answers for a batch it will not store as it is; 422 is Ralph's (FastAPI's) word for 400.
REFUSED = (400, 409, 422)


def _accepted(answer: Answer) -> bool:
    return answer.status == 204 or (answer.status == 200 and _stored_ids(answer) is not None)


def _post_alone(lrs: settings.Lrs, statement: dict) -> tuple[str, Answer]:
    answer = _call(lrs, "POST", lrs.statements_url, data=json.dumps([statement]))
    if _accepted(answer):
        return DELIVERED, answer
    if answer.status == 409 and _stored_as_sent(lrs, statement):
        # Some LRSs answer 409 for an identical resend too (Ralph answers 204): it is there, as sent.
        return DELIVERED, answer
    if answer.status in REFUSED or answer.status == TOO_LARGE:
        # 409 alone otherwise: the LRS holds a different statement under this id; 413 alone: it will never fit.
        return PARKED, answer
    if answer.status == 401 and lrs.auth == "oauth":
        app_state("xapi.oauth_tokens", dict).pop((lrs.token_url, lrs.username), None)  # fetch a new token next time
    return PENDING, answer


# What makes two statements the same one (xAPI 1.0.3, Data 2.3.1 "Statement Comparison Requirements" leaves out
# what the LRS adds: stored, authority, version, and a timestamp it filled in).
_COMPARED = ("id", "actor", "verb", "object", "result", "context", "attachments")


def _stored_as_sent(lrs: settings.Lrs, statement: dict) -> bool:
    answer = _call(lrs, "GET", lrs.statements_url, params={"statementId": statement["id"]})
    if answer.status != 200:
        return False
    try:
        found = json.loads(answer.body)
    except ValueError:
        return False
    if isinstance(found, dict) and isinstance(found.get("statements"), list):  # a StatementResult (Ralph's answer)
        found = found["statements"][0] if len(found["statements"]) == 1 else None
    if not isinstance(found, dict):
        return False
    return (all(found.get(key) == statement.get(key) for key in _COMPARED)
            and _same_instant(found.get("timestamp"), statement.get("timestamp")))


def _same_instant(stored: object, sent: object) -> bool:
    try:
        return datetime.fromisoformat(str(stored).replace("Z", "+00:00")) == datetime.fromisoformat(
            str(sent).replace("Z", "+00:00"))
    except ValueError:
        return False


def _finish(outcomes: dict[int, tuple[str, Answer]], breaker_news: list[tuple[int, bool]],
            released: list[int]) -> None:
    """Records each row's outcome: delivered rows in one UPDATE per status the LRS answered, other outcomes row by
    row (their answer and, for rows still pending, their own next try); tells each academy's breaker what it
    heard, in order; and gives back rows claimed but not sent, as they were."""
    now = utcnow()
    table = StatementOutbox.__table__
    delivered: dict[int | None, list[int]] = {}
    for row_id, (status, answer) in outcomes.items():
        if status == DELIVERED:
            delivered.setdefault(answer.status, []).append(row_id)
    with unit_of_work():
        for answer_status, row_ids in delivered.items():
            db.session.execute(update(table).where(table.c.id.in_(row_ids)).values(
                status=DELIVERED, attempts=table.c.attempts + 1, claimed_until=None, delivered_at=now,
                last_status=answer_status, last_answer=None))
        others = sorted(row_id for row_id, (status, _) in outcomes.items() if status != DELIVERED)
        if others:
            attempts = {row_id: tries for row_id, tries in db.session.execute(
                select(table.c.id, table.c.attempts).where(table.c.id.in_(others)))}
            changes = []
            for row_id in others:
                status, answer = outcomes[row_id]
                tries = attempts.get(row_id, 0) + 1
                due = now + timedelta(seconds=outboxes.backoff(
                    tries, first=BACKOFF_FIRST_SECONDS, maximum=BACKOFF_MAX_SECONDS)) if status == PENDING else now
                changes.append({"row_id": row_id, "status": status, "attempts": tries, "claimed_until": None,
                                "last_status": answer.status, "last_answer": answer.body[:2000] or None,
                                "next_attempt_at": due})
            db.session.execute(update(table).where(table.c.id == bindparam("row_id")).values(
                status=bindparam("status"), attempts=bindparam("attempts"), claimed_until=bindparam("claimed_until"),
                last_status=bindparam("last_status"), last_answer=bindparam("last_answer"),
                next_attempt_at=bindparam("next_attempt_at")), changes)
        if released:
            db.session.execute(update(table).where(table.c.id.in_(released)).values(claimed_until=None))
        for tenant_id, healthy in breaker_news:
            _breaker(tenant_id, healthy, now)


def _breaker(tenant_id: int, healthy: bool, now: datetime) -> None:
    if healthy:
        # Most answers find the breaker closed already: one statement that changes nothing, no row loaded.
        table = LrsSettings.__table__
        db.session.execute(update(table).where(
            table.c.tenant_id == tenant_id, (table.c.failures != 0) | table.c.open_until.is_not(None))
            .values(failures=0, open_until=None))
        return
    row = settings.settings_row(tenant_id)
    row.failures += 1
    if row.failures >= BREAKER_AFTER_FAILURES:
        seconds = min(BREAKER_MAX_SECONDS, BREAKER_FIRST_SECONDS * 2 ** (row.failures - BREAKER_AFTER_FAILURES))
        row.open_until = now + timedelta(seconds=seconds)


def retry(tenant_id: int, row_ids: list[int] | None = None) -> int:
    """Puts parked statements (all of the academy's, or those given) back in the queue; returns how many.

    A statement that is not valid xAPI stays parked: no LRS should store it, however lax."""
    with unit_of_work():
        query = select(StatementOutbox).where(StatementOutbox.tenant_id == tenant_id, StatementOutbox.status == PARKED)
        if row_ids:
            query = query.where(StatementOutbox.id.in_(row_ids))
        rows = list(db.session.execute(query).scalars())
        rows = [row for row in rows if not validation.problems(row.statement)]
        for row in rows:
            row.status, row.next_attempt_at, row.claimed_until = PENDING, utcnow(), None
        settings.settings_row(tenant_id).open_until = None
    return len(rows)
