"""Grade delivery benchmark: the score outbox and `ibm-lms worker` against the test platform (tests/platform.py).

    cd /work/main && scripts/setup bench && scripts/setup test
    .venv/bin/python bench/grades.py                        # PostgreSQL then SQLite; writes bench/GRADES_RESULTS.md
    .venv/bin/python bench/grades.py --database sqlite --no-write        # one database, print only
    .venv/bin/python bench/grades.py --scores 1000 --latency-scores 600 --rates 10,50 --events 1000 --completions 500
    .venv/bin/python bench/grades.py --profile              # also: cProfile of the worker per score (cached, fresh token)

Needs git, and PostgreSQL on 127.0.0.1:5432 (user postgres, trust) with createdb/dropdb/psql on PATH
for `--database postgresql|both`; the run makes and drops its own database `ibm_lms_bench_grades`.
On SQLite it uses a file in a temporary folder, with the tool's own settings (WAL, synchronous=NORMAL).
The tool (ibm_lms, tests/platform*.py, courses/) runs from a git worktree of `--rev` (default HEAD) in
/tmp/ibm-lms-grades-<commit>, made and removed by the run, so that edits to the checkout while it runs
change nothing measured; every process is checked to import ibm_lms from it. ~7 minutes on 2 cores.
Figures go to bench/GRADES_RESULTS.md; its hand-written notes (between the notes markers) are kept.

What it measures, per database, in one run:

(1) Throughput. The worker's drain loop (`ibm_lms.worker.drain`, in this process) delivers scores that
    sit in the outbox to the test platform, in rounds that alternate two variants: with the token
    cache as the tool has it (one token for the whole run), and with a fresh token for every score
    (`ibm_lms.lti.ags.tokens.forget` before each row, so each score costs a client-credentials grant
    with an RS256 assertion the platform verifies against the tool's JWKS). The line item exists
    (a warm-up score made it), so a score is one POST. Scores/s = scores / wall clock of the drain;
    CPU per score of the worker (this process), the platform process and our PostgreSQL backends.
(2) Latency. `ibm-lms worker` runs as a subprocess; this process commits LessonCompleted units of
    work at a steady rate (each a new trainee's score); the platform records when it accepted each
    score (CLOCK_MONOTONIC, shared by the processes of the host). Delay = accepted - committed,
    median / p95 / max per rate, >= 500 scores per rate.
(3) What the outbox adds to the unit of work that records the result, the grade subscriber
    subscribed against unsubscribed, alternating in blocks, same run: (a) a unit of work that only
    publishes LessonCompleted (unsubscribed it begins no transaction: the difference is the whole
    subscriber: link read, target match, subject read, INSERT, commit); (b) the unit of work of a
    real lesson completion (`ibm_lms.content.service.complete_lesson` for a trainee who answered
    every exercise), which publishes LessonCompleted among its own writes. Wall clock and CPU of
    this thread per unit (SQLite's work is in it), and CPU of our PostgreSQL backend.

The platform is tests/platform.py's PlatformServer (with tests/platform_services.py: assertion
checked against the tool's published keys, scopes, media types, type_id) in a process of its own,
so that its CPU is not this process's; bench-only additions: it records when it accepted each score,
takes the tool's JWKS once from the driver instead of asking the tool on every token request, and
launches to the lesson the benchmark grades. The driver sets the tool up as the tests do: a
platform registered, a launch carrying the AGS claim to a lesson link, trainees, events published
inside `unit_of_work()`.

Every wait is bounded; any failure (a score not delivered, a wrong count, a process that does not
start or stop) stops the run with a non-zero exit. Timing never appears in tests: run this by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import cProfile
import datetime as dt
import html
import io
import json
import os
import platform as pyplatform
import pstats
import queue
import re
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The tool's code (ibm_lms, tests/, courses/) comes from a git worktree of --rev, so that edits to the checkout
# while the benchmark runs change nothing measured; main() sets it. The platform process gets it as its argv.
TREE = ROOT

TOOL_BASE_URL = "http://localhost"
COURSE, LESSON = "anti-corruption", "corruption-at-the-border"
TARGET = f"{TOOL_BASE_URL}/courses/{COURSE}/lessons/{LESSON}"
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
PG_DATABASE = "ibm_lms_bench_grades"
RESULTS = ROOT / "bench" / "GRADES_RESULTS.md"
NOTES_MARKER = "<!-- notes: what is between this line and the next marker is kept when bench/grades.py rewrites the file -->"
NOTES_END = "<!-- end of notes -->"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
LABELS = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


class BenchFailure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchFailure(message)


# ---------------------------------------------------------------------------------------------------------------
# The platform process: tests/platform.py's server, plus what the benchmark needs to observe it.
# ---------------------------------------------------------------------------------------------------------------

def serve_platform(tool_base_url: str, launch_target: str) -> None:
    from werkzeug.wrappers import Request, Response

    from tests.platform import PlatformServer
    from tests.platform_services import Services

    @dataclass
    class BenchServices(Services):
        # (userId, timestamp, CLOCK_MONOTONIC when accepted) of every score the platform took.
        accepted: list = field(default_factory=list)

        def _line_item(self, request, scopes, key, part):
            response = super()._line_item(request, scopes, key, part)
            if part == "/scores" and response.status_code == 204:
                score = request.get_json(silent=True)
                self.accepted.append((score["userId"], score["timestamp"], time.monotonic()))
            return response

    @dataclass
    class BenchPlatform(PlatformServer):
        launch_target: str = ""
        tool_keys: dict | None = None

        def __post_init__(self):
            super().__post_init__()
            claims = self.sim.launch_claims
            # Moodle launches to the activity's URL; the test platform's authorisation step launches to /courses/.
            self.sim.launch_claims = lambda **kw: claims(**{**kw, "target_link_uri": self.launch_target})

        def _fresh_services(self) -> None:
            self.services = BenchServices(base_url=self.base_url, client_id=self.sim.client_id,
                                          token_url=self.token_url)
            # The tool's keys as the driver read them from the tool's JWKS (the tests ask the tool each time).
            self.services.tool_jwks = lambda: self.tool_keys

        def _app(self, environ, start_response):
            if environ.get("PATH_INFO", "").startswith("/bench/"):
                return self._bench(Request(environ))(environ, start_response)
            return super()._app(environ, start_response)

        def _bench(self, request):
            services = self.services
            if request.path == "/bench/tool-jwks" and request.method == "POST":
                self.tool_keys = request.get_json()
                return Response("ok")
            if request.path == "/bench/counters":
                with services.lock:
                    body = {"token_requests": services.token_requests, "score_posts": len(services.score_posts),
                            "accepted": len(services.accepted), "line_items": len(services.line_items),
                            "jwks_fetches": self.jwks_fetches}
                return Response(json.dumps(body), mimetype="application/json")
            if request.path == "/bench/accepted":
                since = int(request.args.get("since", "0"))
                with services.lock:
                    body = services.accepted[since:]
                return Response(json.dumps(body), mimetype="application/json")
            return Response("not found", status=404)

    server = BenchPlatform(tool_base_url=tool_base_url, launch_target=launch_target).start()
    print(json.dumps({"base_url": server.base_url, "issuer": server.sim.issuer, "client_id": server.sim.client_id,
                      "deployment_id": server.sim.deployment_id, "auth_login_url": server.auth_login_url,
                      "token_url": server.token_url, "keyset_url": server.keyset_url,
                      "user_subject": server.user.subject, "pid": os.getpid()}), flush=True)
    sys.stdin.read()  # until the driver closes the pipe (or ends)
    server.stop()


# ---------------------------------------------------------------------------------------------------------------
# Processes, the platform's control endpoints, CPU readings.
# ---------------------------------------------------------------------------------------------------------------

class Child:
    """A subprocess this run started; its output lines are read by a thread so every wait can be bounded."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name = name
        self.log_path = log
        self._log = log.open("w")
        self.popen = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._log, text=True, cwd=str(TREE))
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        self.ended = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.popen.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)
        self.ended.set()

    def expect_line(self, starting: str, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchFailure(f"{self.name}: no line starting {starting!r} within {seconds:.0f} s; "
                                   f"stderr in {self.log_path}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise BenchFailure(f"{self.name} ended (exit {self.popen.poll()}) before {starting!r}; "
                                   f"stderr: {self.stderr_tail()}")
            if line.startswith(starting):
                return line

    def stderr_tail(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()[-2000:]

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, *, sig=signal.SIGTERM, seconds: float = 30) -> int:
        if self.popen.poll() is None:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()
            self.popen.send_signal(sig)
            try:
                self.popen.wait(seconds)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
                raise BenchFailure(f"{self.name} did not stop within {seconds:.0f} s of {sig.name}") from None
        self.ended.wait(10)  # every line it wrote has been read
        self._log.close()
        return self.popen.returncode


def python_env() -> dict:
    # Every simulated launch comes from one address: measure the tool, not its limiter.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8", "PYTHONPATH": str(TREE), "IBM_LMS_RATE_LIMITS": "0"}


class PlatformControl:
    def __init__(self, info: dict):
        self.info = info
        self.base = info["base_url"]

    def _call(self, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data,
                                         headers={"Content-Type": "application/json"} if data else {})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null") if answer.headers.get_content_type() == "application/json" \
                else answer.read().decode()

    def counters(self) -> dict:
        return self._call("/bench/counters")

    def accepted(self, since: int = 0) -> list:
        return self._call(f"/bench/accepted?since={since}")

    def set_tool_jwks(self, jwks: dict) -> None:
        self._call("/bench/tool-jwks", jwks)

    def get(self, url: str) -> str:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.read().decode()


def process_cpu(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def own_cpu() -> float:
    """CPU of this process, all threads (the worker's timer threads included)."""
    times = os.times()
    return times.user + times.system


class PostgresBackends:
    """CPU of the PostgreSQL backends connected to our database (not the rest of the shared server)."""

    def __init__(self, database: str | None):
        self.database = database

    def _pids(self) -> list[int]:
        import psycopg

        with psycopg.connect(host=PG["host"], port=PG["port"], user=PG["user"], dbname="postgres",
                             connect_timeout=10) as connection:
            rows = connection.execute("select pid from pg_stat_activity where datname = %s and pid <> "
                                      "pg_backend_pid()", (self.database,)).fetchall()
        return [row[0] for row in rows]

    def reading(self) -> dict[int, float]:
        import psutil

        if self.database is None:
            return {}
        found = {}
        for pid in self._pids():
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                found[pid] = process_cpu(pid)
        return found

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def host_busy() -> float:
    import psutil

    times = psutil.cpu_times()  # guest time is already in user time; steal is not the host's processes
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


# ---------------------------------------------------------------------------------------------------------------
# The tool, set up as tests/lti/test_grades.py does.
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Link:
    id: int
    tenant_id: int
    context_id: int | None
    platform_id: int


@dataclass
class Setup:
    database: str
    url: str
    secret: str
    instance: Path
    app: object
    platform: PlatformControl
    platform_child: Child
    link: Link
    users: list[int]
    backends: PostgresBackends


def isolated_client(app):
    from flask.testing import FlaskClient

    class IsolatedClient(FlaskClient):
        # As tests/conftest.py: each request in an empty context, as a server would run it.
        def open(self, *args, **kwargs):
            return contextvars.Context().run(super().open, *args, **kwargs)

    app.test_client_class = IsolatedClient
    return app.test_client()


def make_database(database: str, folder: Path) -> str:
    if database == "postgresql":
        args = ["-h", PG["host"], "-p", PG["port"], "-U", PG["user"]]
        subprocess.run(["dropdb", *args, "--if-exists", PG_DATABASE], check=True, timeout=60, capture_output=True)
        subprocess.run(["createdb", *args, PG_DATABASE], check=True, timeout=60, capture_output=True)
        return f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{PG_DATABASE}"
    return f"sqlite:///{folder / 'grades.sqlite3'}"


def drop_database(database: str) -> None:
    if database == "postgresql":
        args = ["-h", PG["host"], "-p", PG["port"], "-U", PG["user"]]
        subprocess.run(["dropdb", *args, "--if-exists", "--force", PG_DATABASE], timeout=60, capture_output=True)


def launch(app, platform: PlatformControl) -> None:
    """The OIDC login and the launch from the graded activity, through the tool's HTTP interface."""
    info = platform.info
    client = isolated_client(app)
    params = {"iss": info["issuer"], "login_hint": info["user_subject"], "target_link_uri": TARGET,
              "client_id": info["client_id"], "lti_deployment_id": info["deployment_id"], "lti_message_hint": "en"}
    login = client.get("/lti/login", query_string=params)
    if login.status_code == 302:
        auth_url = login.headers["Location"]
    else:
        found = re.search(r'data-auth-url="([^"]+)"', login.get_data(as_text=True))
        check(found is not None, f"login answered {login.status_code} without an authorisation URL")
        auth_url = html.unescape(found.group(1))
    page = platform.get(auth_url)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    check("id_token" in fields and "state" in fields, f"the platform's authorisation page has no form: {page[:300]}")
    answer = client.post("/lti/launch", data={k: html.unescape(v) for k, v in fields.items()})
    check(answer.status_code == 303, f"launch answered {answer.status_code}: {answer.get_data(as_text=True)[:400]}")


def make_users(link: Link, issuer: str, prefix: str, count: int) -> list[int]:
    from ibm_lms.tenancy import service as tenancy
    from ibm_lms.tenancy.data import LaunchIdentity
    from ibm_lms.unit_of_work import unit_of_work

    ids = []
    for start in range(0, count, 200):
        with unit_of_work():
            for n in range(start, min(count, start + 200)):
                ids.append(tenancy.record_launch_identity(LaunchIdentity(
                    tenant_id=link.tenant_id, issuer=issuer, subject=f"{prefix}-{n}", lti_roles=(LEARNER,))).user_id)
    return ids


def set_up(database: str, folder: Path, users: int, started: dict) -> Setup:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from ibm_lms import create_app
    from ibm_lms.content import service as content
    from ibm_lms.extensions import db
    from ibm_lms.lti import keys
    from ibm_lms.lti import service as lti
    from ibm_lms.lti.data import SCOPE_LINEITEM, SCOPE_SCORE
    from ibm_lms.lti.models import ResourceLink

    url = make_database(database, folder)
    instance = folder / "instance"
    secret = secrets.token_urlsafe(48)
    child = Child("platform", [sys.executable, str(Path(__file__).resolve()), "--serve-platform",
                               "--tool-base-url", TOOL_BASE_URL, "--launch-target", TARGET],
                  python_env(), folder / "platform.log")
    started["platform"] = child
    platform = PlatformControl(json.loads(child.expect_line("{", 60)))
    app = create_app({"SECRET_KEY": secret, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance),
                      "BASE_URL": TOOL_BASE_URL, "COURSES_DIR": str(TREE / "courses")})
    context = app.app_context()
    context.push()
    started["context"] = context
    upgrade(directory=app.extensions["migrate"].directory)
    content.load(Path(app.config["COURSES_DIR"]))
    info = platform.info
    lti.add_platform(tenant_slug="ge-academy", issuer=info["issuer"], client_id=info["client_id"],
                     auth_login_url=info["auth_login_url"], auth_token_url=info["token_url"],
                     keyset_url=info["keyset_url"], deployment_ids=[info["deployment_id"]])
    platform.set_tool_jwks(keys.published_jwks())
    launch(app, platform)
    row = db.session.execute(select(ResourceLink)).scalar_one()
    check(SCOPE_SCORE in (row.ags_scopes or ()) and SCOPE_LINEITEM in row.ags_scopes and row.ags_lineitems,
          f"the launch's link has no AGS endpoint: {row.ags_scopes} {row.ags_lineitems}")
    link = Link(row.id, row.tenant_id, row.context_id, row.platform_id)
    db.session.commit()
    user_ids = make_users(link, info["issuer"], "trainee", users)
    database_name = PG_DATABASE if database == "postgresql" else None
    return Setup(database, url, secret, instance, app, platform, child, link, user_ids,
                 PostgresBackends(database_name))


def lesson_completed(link: Link, user_id: int, score: float, at: dt.datetime | None = None):
    """What content publishes when a trainee completes the lesson (as tests/lti/test_grades.py's _complete)."""
    from ibm_lms.events import LessonCompleted

    return LessonCompleted(tenant_id=link.tenant_id, user_id=user_id, context_id=link.context_id,
                           resource_link_id=link.id, locale="en", course_slug=COURSE, course_version=1,
                           lesson_key=LESSON, lesson_version=1, module_key="m", duration_seconds=60,
                           score_scaled=score, occurred_at=at or dt.datetime.now(dt.UTC))


def record_scores(link: Link, users: list[int]) -> None:
    from ibm_lms.unit_of_work import publish, unit_of_work

    for start in range(0, len(users), 100):
        with unit_of_work():
            for n, user_id in enumerate(users[start:start + 100]):
                publish(lesson_completed(link, user_id, ((start + n) % 10) / 10))


def outbox_counts() -> dict[str, int]:
    from sqlalchemy import func, select

    from ibm_lms.extensions import db
    from ibm_lms.lti.models import GradeOutbox

    counts = dict(db.session.execute(select(GradeOutbox.status, func.count(GradeOutbox.id))
                                     .group_by(GradeOutbox.status)).all())
    db.session.commit()
    return counts


def wire_timestamp(at: dt.datetime) -> str:
    """The score's timestamp as the delivery writes it (delivery._post_score)."""
    return at.replace(tzinfo=None).isoformat(timespec="milliseconds") + "+00:00"


# ---------------------------------------------------------------------------------------------------------------
# (1) Throughput: cached token against a fresh token per score.
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Batch:
    variant: str
    scores: int
    wall: float
    worker_cpu: float
    platform_cpu: float
    pg_cpu: float
    token_requests: int
    host_other: float


@contextlib.contextmanager
def fresh_token_per_score(setup: Setup):
    """Each row delivered with an empty token cache: tokens.forget for the scopes the delivery asks."""
    from ibm_lms.lti import platforms
    from ibm_lms.lti.ags import delivery, tokens
    from ibm_lms.lti.data import SCOPE_LINEITEM, SCOPE_SCORE

    record = platforms.by_id(setup.link.platform_id)
    original = delivery.deliver

    def deliver(row_id: int) -> str:
        tokens.forget(record, (SCOPE_LINEITEM, SCOPE_SCORE))
        return original(row_id)

    delivery.deliver = deliver
    try:
        yield
    finally:
        delivery.deliver = original


def bounded_drain(app, seconds: float) -> int:
    from ibm_lms.worker import drain

    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.daemon = True
    timer.start()
    try:
        handled = drain(app, stop=stop)
    finally:
        timer.cancel()
    check(not stop.is_set(), f"the drain did not finish within {seconds:.0f} s")
    return handled


def deliver_batch(setup: Setup, variant: str, users: list[int]) -> Batch:
    record_scores(setup.link, users)
    before_counts = outbox_counts()
    before = setup.platform.counters()
    pg0, host0 = setup.backends.reading(), host_busy()
    plat0, cpu0, t0 = process_cpu(setup.platform_child.popen.pid), own_cpu(), time.perf_counter()
    with fresh_token_per_score(setup) if variant == "fresh" else contextlib.nullcontext():
        handled = bounded_drain(setup.app, 60 + len(users))
    wall, cpu = time.perf_counter() - t0, own_cpu() - cpu0
    plat = process_cpu(setup.platform_child.popen.pid) - plat0
    pg, host = PostgresBackends.spent(pg0, setup.backends.reading()), host_busy() - host0
    after = setup.platform.counters()
    counts = outbox_counts()
    n = len(users)
    check(handled == n, f"{variant}: the worker handled {handled} rows, not {n}")
    check(counts.get("delivered", 0) - before_counts.get("delivered", 0) == n and not counts.get("pending")
          and not counts.get("parked"), f"{variant}: outbox after the batch {counts} (before {before_counts})")
    check(after["accepted"] - before["accepted"] == n, f"{variant}: the platform accepted "
                                                       f"{after['accepted'] - before['accepted']} of {n}")
    tokens = after["token_requests"] - before["token_requests"]
    check(tokens == (n if variant == "fresh" else 0), f"{variant}: {tokens} token requests for {n} scores")
    check(after["line_items"] == 1, f"{after['line_items']} line items (one expected)")
    return Batch(variant, n, wall, cpu, plat, pg, tokens, max(0.0, host - cpu - plat - pg))


def throughput(setup: Setup, scores: int, rounds: int) -> list[Batch]:
    # Warm-up: the line item is made and remembered, a token cached, every code path run once.
    warm = setup.users[-20:]
    record_scores(setup.link, warm[:1])
    check(bounded_drain(setup.app, 60) == 1, "warm-up: not one row handled")
    check(setup.platform.counters()["line_items"] == 1, "warm-up: no line item made")
    deliver_batch(setup, "fresh", warm[1:10])
    deliver_batch(setup, "cached", warm[10:20])
    per_round = scores // rounds
    check(2 * per_round * rounds <= len(setup.users) - 20, "not enough trainees for the throughput rounds")
    batches = []
    users = iter(range(0, 2 * per_round * rounds, per_round))
    for round_number in range(rounds):
        order = ("cached", "fresh") if round_number % 2 == 0 else ("fresh", "cached")
        for variant in order:
            start = next(users)
            batches.append(deliver_batch(setup, variant, setup.users[start:start + per_round]))
            print(f"    round {round_number + 1} {variant}: {per_round / batches[-1].wall:7.1f} scores/s", flush=True)
    return batches


def profile_worker(setup: Setup, scores: int) -> dict[str, str]:
    """cProfile of the drain, per variant (figures inflated by the profiler; read the shares)."""
    found = {}
    for n, variant in enumerate(("cached", "fresh")):
        # Trainees of the throughput rounds: their earlier scores are delivered, these are newer.
        users = setup.users[n * scores:(n + 1) * scores]
        check(len(users) == scores, "not enough trainees to profile")
        record_scores(setup.link, users)
        profiler = cProfile.Profile(time.process_time)
        with fresh_token_per_score(setup) if variant == "fresh" else contextlib.nullcontext():
            profiler.enable()
            bounded_drain(setup.app, 120 + scores)
            profiler.disable()
        found[variant] = profile_text(profiler)
    return found


def profile_text(profiler: cProfile.Profile, lines: int = 45) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(lines)
    return re.sub(r"/\S*/site-packages/", "", out.getvalue().replace(str(TREE) + "/", ""))


def profile_subscriber(setup: Setup, units: int) -> str:
    """cProfile of the publish-only unit of work with the grade subscriber (what the outbox adds)."""
    from ibm_lms.unit_of_work import publish, unit_of_work

    events = [lesson_completed(setup.link, setup.users[n % 200], 0.7) for n in range(units)]
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for event in events:
        with unit_of_work():
            publish(event)
    profiler.disable()
    return profile_text(profiler, 35)


# ---------------------------------------------------------------------------------------------------------------
# (2) Latency: result committed -> score accepted, `ibm-lms worker` running.
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Latency:
    rate: float
    scores: int
    achieved_rate: float
    delays: list[float]
    worker_cpu: float
    schedule_lag_max: float


def start_worker(setup: Setup, folder: Path) -> Child:
    env = {**python_env(), "IBM_LMS_DATABASE_URL": setup.url, "IBM_LMS_SECRET_KEY": setup.secret,
           "IBM_LMS_INSTANCE_PATH": str(setup.instance), "IBM_LMS_BASE_URL": TOOL_BASE_URL,
           "IBM_LMS_COURSES_DIR": str(TREE / "courses")}
    worker = Child("ibm-lms worker", [str(Path(sys.executable).parent / "ibm-lms"), "worker"], env,
                   folder / "worker.log")
    worker.expect_line("worker running", 60)
    return worker


def stop_worker(worker: Child) -> None:
    code = worker.stop(sig=signal.SIGTERM, seconds=30)
    check(code == 0 and any(line.startswith("worker stopped") for line in worker.output),
          f"the worker ended with {code}: {''.join(worker.output)[-400:]} {worker.stderr_tail()}")


def wait_accepted(setup: Setup, since: int, expected: dict, seconds: float) -> dict:
    """Polls the platform until every expected (userId, timestamp) was accepted; returns the acceptance times."""
    found: dict = {}
    deadline = time.monotonic() + seconds
    position = since
    while True:
        for user, stamp, at in setup.platform.accepted(position):
            position += 1
            key = (user, stamp)
            check(key in expected and key not in found, f"an unexpected or repeated score: {key}")
            found[key] = at
        if len(found) == len(expected):
            return found
        if time.monotonic() > deadline:
            raise BenchFailure(f"{len(expected) - len(found)} of {len(expected)} scores not accepted within "
                               f"{seconds:.0f} s")
        time.sleep(0.2)


def latency(setup: Setup, folder: Path, rate: float, scores: int, offset: int) -> Latency:
    from ibm_lms.tenancy import service as tenancy
    from ibm_lms.unit_of_work import publish, unit_of_work

    users = setup.users[offset:offset + scores + 1]
    check(len(users) == scores + 1, "not enough trainees for the latency run")
    subjects = {user_id: tenancy.subject_of(setup.link.tenant_id, user_id)[1] for user_id in users}
    worker = start_worker(setup, folder)
    try:
        # Warm-up: the worker's first score (its token, its connections), then the steady stream.
        since = setup.platform.counters()["accepted"]
        at = dt.datetime.now(dt.UTC)
        with unit_of_work():
            publish(lesson_completed(setup.link, users[0], 0.5, at))
        wait_accepted(setup, since, {(subjects[users[0]], wire_timestamp(at)): 0.0}, 30)
        since += 1
        committed: dict = {}
        lag = 0.0
        cpu0 = process_cpu(worker.popen.pid)
        start = time.monotonic() + 0.1
        for n, user_id in enumerate(users[1:]):
            due = start + n / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            lag = max(lag, time.monotonic() - due)
            at = dt.datetime.now(dt.UTC)
            with unit_of_work():
                publish(lesson_completed(setup.link, user_id, (n % 10) / 10, at))
            committed[(subjects[user_id], wire_timestamp(at))] = time.monotonic()
            check(worker.alive(), f"the worker ended: {worker.stderr_tail()}")
        span = time.monotonic() - start
        accepted = wait_accepted(setup, since, committed, 60)
        cpu = process_cpu(worker.popen.pid) - cpu0
    except BaseException:
        with contextlib.suppress(Exception):  # the first failure is the one to report
            worker.stop(sig=signal.SIGKILL, seconds=10)
        raise
    stop_worker(worker)
    counts = outbox_counts()
    check(not counts.get("pending") and not counts.get("parked"), f"outbox after the latency run: {counts}")
    delays = sorted(accepted[key] - committed[key] for key in committed)
    check(delays[0] > 0, "a score accepted before its result was committed: the clocks disagree")
    return Latency(rate, scores, scores / span, delays, cpu, lag)


# ---------------------------------------------------------------------------------------------------------------
# (3) The outbox's cost in the unit of work that records the result.
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class UnitTimes:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    pg_cpu: float = 0.0
    block_means: list[float] = field(default_factory=list)


@contextlib.contextmanager
def subscribed(app, yes: bool):
    from ibm_lms.events import LessonCompleted
    from ibm_lms.lti.ags import outbox
    from ibm_lms.unit_of_work import event_bus

    bus = event_bus(app)
    if not yes:
        bus.unsubscribe(LessonCompleted, outbox.on_lesson_completed)
    try:
        yield
    finally:
        bus.subscribe(LessonCompleted, outbox.on_lesson_completed)


def prepare_completions(setup: Setup, count: int) -> list:
    """Trainees who viewed the lesson and answered every exercise in it, ready to complete it."""
    from ibm_lms.content import catalogue as stored
    from ibm_lms.content import learning
    from ibm_lms.content.learning import Where
    from ibm_lms.content.models import ExerciseAnswer
    from ibm_lms.content.service import _document, _visible
    from ibm_lms.extensions import db
    from ibm_lms.tenancy.data import Identity, Role
    from ibm_lms.unit_of_work import unit_of_work

    link = setup.link
    users = make_users(link, setup.platform.info["issuer"], "completer", count)
    course = _visible(COURSE, link.tenant_id)
    document = _document(course)
    exercises = document["lessons"][LESSON]["exercises"]
    check(bool(exercises), "the graded lesson has no exercises")
    identities = [Identity(user_id=u, tenant_id=link.tenant_id, role=Role.LEARNER, context_id=link.context_id,
                           display_name=None, resource_link_id=link.id) for u in users]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for start in range(0, count, 100):
        with unit_of_work():
            for identity in identities[start:start + 100]:
                learning.view_lesson(Where(identity, "en"), course, document, LESSON)
                for key in exercises:
                    version_id = document["exercises"][key]["version_id"]
                    check(stored.exercise_version(version_id) is not None, f"exercise {key} has no version")
                    db.session.add(ExerciseAnswer(
                        tenant_id=link.tenant_id, user_id=identity.user_id, course_id=course.id, lesson_key=LESSON,
                        exercise_key=key, exercise_version_id=version_id, answer_token=secrets.token_urlsafe(24),
                        response={}, score=0.8, success=True, context_id=link.context_id, resource_link_id=link.id,
                        answered_at=now))
    return identities


def outbox_rows() -> int:
    return sum(outbox_counts().values())


def unit_cost(setup: Setup, kind: str, per_variant: int, block: int) -> dict[str, UnitTimes]:
    """Alternating blocks, subscriber on and off; each unit of work timed on its own."""
    from ibm_lms.content import service as content
    from ibm_lms.unit_of_work import publish, unit_of_work

    link = setup.link
    if kind == "completion":
        identities = iter(prepare_completions(setup, 2 * per_variant + 2 * block))
    users = setup.users

    def one(n: int) -> None:
        if kind == "publish":
            event = lesson_completed(link, users[n % 200], 0.7)
            w0, c0 = time.perf_counter(), time.thread_time()
            with unit_of_work():
                publish(event)
        else:
            identity = next(identities)
            w0, c0 = time.perf_counter(), time.thread_time()
            done = content.complete_lesson(COURSE, LESSON, identity, "en")
            check(done, "a lesson completion did nothing")
        times.wall.append(time.perf_counter() - w0)
        times.cpu.append(time.thread_time() - c0)

    found = {"subscribed": UnitTimes(), "unsubscribed": UnitTimes()}
    # Warm-up, one block each (not counted).
    for variant in ("subscribed", "unsubscribed"):
        times = UnitTimes()
        with subscribed(setup.app, variant == "subscribed"):
            for n in range(block):
                one(n)
    for number in range(2 * per_variant // block):
        variant = ("subscribed", "unsubscribed")[(number + number // 2) % 2]  # s u u s s u u s ...
        times = found[variant]
        rows0, pg0 = outbox_rows(), setup.backends.reading()
        size = len(times.wall)
        with subscribed(setup.app, variant == "subscribed"):
            for n in range(block):
                one(n)
        times.pg_cpu += PostgresBackends.spent(pg0, setup.backends.reading())
        times.block_means.append(statistics.fmean(times.wall[size:]))
        added = outbox_rows() - rows0
        check(added == (block if variant == "subscribed" else 0),
              f"{kind}, {variant}: {added} outbox rows for {block} units")
    return found


# ---------------------------------------------------------------------------------------------------------------
# Reporting.
# ---------------------------------------------------------------------------------------------------------------

def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


@dataclass
class DatabaseRun:
    database: str
    batches: list[Batch]
    latencies: list[Latency]
    units: dict[str, dict[str, UnitTimes]]
    profiles: dict[str, str]
    block: int


def throughput_rows(run: DatabaseRun) -> tuple[list[str], dict]:
    summary = {}
    for variant in ("cached", "fresh"):
        batches = [b for b in run.batches if b.variant == variant]
        n = sum(b.scores for b in batches)
        wall = sum(b.wall for b in batches)
        summary[variant] = {
            "scores": n, "rate": n / wall, "wall_ms": wall / n, "worker": sum(b.worker_cpu for b in batches) / n,
            "platform": sum(b.platform_cpu for b in batches) / n, "pg": sum(b.pg_cpu for b in batches) / n,
            "tokens": sum(b.token_requests for b in batches), "per_round": [b.scores / b.wall for b in batches],
            "host_other": sum(b.host_other for b in batches) / wall,
        }
    pg = run.database == "postgresql"
    rows = []
    for variant, label in (("cached", "token cached (as the tool runs)"), ("fresh", "fresh token per score")):
        s = summary[variant]
        rows.append(f"| {label} | {s['scores']} | **{s['rate']:.1f}** | {min(s['per_round']):.1f}–"
                    f"{max(s['per_round']):.1f} | {s['wall_ms'] * 1000:.2f} | {s['worker'] * 1000:.2f} | "
                    f"{s['platform'] * 1000:.2f} | {s['pg'] * 1000:.2f} |" if pg else
                    f"| {label} | {s['scores']} | **{s['rate']:.1f}** | {min(s['per_round']):.1f}–"
                    f"{max(s['per_round']):.1f} | {s['wall_ms'] * 1000:.2f} | {s['worker'] * 1000:.2f} | "
                    f"{s['platform'] * 1000:.2f} | n/a |")
        rows[-1] += f" {s['tokens']} |"
    pairs = []
    cached = [b for b in run.batches if b.variant == "cached"]
    fresh = [b for b in run.batches if b.variant == "fresh"]
    for c, f in zip(cached, fresh, strict=True):
        pairs.append((c.scores / c.wall) / (f.scores / f.wall))
    summary["ratio"] = summary["cached"]["rate"] / summary["fresh"]["rate"]
    summary["ratio_rounds"] = pairs
    summary["worker_ratio"] = summary["fresh"]["worker"] / summary["cached"]["worker"]
    summary["platform_ratio"] = summary["fresh"]["platform"] / summary["cached"]["platform"]
    return rows, summary


def unit_rows(run: DatabaseRun) -> tuple[list[str], dict]:
    rows, summary = [], {}
    pg = run.database == "postgresql"
    for kind, label in (("publish", "(a) unit of work that publishes LessonCompleted"),
                        ("completion", "(b) lesson completion (`content.service.complete_lesson`)")):
        on, off = run.units[kind]["subscribed"], run.units[kind]["unsubscribed"]
        n_on, n_off = len(on.wall), len(off.wall)
        figures = {}
        for name, t, n in (("subscribed", on, n_on), ("unsubscribed", off, n_off)):
            figures[name] = {"mean": statistics.fmean(t.wall), "median": statistics.median(t.wall),
                             "p95": percentile(t.wall, 0.95), "cpu": statistics.fmean(t.cpu),
                             "pg": t.pg_cpu / n if pg else None, "n": n}
        extra = {key: figures["subscribed"][key] - figures["unsubscribed"][key] for key in ("mean", "median", "cpu")}
        extra["pg"] = figures["subscribed"]["pg"] - figures["unsubscribed"]["pg"] if pg else None
        # Per pair of adjacent blocks (one of each), the difference of their means: the spread over the run.
        pair_diffs = [a - b for a, b in zip(on.block_means, off.block_means, strict=False)]
        summary[kind] = {"figures": figures, "extra": extra, "pair_diffs": pair_diffs,
                         "ratio_mean": figures["subscribed"]["mean"] / figures["unsubscribed"]["mean"],
                         "ratio_cpu": figures["subscribed"]["cpu"] / figures["unsubscribed"]["cpu"]}
        for name in ("subscribed", "unsubscribed"):
            f = figures[name]
            rows.append(f"| {label} | {name} | {f['n']} | {ms(f['mean'])} | {ms(f['median'])} | {ms(f['p95'])} | "
                        f"{ms(f['cpu'])} | {ms(f['pg']) if pg else 'n/a'} |")
        rows.append(f"| {label} | **outbox adds** |  | **{ms(extra['mean'])}** | **{ms(extra['median'])}** |  | "
                    f"**{ms(extra['cpu'])}** | {'**' + ms(extra['pg']) + '**' if pg else 'n/a'} |")
    return rows, summary


def render(runs: list[DatabaseRun], meta: dict, args) -> str:
    lines = [
        "# Grade delivery benchmark: results",
        "",
        f"One run of `bench/grades.py` on {meta['date']}, host `{meta['host']}` ({meta['cpus']} CPUs, "
        f"{meta['kernel']}, {meta['memory']}), Python {meta['python']}, PostgreSQL {meta['postgres']}, "
        f"SQLite {meta['sqlite']}.",
        "",
        f"- the tool: commit `{meta['commit']}` ({meta['subject']}), run from a git worktree of it "
        f"(`{meta['tree']}`: ibm_lms, tests/platform*.py, courses/) so that edits to the checkout change nothing "
        f"measured; the checkout {meta['checkout']}",
        f"- command: `{meta['command']}`",
        f"- counts per database: throughput {args.scores} scores per variant in {args.rounds} rounds that alternate "
        f"the variants (plus a warm-up); latency {args.latency_scores} scores per rate at "
        f"{', '.join(f'{r:g}' for r in args.rates)} scores/s (plus one warm-up score); outbox cost "
        f"{args.events} units per variant (a), {args.completions} per variant (b), in blocks of {args.block} "
        "that alternate (s u u s …), after one warm-up block of each",
        "- the test platform (tests/platform.py + tests/platform_services.py, werkzeug's threaded server) runs in "
        "a process of its own on loopback; its CPU is reported apart. The host is shared: other work on it (other "
        "benchmarks, the PostgreSQL server's other databases) runs at the same time, so absolute figures move "
        "between runs; the ratios are taken within one run.",
        "",
    ]
    summaries = {}
    for run in runs:
        label = LABELS[run.database]
        t_rows, t = throughput_rows(run)
        u_rows, u = unit_rows(run)
        summaries[run.database] = (t, u, run)
        lines += [
            f"## {label}",
            "",
            "### (1) Throughput: scores delivered per second, token cached against a fresh token per score",
            "",
            "The worker's drain loop (`ibm_lms.worker.drain`) in the driver process, the outbox filled before each "
            "timed drain, the line item already known (one POST per score).",
            "",
            "| variant | scores | **scores/s** | per round (min–max) | wall ms/score | worker CPU ms/score | "
            "platform CPU ms/score | PostgreSQL CPU ms/score | token requests |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *t_rows,
            "",
            f"- **cached / fresh: {t['ratio']:.2f}** times the scores per second (per round: "
            f"{min(t['ratio_rounds']):.2f}–{max(t['ratio_rounds']):.2f}); worker CPU per score fresh / cached "
            f"{t['worker_ratio']:.2f}, platform CPU per score fresh / cached {t['platform_ratio']:.2f}",
            f"- the rest of the host during the timed drains: {t['cached']['host_other'] * 100:.0f}% (cached) and "
            f"{t['fresh']['host_other'] * 100:.0f}% (fresh) of one core",
            "",
            "### (2) Delay from the result committed to the score accepted by the platform (`ibm-lms worker` running)",
            "",
            "| arrival rate (scores/s) | scores | achieved rate | **median s** | **p95 s** | min s | max s | "
            "worker CPU ms/score |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for lat in run.latencies:
            lines.append(f"| {lat.rate:g} | {lat.scores} | {lat.achieved_rate:.1f} | "
                         f"**{statistics.median(lat.delays):.3f}** | **{percentile(lat.delays, 0.95):.3f}** | "
                         f"{lat.delays[0]:.3f} | {lat.delays[-1]:.3f} | "
                         f"{lat.worker_cpu / lat.scores * 1000:.2f} |")
        lines += [
            "",
            "Committed: after the unit of work's commit returned in the driver; accepted: when the platform's score "
            "handler had taken the score (204), both on CLOCK_MONOTONIC. "
            + "; ".join(f"at {lat.rate:g}/s the driver fell behind its schedule by at most "
                        f"{lat.schedule_lag_max * 1000:.0f} ms" for lat in run.latencies) + ".",
            "",
            "### (3) What the outbox adds to the unit of work that records the result",
            "",
            "Grade subscriber subscribed against unsubscribed, same run, alternating blocks; wall clock and CPU of the "
            "driver thread per unit of work (on SQLite the database's work is in it).",
            "",
            "| unit of work | grade subscriber | units | mean ms | median ms | p95 ms | CPU ms | "
            "PostgreSQL backend CPU ms |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *u_rows,
            "",
        ]
        for kind, name in (("publish", "(a)"), ("completion", "(b)")):
            s = u[kind]
            lines.append(f"- {name}: subscribed / unsubscribed {s['ratio_mean']:.2f} (wall, mean), "
                         f"{s['ratio_cpu']:.2f} (CPU); the extra per pair of adjacent blocks "
                         f"{ms(min(s['pair_diffs']))}–{ms(max(s['pair_diffs']))} ms")
        lines.append("")
    lines += ["## Ratios, all databases", "",
              "| | " + " | ".join(LABELS[r.database] for r in runs) + " |",
              "| --- | " + " | ".join("---" for _ in runs) + " |"]
    rows = [
        ("scores/s, token cached / fresh token per score", lambda t, u, r: f"**{t['ratio']:.2f}**"),
        ("scores/s, token cached", lambda t, u, r: f"{t['cached']['rate']:.1f}"),
        ("scores/s, fresh token per score", lambda t, u, r: f"{t['fresh']['rate']:.1f}"),
    ]
    for n, rate in enumerate(args.rates):
        rows.append((f"delay median / p95 at {rate:g} scores/s (s)",
                     lambda t, u, r, n=n: f"{statistics.median(r.latencies[n].delays):.3f} / "
                                          f"{percentile(r.latencies[n].delays, 0.95):.3f}"))
    rows += [
        ("(a) publish-only unit: outbox adds (mean wall ms / CPU ms)",
         lambda t, u, r: f"{ms(u['publish']['extra']['mean'])} / {ms(u['publish']['extra']['cpu'])}"),
        ("(b) lesson completion: subscribed / unsubscribed (mean wall)",
         lambda t, u, r: f"**{u['completion']['ratio_mean']:.2f}**"),
        ("(b) lesson completion: outbox adds (mean wall ms / CPU ms)",
         lambda t, u, r: f"{ms(u['completion']['extra']['mean'])} / {ms(u['completion']['extra']['cpu'])}"),
    ]
    for label, value in rows:
        lines.append(f"| {label} | " + " | ".join(value(*summaries[r.database]) for r in runs) + " |")
    lines.append("")
    for run in runs:
        for variant, text in run.profiles.items():
            what = {"cached": f"the worker, {args.profile_scores} scores, token cached",
                    "fresh": f"the worker, {args.profile_scores} scores, fresh token per score",
                    "subscriber": f"{args.profile_scores} publish-only units of work, grade subscriber on"}[variant]
            lines += [f"## Profile, {LABELS[run.database]}: {what} (cProfile, CPU clock, cumulative)", "",
                      "```", text.strip()[:12000], "```", ""]
    return "\n".join(lines)


def git(*args: str, where: Path = ROOT) -> str:
    return subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True, timeout=60,
                          check=True).stdout.strip()


@dataclass
class Worktree:
    path: Path
    commit: str
    created: bool


def open_worktree(rev: str, path: Path | None) -> Worktree:
    """A worktree of `rev` outside the checkout, with its translation catalogs compiled by its own code."""
    commit = git("rev-parse", "--verify", rev + "^{commit}")
    path = path or Path(tempfile.gettempdir()) / f"ibm-lms-grades-{commit[:10]}"
    created = False
    if path.exists():
        at = git("rev-parse", "HEAD", where=path)
        check(at == commit, f"{path} is at {at[:10]}, not {rev} ({commit[:10]}): remove it or pass --worktree")
        check(git("status", "--porcelain", where=path) == "", f"the worktree {path} has changes: remove it")
    else:
        git("worktree", "add", "--detach", str(path), commit)
        created = True
    compiled = subprocess.run([sys.executable, "-c", "from pathlib import Path; from ibm_lms.config import LOCALES; "
                               "from ibm_lms.i18n.catalogs import compile_all; "
                               "print(len(compile_all(Path('translations'), LOCALES)))"],
                              cwd=str(path), env={**python_env(), "PYTHONPATH": str(path)}, capture_output=True,
                              text=True, timeout=300)
    check(compiled.returncode == 0, f"compiling the worktree's catalogs failed: {compiled.stderr[-800:]}")
    return Worktree(path, commit, created)


def check_imports() -> None:
    """ibm_lms and the test platform come from the worktree, here and in the child processes."""
    import ibm_lms
    import tests.platform

    for module in (ibm_lms, tests.platform):
        check(Path(module.__file__).resolve().is_relative_to(TREE), f"{module.__name__} resolves to "
                                                                    f"{module.__file__}, not the worktree {TREE}")
    found = subprocess.run([sys.executable, "-c", "import ibm_lms, ibm_lms.cli, tests.platform; "
                            "print(ibm_lms.__file__); print(tests.platform.__file__)"],
                           env=python_env(), cwd=str(TREE), capture_output=True, text=True, timeout=120)
    check(found.returncode == 0, f"a child cannot import the tool: {found.stderr[-800:]}")
    for line in found.stdout.split():
        check(Path(line).resolve().is_relative_to(TREE), f"a child process imports {line}, not the worktree's")


def metadata(tree: Worktree) -> dict:
    postgres = "n/a"
    with contextlib.suppress(Exception):
        postgres = subprocess.run(["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-Atc",
                                   "show server_version", "postgres"], capture_output=True, text=True,
                                  timeout=30).stdout.strip() or "n/a"
    import psutil

    dirty = git("status", "--porcelain", "--", "ibm_lms", "tests", "courses")
    return {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "host": pyplatform.node(),
            "cpus": os.cpu_count(), "kernel": pyplatform.release(), "python": pyplatform.python_version(),
            "postgres": postgres, "sqlite": sqlite3.sqlite_version, "commit": tree.commit[:10],
            "subject": git("log", "-1", "--format=%s", tree.commit),
            "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
            "checkout": "clean" if not dirty else f"had uncommitted changes in {len(dirty.splitlines())} paths under "
                                                  "ibm_lms/, tests/, courses/ (not measured)",
            "tree": str(tree.path), "command": "python bench/grades.py " + " ".join(sys.argv[1:])}


def write_results(text: str) -> None:
    """The figures, then the notes kept from the file as it was (hand-written), then the profiles."""
    kept = "\n"
    if RESULTS.exists():
        old = RESULTS.read_text()
        if NOTES_MARKER in old and NOTES_END in old:
            kept = old[old.index(NOTES_MARKER) + len(NOTES_MARKER):old.index(NOTES_END)]
    main, profiles = (text.split("\n## Profile", 1) + [""])[:2]
    RESULTS.write_text(main.rstrip() + "\n\n" + NOTES_MARKER + kept + NOTES_END + "\n"
                       + ("\n## Profile" + profiles if profiles else ""))


# ---------------------------------------------------------------------------------------------------------------

def run_database(database: str, args) -> DatabaseRun:
    from ibm_lms.extensions import db

    print(f"== {LABELS[database]}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix=f"ibm-lms-grades-{database}-"))
    started: dict = {}
    needed = 20 + max(2 * args.scores, len(args.rates) * (args.latency_scores + 1),
                      2 * args.profile_scores if args.profile else 0)
    try:
        setup = set_up(database, folder, needed, started)
        print(f"  set up: {len(setup.users)} trainees, link {setup.link.id}", flush=True)
        print("  (1) throughput", flush=True)
        batches = throughput(setup, args.scores, args.rounds)
        profiles = profile_worker(setup, args.profile_scores) if args.profile else {}
        print("  (2) latency", flush=True)
        latencies = []
        for n, rate in enumerate(args.rates):
            latencies.append(latency(setup, folder, rate, args.latency_scores, n * (args.latency_scores + 1)))
            lat = latencies[-1]
            print(f"    {rate:g}/s: median {statistics.median(lat.delays):.3f} s, p95 "
                  f"{percentile(lat.delays, 0.95):.3f} s", flush=True)
        print("  (3) outbox cost in the unit of work", flush=True)
        units = {"publish": unit_cost(setup, "publish", args.events, args.block),
                 "completion": unit_cost(setup, "completion", args.completions, args.block)}
        if args.profile:
            profiles["subscriber"] = profile_subscriber(setup, args.profile_scores)
        for kind in ("publish", "completion"):
            on, off = units[kind]["subscribed"], units[kind]["unsubscribed"]
            print(f"    {kind}: subscribed {ms(statistics.fmean(on.wall))} ms, unsubscribed "
                  f"{ms(statistics.fmean(off.wall))} ms", flush=True)
        return DatabaseRun(database, batches, latencies, units, profiles, args.block)
    finally:
        if "platform" in started:
            with contextlib.suppress(Exception):
                started["platform"].stop()
        if "context" in started:
            with contextlib.suppress(Exception):
                db.session.remove()
                db.engine.dispose()
            started["context"].pop()
        drop_database(database)
        if args.keep:
            print(f"  kept {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("both", "postgresql", "sqlite"), default="both")
    parser.add_argument("--scores", type=int, default=1000, help="throughput: scores per variant (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="throughput rounds alternating the variants")
    parser.add_argument("--latency-scores", type=int, default=600, help="latency: scores per rate (default 600)")
    parser.add_argument("--rates", default="10,50", help="latency: arrival rates in scores/s (default 10,50)")
    parser.add_argument("--events", type=int, default=1000, help="outbox cost (a): units per variant")
    parser.add_argument("--completions", type=int, default=500, help="outbox cost (b): units per variant")
    parser.add_argument("--block", type=int, default=50, help="outbox cost: units per alternating block")
    parser.add_argument("--profile", action="store_true", help="cProfile the worker per score, both variants")
    parser.add_argument("--profile-scores", type=int, default=300)
    parser.add_argument("--no-write", action="store_true", help="print, do not write bench/GRADES_RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders (logs, SQLite file)")
    parser.add_argument("--rev", default="HEAD", help="the commit of the tool to measure (default HEAD)")
    parser.add_argument("--worktree", type=Path, help="where its worktree goes (default /tmp/ibm-lms-grades-<commit>)")
    parser.add_argument("--keep-worktree", action="store_true", help="leave the worktree this run created")
    parser.add_argument("--serve-platform", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tool-base-url", help=argparse.SUPPRESS)
    parser.add_argument("--launch-target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_platform:
        serve_platform(args.tool_base_url, args.launch_target)  # PYTHONPATH names the worktree
        return 0
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    check(args.scores % args.rounds == 0, "--scores must be a multiple of --rounds")
    check(args.events % args.block == 0 and args.completions % args.block == 0 and
          (args.events // args.block) % 2 == 0 and (args.completions // args.block) % 2 == 0,
          "--events and --completions must be even multiples of --block")
    check(args.latency_scores >= 1 and all(r > 0 for r in args.rates), "latency needs scores and rates")
    databases = ("postgresql", "sqlite") if args.database == "both" else (args.database,)
    for tool in ["git"] + (["createdb", "dropdb", "psql"] if "postgresql" in databases else []):
        check(shutil.which(tool) is not None, f"{tool} is not on PATH")
    global TREE
    tree = open_worktree(args.rev, args.worktree)
    try:
        TREE = tree.path
        sys.path.insert(0, str(TREE))
        check_imports()
        meta = metadata(tree)
        runs = [run_database(database, args) for database in databases]
        check(git("rev-parse", "HEAD", where=tree.path) == tree.commit and
              git("status", "--porcelain", where=tree.path) == "", f"the worktree {tree.path} changed during the run")
    finally:
        if tree.created and not args.keep_worktree:
            with contextlib.suppress(Exception):
                git("worktree", "remove", "--force", str(tree.path))
    text = render(runs, meta, args)
    print()
    print(text)
    if not args.no_write:
        write_results(text)
        print(f"\nwritten: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchFailure as failure:
        print(f"bench/grades.py: FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
