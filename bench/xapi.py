"""xAPI benchmark: the statement outbox delivered to Ralph against Ralph's own ingest ceiling, and what the outbox adds
to the requests that record learning events.

    .venv/bin/python bench/xapi.py                          # PostgreSQL; writes bench/XAPI_RESULTS.md (~5 minutes)
    .venv/bin/python bench/xapi.py --database sqlite --rounds 2 --no-write

Needs `scripts/setup test` (Ralph with its LRS extras, psycopg) and, for PostgreSQL, a server on 127.0.0.1:5432
(user postgres, trust); the run makes and drops its own database `ibm_lms_bench_xapi`.

(1) Delivery throughput, per batch size (1, 100, 1000). The same statements (valid, as the vocabulary builds them
    for lesson views of distinct trainees) are posted to Ralph 5.1.0 on loopback (file-system backend, basic auth,
    tests/xapi/ralph_server.py) two ways, alternating in rounds, each on a fresh store in a fresh Ralph process
    (Ralph re-reads its whole store on every POST, so the store's size must be the same for both):
    - the ceiling: a minimal client, one keep-alive `requests` session posting arrays of that size, nothing else;
    - ours: the rows sit in the statement outbox; `ibm_lms.xapi.delivery.deliver_due(limit=batch)` runs until
      the outbox is drained: claim with a lease, read, POST, mark delivered, in this process; on PostgreSQL
      also with two worker loops sharing the outbox (threads, each with its own session), as two
      `ibm-lms worker` processes would.
    Statements/s = statements / wall clock. Every statement is then read back from Ralph by id count.
    Goal: ours >= 0.8 x the ceiling at the same batch size.
(2) What the outbox adds to a request's transaction, subscribers on against off, alternating in blocks, same run:
    - an exercise answered in a lesson (`content.service` answer door: one `answered` statement);
    - the course's final exam submitted (`quiz.service.submit`, 3 questions per outcome: one `answered` per
      question, `completed`, and `passed` or `failed`), with every question unanswered (the statements' cost
      does not depend on the answers).
    Wall clock and this thread's CPU per request's door call (SQLite's work is in the thread; PostgreSQL's
    backend CPU is not, and is not counted). Bare reference: the same door call's median with subscribers off.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.xapi.ralph_server import write_auth_file  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql://postgres@127.0.0.1:5432/ibm_lms_bench_xapi"
HEADERS = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
RESULTS = ROOT / "bench" / "XAPI_RESULTS.md"


# --- Ralph ------------------------------------------------------------------------------------------------------


class Ralph:
    """One Ralph LRS process on a fresh store."""

    def __init__(self, scratch: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(dir=scratch))
        (self.folder / "store").mkdir()
        self.username, self.password = "bench", "bench-password"
        write_auth_file(self.folder / "auth.json", self.username, self.password)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}/xAPI/"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.xapi.ralph_server", "--port", str(self.port), "--store",
             str(self.folder / "store"), "--auth", str(self.folder / "auth.json"), "--exit-with-stdin"],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit("Ralph did not start within 30 s")

    def count(self) -> int:
        lines = (self.folder / "store" / "fs_lrs.jsonl")
        return sum(1 for _ in lines.open()) if lines.exists() else 0

    def cpu_seconds(self) -> float:
        import psutil

        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


# --- The tool ---------------------------------------------------------------------------------------------------


def make_app(database: str, instance: Path):
    from flask_migrate import upgrade

    from ibm_lms import create_app
    from ibm_lms.extensions import db

    if database == "postgresql":
        subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS ibm_lms_bench_xapi"], check=True)
        subprocess.run(["psql", PG_ADMIN, "-qc", "CREATE DATABASE ibm_lms_bench_xapi"], check=True)
        url = PG_URL
    else:
        url = "sqlite:///" + str(instance / "bench.sqlite3")
    app = create_app({"SECRET_KEY": "bench-secret-key-not-for-production-use", "SQLALCHEMY_DATABASE_URI": url,
                      "INSTANCE_PATH": str(instance), "BASE_URL": "https://tool.example",
                      "COURSES_DIR": str(ROOT / "courses")})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return app


def statements_for(count: int) -> list[dict]:
    """Valid statements as the vocabulary builds them: lesson views of distinct trainees."""
    from ibm_lms.events import LessonViewed
    from ibm_lms.xapi import vocabulary
    from ibm_lms.xapi.validation import check

    names = vocabulary.Names(course={"en": "Anti-corruption"}, modules={"m1": {"en": "Risks"}},
                             lessons={"gifts": {"en": "Gifts and hospitality"}})
    made = []
    for number in range(count):
        setting = vocabulary.Setting(base_url="https://tool.example", actor=vocabulary.Actor(
            home_page="https://moodle.example", name=uuid.uuid5(uuid.NAMESPACE_URL, str(number)).hex),
            tenant="bench", country="GE", lti_context="course-1")
        event = LessonViewed(tenant_id=1, user_id=number, context_id=1, resource_link_id=1, locale="en",
                             course_slug="anti-corruption", course_version=1, lesson_key="gifts", lesson_version=1,
                             module_key="m1", occurred_at=datetime.now(UTC))
        [statement] = vocabulary.lesson_viewed(event, setting, names)
        check(statement)
        made.append(statement)
    return made


def fill_outbox(app, statements: list[dict]) -> int:
    from sqlalchemy import delete, text

    from ibm_lms.clock import utcnow
    from ibm_lms.extensions import db
    from ibm_lms.tenancy import service as tenancy
    from ibm_lms.xapi.models import StatementOutbox

    with app.app_context():
        tenant_id = tenancy.ensure_tenant("bench").id
        postgresql = db.engine.dialect.name == "postgresql"
        # Each measurement starts from a table as fresh as its store: rows deleted and rewritten would leave the
        # claims stepping over dead index entries that autovacuum clears between a real worker's runs.
        db.session.execute(text("TRUNCATE xapi_statement_outbox") if postgresql else delete(StatementOutbox))
        now = utcnow()
        db.session.execute(StatementOutbox.__table__.insert(), [
            {"tenant_id": tenant_id, "statement_id": s["id"], "verb": "experienced", "statement": s,
             "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now} for s in statements])
        db.session.commit()
        if postgresql:
            db.session.execute(text("ANALYZE xapi_statement_outbox"))
            db.session.commit()
        return tenant_id


def point_at(app, tenant_id: int, ralph: Ralph) -> None:
    from ibm_lms.extensions import db
    from ibm_lms.xapi import service as xapi

    with app.app_context():
        xapi.configure(tenant_id, endpoint=ralph.endpoint, username=ralph.username, password=ralph.password)
        db.session.commit()


# --- (1) throughput ---------------------------------------------------------------------------------------------


def ceiling(ralph: Ralph, statements: list[dict], batch: int) -> tuple[float, float]:
    session = requests.Session()
    bodies = [json.dumps(statements[i:i + batch]) for i in range(0, len(statements), batch)]
    cpu = ralph.cpu_seconds()
    start = time.perf_counter()
    for body in bodies:
        answer = session.post(ralph.endpoint + "statements", data=body, headers=HEADERS,
                              auth=(ralph.username, ralph.password), timeout=60)
        if answer.status_code != 200:
            raise SystemExit(f"Ralph answered {answer.status_code} to the minimal client: {answer.text[:300]}")
    return time.perf_counter() - start, ralph.cpu_seconds() - cpu


def ours(app, ralph: Ralph, batch: int, workers: int = 1) -> tuple[float, float, float]:
    """The outbox drained by `workers` worker loops (threads of this process, each with its own session, as
    worker processes would share it on PostgreSQL)."""
    import threading

    from ibm_lms.xapi import delivery

    def drain() -> None:
        with app.app_context():
            while delivery.deliver_due(limit=batch):
                pass

    cpu, ralph_cpu = time.process_time(), ralph.cpu_seconds()
    start = time.perf_counter()
    threads = [threading.Thread(target=drain) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, time.process_time() - cpu, ralph.cpu_seconds() - ralph_cpu


def throughput(app, scratch: Path, batches: list[tuple[int, int]], rounds: int, two_workers: bool) -> list[dict]:
    rows = []
    for batch, count in batches:
        statements = statements_for(count)
        found = {"batch": batch, "statements": count, "ceiling": [], "ours": [], "ours_cpu": [], "ralph_cpu_ceiling": [],
                 "ralph_cpu_ours": [], "ours_two": []}
        for _ in range(rounds):
            ralph = Ralph(scratch)
            try:
                wall, ralph_cpu = ceiling(ralph, statements, batch)
                if ralph.count() != count:
                    raise SystemExit(f"the minimal client stored {ralph.count()} of {count}")
                found["ceiling"].append(count / wall)
                found["ralph_cpu_ceiling"].append(ralph_cpu / count * 1000)
            finally:
                ralph.stop()
            wall, cpu, ralph_cpu = delivered_by_ours(app, scratch, statements, batch, 1)
            found["ours"].append(count / wall)
            found["ours_cpu"].append(cpu / count * 1000)
            found["ralph_cpu_ours"].append(ralph_cpu / count * 1000)
            if two_workers:
                found["ours_two"].append(count / delivered_by_ours(app, scratch, statements, batch, 2)[0])
            print(f"batch {batch}: ceiling {found['ceiling'][-1]:.0f}/s, ours {found['ours'][-1]:.0f}/s"
                  + (f", two workers {found['ours_two'][-1]:.0f}/s" if two_workers else ""), flush=True)
        rows.append(found)
    return rows


def delivered_by_ours(app, scratch: Path, statements: list[dict], batch: int, workers: int):
    from sqlalchemy import func, select

    from ibm_lms.extensions import db
    from ibm_lms.xapi.models import StatementOutbox

    tenant_id = fill_outbox(app, statements)
    ralph = Ralph(scratch)
    try:
        point_at(app, tenant_id, ralph)
        measured = ours(app, ralph, batch, workers)
        with app.app_context():
            delivered = db.session.execute(select(func.count()).select_from(StatementOutbox).where(
                StatementOutbox.status == "delivered")).scalar_one()
        if delivered != len(statements) or ralph.count() != len(statements):
            raise SystemExit(f"ours delivered {delivered}, Ralph holds {ralph.count()}, of {len(statements)}")
        return measured
    finally:
        ralph.stop()


# --- (2) the outbox's cost on a request ------------------------------------------------------------------------


@contextmanager
def subscribers(app, on: bool):
    from ibm_lms.unit_of_work import event_bus
    from ibm_lms.xapi import outbox

    bus = event_bus(app)
    for event_type, handler in outbox.SUBSCRIBERS.items():
        (bus.subscribe if on else bus.unsubscribe)(event_type, handler)
    try:
        yield
    finally:
        for event_type, handler in outbox.SUBSCRIBERS.items():
            bus.subscribe(event_type, handler)


def trainee(app, number: int):
    from ibm_lms.extensions import db
    from ibm_lms.tenancy import service as tenancy
    from ibm_lms.tenancy.data import Identity, LaunchIdentity

    with app.app_context():
        tenant_id = tenancy.ensure_tenant("bench").id
        recorded = tenancy.record_launch_identity(LaunchIdentity(
            tenant_id=tenant_id, issuer="https://moodle.example", subject=f"trainee-{number}",
            lti_roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",), name=f"Trainee {number}",
            lti_context_id="course-1", context_title="Anti-corruption"))
        db.session.commit()
        return Identity(user_id=recorded.user_id, tenant_id=tenant_id, role=recorded.role,
                        context_id=recorded.context_id, display_name=f"Trainee {number}")


def request_costs(app, samples: int, block: int) -> dict[str, dict[str, list[float]]]:
    """Door calls of two kinds of request, each timed with the statement subscribers on and off."""
    from ibm_lms.content import service as content
    from ibm_lms.quiz import service as quiz

    with app.app_context():
        content.load(ROOT / "courses")
    found = {kind: {"on": [], "off": [], "on_cpu": [], "off_cpu": []} for kind in ("exercise", "quiz")}
    number = 0
    for index in range(samples // block * 2):
        on = index % 2 == 0
        for _ in range(block):
            number += 1
            identity = trainee(app, number)
            with app.app_context(), subscribers(app, on):
                wall, cpu = answer_exercise(content, identity)
                found["exercise"]["on" if on else "off"].append(wall)
                found["exercise"]["on_cpu" if on else "off_cpu"].append(cpu)
                attempt_id = quiz.start("anti-corruption", "final-exam", identity, "en")
                found["questions"] = len(quiz.attempt_page(attempt_id, identity, "en")["questions"])
                wall, cpu = _timed(partial(quiz.submit, attempt_id, identity, "en"))
                found["quiz"]["on" if on else "off"].append(wall)
                found["quiz"]["on_cpu" if on else "off_cpu"].append(cpu)
    return found


def _timed(call) -> tuple[float, float]:
    cpu, start = time.thread_time(), time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000, (time.thread_time() - cpu) * 1000


LESSON = ("anti-corruption", "corruption-at-the-border")


def answer_exercise(content, identity) -> tuple[float, float]:
    """A trainee answers a lesson's first exercise: the page is read first (untimed), the answer posted."""
    from tests.content.test_learning import right_answer

    page = content.lesson_page(*LESSON, identity, "en")
    key, exercise = next(iter(page["exercises"].items()))
    form = right_answer(exercise["item"])
    wall, cpu = _timed(lambda: content.answer_exercise(*LESSON, key, version_id=exercise["version_id"],
                                                       token=uuid.uuid4().hex, form=form, identity=identity,
                                                       locale="en"))
    return wall, cpu


# --- Report -----------------------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(database: str, rows: list[dict], costs: dict | None, rounds: int) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    lines = [f"# xAPI benchmark: results ({database})", "",
             f"One run of `bench/xapi.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, host `{os.uname().nodename}`, "
             f"{rounds} rounds per batch size, each on a fresh Ralph store; git `{commit}` (plus the working tree).",
             "", "## (1) Delivery to Ralph 5.1.0 on loopback, statements/s (median of rounds)", "",
             "| batch | statements | Ralph's ceiling (minimal client) | ours (outbox + worker) | ours / ceiling "
             "| goal >= 0.80 | per round (median) | two workers (PostgreSQL) | two / ceiling | our CPU ms/statement "
             "| Ralph CPU ms/statement: ceiling, ours |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        ratio = median(row["ours"]) / median(row["ceiling"])
        two = (f"{median(row['ours_two']):.0f} | {median(row['ours_two']) / median(row['ceiling']):.2f}"
               if row["ours_two"] else "- | -")
        paired = [ours / ceiling for ours, ceiling in zip(row["ours"], row["ceiling"], strict=True)]
        per_round = ", ".join(f"{value:.2f}" for value in paired) + f" ({median(paired):.2f})"
        lines.append(f"| {row['batch']} | {row['statements']} | {median(row['ceiling']):.0f} | {median(row['ours']):.0f} "
                     f"| {ratio:.2f} | {'yes' if ratio >= 0.8 else '**NO**'} | {per_round} | {two} "
                     f"| {median(row['ours_cpu']):.3f} "
                     f"| {median(row['ralph_cpu_ceiling']):.3f}, {median(row['ralph_cpu_ours']):.3f} |")
    if costs:
        lines += ["", "## (2) What the statement outbox adds to a request's door call (median ms)", "",
                  "| request | statements | subscribers off (bare) | on | on / off | CPU off | CPU on |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for kind, made in (("exercise", "1 answered"), ("quiz", f"{costs['questions']} answered, completed, failed")):
            found = costs[kind]
            lines.append(f"| {'exercise answered' if kind == 'exercise' else 'final exam submitted'} | {made} "
                         f"| {median(found['off']):.2f} | {median(found['on']):.2f} "
                         f"| {median(found['on']) / median(found['off']):.2f} | {median(found['off_cpu']):.2f} "
                         f"| {median(found['on_cpu']):.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=60, help="requests of each kind, half with subscribers")
    parser.add_argument("--only", default="throughput,costs")
    parser.add_argument("--no-write", action="store_true")
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="ibm-lms-xapi-bench-"))
    app = make_app(options.database, scratch)
    try:
        rows = throughput(app, scratch, [(1, 500), (100, 10_000), (1000, 20_000)], options.rounds,
                          options.database == "postgresql") if "throughput" in options.only else []
        costs = request_costs(app, options.samples, 5) if "costs" in options.only else None
        text = report(options.database, rows, costs, options.rounds)
        print(text)
        if not options.no_write:
            RESULTS.write_text(text, encoding="utf8")
    finally:
        with app.app_context():
            from ibm_lms.extensions import db

            db.engine.dispose()  # the database can be dropped only once no connection is left
        shutil.rmtree(scratch, ignore_errors=True)
        if options.database == "postgresql":
            subprocess.run(["psql", PG_ADMIN, "-qc", "DROP DATABASE IF EXISTS ibm_lms_bench_xapi"], check=False)


if __name__ == "__main__":
    main()
