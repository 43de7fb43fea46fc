"""Quiz benchmark: an exam under load against two references, item statistics at 100,000 attempts, a GIFT import.

    .venv/bin/python bench/quiz.py                    # everything, as in bench/QUIZ_RESULTS.md (about 35 minutes)
    .venv/bin/python bench/quiz.py --quick            # smoke run: 50 trainees, 1 round, 10k attempts, 200 questions
    .venv/bin/python bench/quiz.py [--trainees 500] [--rounds 3] [--think 4] [--ramp 60] [--attempts 100000]
                                   [--questions 2000] [--only exam,statistics,import] [--profile auto|always|never]
                                   [--rev HEAD] [--no-write]

Needs `scripts/setup bench` and `scripts/setup test` (gunicorn, psutil, psycopg) and PostgreSQL on
127.0.0.1:5432 (user postgres, trust auth). Makes and drops its own databases (ibm_lms_quiz_bench_*),
never touches any other. Writes bench/QUIZ_RESULTS.md (unless --no-write) and prints it; exits 1 on any
correctness failure (an error response, a lost answer, a wrong score or row count) or when a part cannot run.

Each part measures one commit: HEAD (or --rev) is resolved when the part starts, exported with `git
archive` into a temporary folder (its catalogs compiled by its own code) and run from there (PYTHONPATH
and working folder), so edits to the checkout while the benchmark runs change nothing measured; every
process checks it imported ibm_lms from the export. Each part runs in a child process of its own.

1. Exam under load (per round, --rounds): a course folder copy (--course, default trainer-methodology, 54
   questions) with one more quiz, `bench-exam-40.toml` (the shipped final exam's settings, `[[draw]] count
   = 40`), loaded by `ibm-lms content load --dir`; the test platform of tests/platform.py (real HTTP,
   RS256 keys) registered by `ibm-lms platform add`; the tool under `gunicorn -w 2 -k gthread --threads 4
   ibm_lms.wsgi:app` (what `ibm-lms serve` and the systemd unit run; --threads 1 measures sync workers) on a
   fresh PostgreSQL database. --trainees simulated trainees, one thread and one user
   each, start --ramp seconds apart in all; each: GET /lti/login -> 302 to the platform; the platform's id
   token for that user, signed as tests/conftest.py's Launcher signs it (with the AGS claims of a graded
   quiz link), POSTed to /lti/launch -> 303 to the quiz; the quiz page; POST start -> 303; the attempt page;
   then every answer autosaved one by one as quiz_attempt.js sends it (POST /quiz/attempts/<id>/save with
   q<slot>-<field>, q<slot>-present, csrf_token, sequence; Accept: application/json; X-CSRFToken), some
   answers changed later (a second save of the slot, a higher sequence); submit -> 303; the review page.
   Think time before every step: lognormal, mean --think seconds (a real 45-minute exam of 40 questions
   is about 60 s per answer: the time is compressed 60/--think times, so the server sees in a few minutes
   what that many times more trainees would bring at a real pace). Answers are right with each trainee's
   own probability, otherwise a wrong but valid answer of the question's type.
   Checks: every response's status and content (302, 303 to the right page, 200 pages with the form, the
   save's JSON naming the slot); afterwards, from the database, every attempt finished, exactly the
   answer (response and sequence) of the last save of each slot, the per-question scores and the attempt
   score the tool's own scoring gives for those answers, one grade outbox row per attempt.
   Client latency (connect to last byte) per request type, server CPU and in-worker wall time per request
   type (gunicorn pre/post_request hooks), PostgreSQL backends' CPU, host load.
2. References, same round, same gunicorn settings (2 workers, --threads each), same PostgreSQL server and database,
   the same trainees (session cookies, attempt ids, form bodies, think times, same concurrency; --ref-saves
   requests each, the ramp shortened in proportion): (a) bare: a Flask POST endpoint returning a constant;
   (b) floor (`floor_app()` below): the tool's own session interface (ibm_lms SessionTransport, the tool's
   secret key and cookie) reads the identity, one upsert into bench_floor_answers keyed by (attempt id,
   slot), commit, a small JSON; SQLAlchemy Core with the tool's engine options (ibm_lms.config defaults).
   (c) the floor beside the exam: during the exam itself, the floor's endpoint mounted in the same workers
   (`exam_with_floor()`) gets a copy of --floor-beside of the autosaves right after each, so it waits behind
   the same starts, pages and submissions at the same moments; autosave / (c) is what the save itself adds.
   Goal: autosave p95 <= 1.5 x the floor's p95, read against (c) when it was measured (a p95 belongs to its
   load), else against (b); both ratios are written. When missed (or --profile always), one more exam run with
   min(trainees, 150) trainees against `profiled_tool()` below (sync workers, so each part's CPU is its own):
   every autosave's parts timed (CPU and wall) in both workers, and one worker under cProfile.
3. Item statistics: a fresh database with the same course and quiz and three academies (50/30/20 % of the
   trainees, locales ru and en); finished attempts inserted by COPY (users, 25 % with a second attempt, the
   40 drawn questions' scores from a two-parameter IRT model, partial credit for multi-part types, real
   layouts); at 25k, 50k and 100k attempts (--attempts), `ibm_lms.quiz.service.quiz_statistics` for the
   largest academy is timed in a fresh process (first call, then --stat-rounds more), with the RSS
   high-water mark of the call (/proc/self/clear_refs then VmHWM) and tracemalloc's peak (a separate call).
4. Import: a generated GIFT file of --questions questions (multiple choice, multiple answer, true/false,
   short answer, numerical, matching; 20 categories; per-answer and general feedback; outcome tags on a
   third); per round on a fresh copy of a prepared database: `ibm-lms quiz import` wall clock (a process,
   start-up included), then in a fresh process `ibm_lms.quiz.service.import_file` alone (and the file's
   parsing alone); the bank's rows counted after each.

Every wait is bounded. Ctrl-C or SIGTERM stops everything this run started (gunicorn by its pid, the
child processes, the platform thread), drops its databases and removes its temporary folders.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import email.utils
import http.client
import json
import math
import os
import platform as pyplatform
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
if not (BIN / "gunicorn").exists():
    BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
DB_PREFIX = "ibm_lms_quiz_bench"
DATABASES = {"exam": DB_PREFIX + "_exam", "stats": DB_PREFIX + "_stats", "template": DB_PREFIX + "_import_tpl",
             "import": DB_PREFIX + "_import_run"}
QUIZ_KEY = "bench-exam-40"
QUIZ_QUESTIONS = 40
LINK_ID = "quiz-bench-final-exam"
PROBE_COOKIE = "ibm_lms_cookies"
SESSION_COOKIE = "ibm_lms_session"
WORKERS = 2
# What `ibm-lms serve` and the systemd unit run per worker (its --threads default): short requests are not queued
# behind a long one in the same worker.
THREADS = 4
REQUEST_TIMEOUT = 120.0
START_TIMEOUT = 60.0
CHILD_TIMEOUT = 3600.0
GOAL_RATIO = 1.5
STATS_GOAL_SECONDS = 5.0
PROFILE_TRAINEES = 150
TENANTS = (("ge-academy", "Georgia", 0.5), ("md-academy", "Moldova", 0.3), ("ua-academy", "Ukraine", 0.2))
EXAM_QUIZ = f"""# The shipped final exam's settings, drawing 40 questions (bench/quiz.py).
kind = "exam"
time_limit_minutes = 45
attempts = 2
grading = "highest"
pass_mark = 0.7
review = {{ after_submit = "score", after_close = "answers" }}

[title]
en = "Final exam (40 questions)"
ru = "Экзамен (40 вопросов)"

[[draw]]
count = {QUIZ_QUESTIONS}
"""
# The kinds of request, by method and path (client and server side alike).
KINDS = ("login", "launch", "quiz page", "start", "attempt page", "autosave", "submit", "review page", "bare",
         "floor")
_PATHS = [("GET", re.compile(r"/lti/login"), "login"), ("POST", re.compile(r"/lti/launch"), "launch"),
          ("GET", re.compile(r"/courses/[^/]+/quizzes/[^/]+"), "quiz page"),
          ("POST", re.compile(r"/courses/[^/]+/quizzes/[^/]+/attempts"), "start"),
          ("GET", re.compile(r"/quiz/attempts/\d+"), "attempt page"),
          ("POST", re.compile(r"/quiz/attempts/\d+/save"), "autosave"),
          ("POST", re.compile(r"/quiz/attempts/\d+/submit"), "submit"),
          ("GET", re.compile(r"/quiz/attempts/\d+/review"), "review page"),
          ("POST", re.compile(r"/bare/save"), "bare"), ("POST", re.compile(r"/floor/attempts/\d+/save"), "floor")]


def kind_of(method: str, path: str) -> str:
    for verb, pattern, kind in _PATHS:
        if verb == method and pattern.fullmatch(path):
            return kind
    return "other"


class BenchError(RuntimeError):
    """The run cannot go on (a server that does not start, a command that fails)."""


# --------------------------------------------------------------------------- small helpers


def percentile(values, share: float) -> float | None:
    """Nearest-rank percentile (share in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def med(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    return f"{min(values):.1f}–{max(values):.1f}" if len(values) > 1 else "one round"


def fmt(value, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def ratio(a, b) -> float | None:
    return a / b if a is not None and b else None


def md_table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows)]


def run_command(args: list[str], env: dict, cwd: Path, timeout: float = CHILD_TIMEOUT) -> str:
    try:
        done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(args[:5])} … did not finish within {timeout:.0f}s") from None
    if done.returncode != 0:
        raise BenchError(f"{' '.join(args[:6])} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True,
                          timeout=120).stdout.strip()


def base_env(tree: Path, *extra_paths: Path) -> dict:
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ") if k in os.environ}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # The export first: the venv's editable install of the checkout comes after PYTHONPATH.
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (tree, *extra_paths))
    return env


def export_commit(rev: str, dest: Path) -> dict:
    """`git archive` of the commit into dest, its catalogs compiled by its own code; where it came from."""
    commit = git("rev-parse", "--verify", rev + "^{commit}")
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit], capture_output=True,
                             timeout=600, check=False)
    if archive.returncode != 0:
        raise BenchError(f"git archive {commit} failed: {archive.stderr.decode(errors='replace')}")
    untar = subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, capture_output=True, timeout=600,
                           check=False)
    if untar.returncode != 0:
        raise BenchError(f"tar failed: {untar.stderr.decode(errors='replace')}")
    where = run_command([sys.executable, "-c",
                         "from pathlib import Path; import ibm_lms; from ibm_lms.config import LOCALES; "
                         "from ibm_lms.i18n.catalogs import compile_all; compile_all(Path('translations'), LOCALES); "
                         "print(ibm_lms.__file__)"], base_env(dest), dest).strip().splitlines()[-1]
    if not Path(where).resolve().is_relative_to(dest.resolve()):
        raise BenchError(f"ibm_lms was imported from {where}, not from the export {dest}")
    return {"commit": commit, "subject": git("log", "-1", "--format=%s", commit),
            "date": git("log", "-1", "--format=%cI", commit), "tree": str(dest.resolve()), "rev": rev}


def check_tree(tree: str) -> None:
    import ibm_lms

    if not Path(ibm_lms.__file__).resolve().is_relative_to(Path(tree)):
        raise BenchError(f"ibm_lms was imported from {ibm_lms.__file__}, not from the export {tree}")


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(**PG, dbname="postgres", autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql)


def fresh_database(name: str, template: str | None = None) -> str:
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


def drop_database(name: str) -> None:
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def tool_env(tree: Path, workdir: Path, url: str, base_url: str, courses: Path, secret: str) -> dict:
    instance = workdir / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    return base_env(tree, BENCH) | {
        "IBM_LMS_DATABASE_URL": url, "IBM_LMS_SECRET_KEY": secret, "IBM_LMS_BASE_URL": base_url,
        "IBM_LMS_INSTANCE_PATH": str(instance), "IBM_LMS_COURSES_DIR": str(courses),
        # Hundreds of simulated trainees share one address: measure the tool, not its limiter.
        "IBM_LMS_RATE_LIMITS": "0"}


def ibm_lms(env: dict, tree: Path, *args: str, timeout: float = 900) -> str:
    return run_command([str(BIN / "ibm-lms"), *args], env, tree, timeout)


def add_tenant(env: dict, tree: Path, slug: str) -> None:
    """Since 'tenant add' exists, 'platform add' needs the academy; older commits made it there (and lack the
    command), so a failure here is not one."""
    subprocess.run([str(BIN / "ibm-lms"), "tenant", "add", slug], env=env, cwd=tree, capture_output=True, check=False)


def course_copy(tree: Path, course: str, dest: Path) -> Path:
    """The course folder of the export, copied, with the benchmark's 40-question exam beside its quizzes."""
    source = tree / "courses" / course
    if not source.is_dir():
        raise BenchError(f"--course {course}: no folder {source}")
    bank = len(list((source / "questions").glob("*.toml")))
    if bank < QUIZ_QUESTIONS:
        raise BenchError(f"--course {course}: its bank has {bank} questions, fewer than {QUIZ_QUESTIONS}")
    folder = dest / "courses"
    shutil.copytree(source, folder / course)
    (folder / course / "quizzes" / f"{QUIZ_KEY}.toml").write_text(EXAM_QUIZ, encoding="utf-8")
    return folder


def proc_status(field_name: str) -> int:
    """A field of /proc/self/status in bytes (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) * 1024
    return 0


# --------------------------------------------------------------------------- the host and the servers' CPU


def pg_backends(database: str) -> list:
    """PostgreSQL backend processes serving `database` (their process title names it)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if proc.info["name"] == "postgres" and database in " ".join(proc.info["cmdline"] or ()):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def cpu_of(procs) -> dict[int, float]:
    import psutil

    seen = {}
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = proc.cpu_times()
            seen[proc.pid] = times.user + times.system
    return seen


class HostWatch:
    """Samples the host while a phase runs: load average, busy CPU of the host, of ours and of everyone else."""

    def __init__(self, database: str, servers_cpu):
        import psutil

        self.database, self.servers_cpu, self.psutil = database, servers_cpu, psutil
        self.loads: list[float] = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _ours(self) -> dict[int, float]:
        mine = cpu_of([self.psutil.Process()])
        return mine | cpu_of(pg_backends(self.database)) | self.servers_cpu()

    @staticmethod
    def _busy(times) -> float:
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)

    def start(self) -> HostWatch:
        self.t0, self.host0, self.ours0, self.pg0 = (time.monotonic(), self._busy(self.psutil.cpu_times()),
                                                     self._ours(), cpu_of(pg_backends(self.database)))
        self.server0 = self.servers_cpu()
        self.thread.start()
        return self

    def _sample(self) -> None:
        while not self.stop_event.wait(2.0):
            self.loads.append(os.getloadavg()[0])

    def finish(self) -> dict:
        """Reads the counters; call it while the servers still run."""
        self.stop_event.set()
        self.thread.join(5)
        seconds = time.monotonic() - self.t0
        host = self._busy(self.psutil.cpu_times()) - self.host0
        ours1, pg1, server1 = self._ours(), cpu_of(pg_backends(self.database)), self.servers_cpu()

        def grown(before, after):
            return sum(after[p] - before.get(p, 0.0) for p in after)

        ours = grown(self.ours0, ours1)
        return {"seconds": seconds, "load_mean": med(self.loads) if self.loads else os.getloadavg()[0],
                "load_max": max(self.loads, default=os.getloadavg()[0]), "host_cores": host / seconds,
                "ours_cores": ours / seconds, "others_cores": max(0.0, host - ours) / seconds,
                "pg_cpu": grown(self.pg0, pg1), "server_cpu": grown(self.server0, server1),
                "cores": os.cpu_count()}


GUNICORN_CONF = '''"""gunicorn hooks of bench/quiz.py: CPU and wall time of every request inside the worker."""
import json, os, sys, time
_RECORDS = []
# Both hooks run in the thread that serves the request (sync or gthread), so its CPU clock is the request's own.
def pre_request(worker, req):
    req.bench_started = (time.thread_time(), time.perf_counter())
def post_request(worker, req, environ, resp):
    cpu, wall = req.bench_started
    _RECORDS.append((req.method, req.path, time.thread_time() - cpu, time.perf_counter() - wall,
                     getattr(resp, "status_code", None)))
def worker_exit(server, worker):
    module = sys.modules.get("quiz")
    if module is not None and hasattr(module, "dump_profile"):
        module.dump_profile()
    with open(os.path.join(os.environ["BENCH_RECORDS_DIR"], "requests-%d.json" % os.getpid()), "w") as out:
        json.dump(_RECORDS, out)
'''


class Gunicorn:
    """An app under `gunicorn -w 2 -k gthread --threads N` (sync when N is 1), started and stopped by us only."""

    def __init__(self, app: str, port: int, env: dict, cwd: Path, workdir: Path, name: str, workers: int = WORKERS,
                 threads: int = THREADS):
        self.app, self.port, self.cwd, self.workers_wanted, self.threads = app, port, cwd, workers, threads
        self.records = workdir / f"records-{name}"
        self.records.mkdir(parents=True)
        self.conf = workdir / "gunicorn_bench_conf.py"
        self.conf.write_text(GUNICORN_CONF)
        self.env = env | {"BENCH_RECORDS_DIR": str(self.records)}
        self.log_path = workdir / f"gunicorn-{name}.log"
        self.popen: subprocess.Popen | None = None
        self.pids_file = workdir / "pids.txt"

    def start(self) -> Gunicorn:
        import psutil

        kind = ["-k", "gthread", "--threads", str(self.threads)] if self.threads > 1 else ["-k", "sync"]
        args = [str(BIN / "gunicorn"), "-w", str(self.workers_wanted), *kind, "-b", f"{HOST}:{self.port}",
                "--log-level", "warning", "--timeout", "120", "-c", str(self.conf), self.app]
        self._log = self.log_path.open("w")
        self.popen = subprocess.Popen(args, cwd=self.cwd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        with self.pids_file.open("a") as pids:
            pids.write(f"{self.popen.pid}\n")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise BenchError(f"gunicorn {self.app} exited at start:\n{self.log_tail()}")
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                connection.request("GET", "/healthz")
                connection.getresponse().read()
                connection.close()
                if len(self.workers()) == self.workers_wanted:
                    return self
            except (OSError, http.client.HTTPException, psutil.Error):
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn {self.app} not ready within {START_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def workers(self) -> list:
        import psutil

        return psutil.Process(self.popen.pid).children(recursive=True)

    def cpu(self) -> dict[int, float]:
        import psutil

        try:
            return cpu_of([psutil.Process(self.popen.pid), *self.workers()])
        except psutil.Error:
            return {}

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> list[tuple]:
        """Stops gunicorn (SIGTERM, then SIGKILL after 30 s); returns the workers' request records."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(Exception):
                    for worker in self.workers():
                        worker.kill()
                self.popen.kill()
                self.popen.wait(10)
        if self.popen is not None:
            self._log.close()
        records = []
        for path in sorted(self.records.glob("requests-*.json")):
            records.extend(tuple(r) for r in json.loads(path.read_text()))
        return records


# --------------------------------------------------------------------------- the browser


class CookieJar:
    def __init__(self, initial: dict[str, str] | None = None):
        self.cookies = dict(initial or {})

    def header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def receive(self, headers: list[str]) -> None:
        for header in headers:
            first, *attributes = header.split(";")
            name, _, value = first.partition("=")
            options = {}
            for attribute in attributes:
                key, _, option = attribute.strip().partition("=")
                options[key.lower()] = option.strip()
            expired = False
            if "max-age" in options:
                expired = options["max-age"].lstrip("-").isdigit() and int(options["max-age"]) <= 0
            elif "expires" in options:
                with contextlib.suppress(TypeError, ValueError):
                    expired = email.utils.parsedate_to_datetime(options["expires"]).timestamp() <= time.time()
            if expired:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage | None
    body: bytes
    seconds: float
    error: str | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def location(self) -> str:
        return (self.headers.get("Location", "") if self.headers else "") or ""


class Recorder:
    """Every request's kind, start (seconds from t0), latency and whether it was right, from all threads."""

    def __init__(self, t0: float):
        self.t0 = t0
        self.rows: list[tuple[str, float, float, bool]] = []
        self.errors: list[str] = []

    def add(self, kind: str, started: float, seconds: float, ok: bool, problem: str = "") -> None:
        self.rows.append((kind, started - self.t0, seconds, ok))
        if not ok:
            self.errors.append(f"{kind}: {problem}"[:400])


def request(port: int, method: str, path: str, jar: CookieJar, *, form=None, headers: dict | None = None) -> Reply:
    """One request on a fresh connection (as a sync worker forces; a browser's would be new for many requests too),
    timed connect to last byte."""
    sent = {"User-Agent": "ibm-lms-quiz-bench", "Accept": "text/html,*/*"} | (headers or {})
    cookie = jar.header()
    if cookie:
        sent["Cookie"] = cookie
    body = None
    if form is not None:
        body = urlencode(form, doseq=True).encode("utf-8")
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        payload = response.read()
    except (OSError, http.client.HTTPException) as error:
        return Reply(0, None, b"", time.perf_counter() - started, f"{type(error).__name__}: {error}")
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    jar.receive(response.headers.get_all("Set-Cookie") or [])
    return Reply(response.status, response.headers, payload, seconds)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def think(rng: random.Random, mean: float) -> float:
    """A think time: lognormal with this mean (sigma 0.5)."""
    sigma = 0.5
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


# --------------------------------------------------------------------------- answers


def fields_of(response: dict, prefix: str = "") -> dict[str, list[str]]:
    """The form fields the attempt page names for a response (as tests/quiz/helpers.py builds them)."""
    form: dict[str, list[str]] = {}
    for name, value in response.items():
        if name == "choice":
            form[prefix + "choice"] = [str(value).lower() if isinstance(value, bool) else value]
        elif name == "choices":
            form[prefix + "choices"] = list(value)
        elif name == "order":
            form.update({f"{prefix}position-{step}": [str(i + 1)] for i, step in enumerate(value)})
        elif name == "ratings":
            form.update({f"{prefix}rating-{k}": [str(v)] for k, v in value.items()})
        elif name in ("fields", "digits"):
            form.update({f"{prefix}{name[:-1]}-{k}": [v] for k, v in value.items()})
        elif name == "verdict" and value:
            form[prefix + "verdict"] = [value]
        elif name == "matches":
            form.update({f"{prefix}match-{k}": [v] for k, v in value.items()})
        elif name == "answer":
            form[prefix + "answer"] = [str(value)]
        elif name == "gaps":
            for gap, gap_response in value.items():
                form.update(fields_of(gap_response, f"{prefix}{gap}-"))
        elif name == "parts":
            for index, part_response in enumerate(value):
                form.update(fields_of(part_response, f"{prefix}part{index}-"))
    return form


def _ids(entries) -> list[str]:
    return [entry["id"] for entry in entries or () if isinstance(entry, dict) and "id" in entry]


def wrong_response(kind: str, spec: dict, right: dict, rng: random.Random) -> dict:
    """A valid answer of the question's type that is not (wholly) the right one."""
    out = dict(right)
    if kind in ("single_choice", "dilemma", "mrz_spot"):
        others = [i for i in _ids(spec.get("options") or spec.get("specimens")) if i != right.get("choice")]
        if others:
            out["choice"] = rng.choice(others)
    elif kind == "true_false":
        out["choice"] = not right["choice"]
    elif kind == "multiple_response":
        chosen = list(right["choices"])
        others = [i for i in _ids(spec.get("options")) if i not in chosen]
        if others and (len(chosen) < 2 or rng.random() < 0.5):
            chosen.append(rng.choice(others))
        else:
            chosen.pop(rng.randrange(len(chosen)))
        out["choices"] = chosen
    elif kind in ("numeric", "short_answer"):
        answer = str(right.get("answer", ""))
        try:
            out["answer"] = str(int(float(answer)) + rng.choice((3, 7, 11, 100)))
        except ValueError:
            out["answer"] = rng.choice(("not sure", "I do not know", "inspection"))
    elif kind == "matching":
        keys = list(right["matches"])
        values = [right["matches"][k] for k in keys]
        if len(values) > 1:
            i = rng.randrange(len(values) - 1)
            values[i], values[i + 1] = values[i + 1], values[i]
        out["matches"] = dict(zip(keys, values, strict=True))
    elif kind == "ordering":
        order = list(right["order"])
        if len(order) > 1:
            i = rng.randrange(len(order) - 1)
            order[i], order[i + 1] = order[i + 1], order[i]
        out["order"] = order
    elif kind == "risk_rating":
        ratings = dict(right["ratings"])
        key = rng.choice(list(ratings))
        ratings[key] = ratings[key] - 1 if ratings[key] > 1 else ratings[key] + 1
        out["ratings"] = ratings
    elif kind == "mrz_check" and right.get("verdict"):
        out["verdict"] = "valid" if right["verdict"] == "invalid" else "invalid"
    elif kind == "cloze":
        gaps = dict(right["gaps"])
        for name in rng.sample(list(gaps), max(1, len(gaps) // 2)):
            gap = spec["gaps"][name]
            gaps[name] = wrong_response(gap["type"], gap["spec"], gaps[name], rng)
        out["gaps"] = gaps
    elif kind == "scenario":
        parts = list(right["parts"])
        for index in rng.sample(range(len(parts)), max(1, len(parts) // 2)):
            part = spec["parts"][index]
            parts[index] = wrong_response(part["type"], part["spec"], parts[index], rng)
        out["parts"] = parts
    return out


@dataclass
class Save:
    slot: int
    form: list[tuple[str, str]]
    expected: dict | None  # what the server must keep (the tool's own reading of the form)
    score: float


def planned_save(item, slot: int, response: dict) -> Save:
    from ibm_lms.items.service import InvalidResponse, read_partial, score

    fields = fields_of(response)
    try:
        kept, _ = read_partial(item, fields)
    except InvalidResponse:
        kept = None
    if kept is None:
        return None
    pairs = [(f"q{slot}-{name}", value) for name, values in fields.items() for value in values]
    pairs.append((f"q{slot}-present", "1"))
    return Save(slot, pairs, json.loads(json.dumps(kept)), score(item, kept).scaled)


def plan_answers(items: dict, layout: list[dict], rng: random.Random, ability: float, change_share: float) -> list:
    """The saves one trainee sends, in order: each question answered in page order; a share of them answered
    again later (changed mind), the later save being the one that must stay."""
    from ibm_lms.items.service import correct_response

    timeline: list[tuple[float, int, Save]] = []
    for slot, entry in enumerate(layout):
        item = items[entry["version_id"]]
        right = correct_response(item)

        def answer(correct: bool, item=item, right=right, slot=slot) -> Save:
            response = right if correct else wrong_response(item.type, item.spec, right, rng)
            return planned_save(item, slot, response) or planned_save(item, slot, right)

        if rng.random() < change_share:
            timeline.append((slot, 0, answer(rng.random() < ability / 2)))
            # Changed later: after the first answer, on the way through the rest of the paper.
            timeline.append((rng.uniform(slot + 0.5, len(layout)), 1, answer(rng.random() < ability)))
        else:
            timeline.append((slot, 0, answer(rng.random() < ability)))
    return [save for _, _, save in sorted(timeline, key=lambda entry: entry[:2])]


# --------------------------------------------------------------------------- one trainee


@dataclass
class Trainee:
    index: int
    subject: str
    locale: str
    offset: float
    seed: int
    jar: CookieJar = field(default_factory=lambda: CookieJar({PROBE_COOKIE: "1"}))
    attempt_id: int | None = None
    csrf: str = ""
    saves: list = field(default_factory=list)
    sent: list = field(default_factory=list)  # (sequence, Save) in the order sent
    submitted_at: float | None = None
    failed: str | None = None


class ExamContext:
    def __init__(self, port: int, platform, course: str, items: dict, layout_of, recorder: Recorder, think_mean: float,
                 change_share: float, floor_beside: float = 0.0):
        self.port, self.platform, self.course, self.items, self.layout_of = port, platform, course, items, layout_of
        self.recorder, self.think_mean, self.change_share = recorder, think_mean, change_share
        self.floor_beside = floor_beside  # share of autosaves also sent to the floor, in the same workers
        self.quiz_path = f"/courses/{course}/quizzes/{QUIZ_KEY}"
        self.target = f"http://{HOST}:{port}{self.quiz_path}"
        self.stop = threading.Event()


def _step(ctx: ExamContext, trainee: Trainee, kind: str, method: str, path: str, check, **kwargs) -> Reply:
    reply = request(ctx.port, method, path, trainee.jar, **kwargs)
    problem = reply.error or check(reply)
    ctx.recorder.add(kind, time.perf_counter() - reply.seconds, reply.seconds, not problem,
                     f"{method} {path}: {problem}; status {reply.status}; {reply.text[:200]!r}" if problem else "")
    if problem:
        raise BenchError(f"{kind}: {problem}")
    return reply


def sit_exam(ctx: ExamContext, trainee: Trainee, t0: float) -> None:
    """One trainee's whole visit; any unexpected answer stops the trainee (and fails the run)."""
    from ibm_lms.demo.platform import LEARNER, DemoUser

    rng = random.Random(trainee.seed)
    # Its own stream: mirroring saves to the floor leaves the trainee's answers and think times as they were.
    beside = random.Random(trainee.seed ^ 0xF100)
    ability = rng.uniform(0.35, 0.95)
    user = DemoUser(trainee.subject, "Trainee", f"No. {trainee.index}", f"{trainee.subject}@bench.invalid", (LEARNER,))
    sim, auth_url = ctx.platform.sim, ctx.platform.auth_login_url

    def pause(seconds: float) -> None:
        if ctx.stop.wait(seconds):
            raise BenchError("stopped")

    try:
        pause(max(0.0, t0 + trainee.offset - time.perf_counter()))
        params = sim.login_parameters(target_link_uri=ctx.target, login_hint=trainee.subject)
        reply = _step(ctx, trainee, "login", "GET", "/lti/login?" + urlencode(params),
                      lambda r: None if r.status == 302 and r.location().startswith(auth_url + "?")
                      else "expected 302 to the platform")
        query = dict(parse_qsl(urlsplit(reply.location()).query))
        claims = sim.launch_claims(nonce=query["nonce"], target_link_uri=ctx.target, user=user, locale=trainee.locale,
                                   resource_link={"id": LINK_ID, "title": "Final exam (40 questions)"})
        claims.update(ctx.platform.services.claims(LINK_ID))
        _step(ctx, trainee, "launch", "POST", "/lti/launch", lambda r: None if r.status == 303 and urlsplit(
            r.location()).path == ctx.quiz_path else "expected 303 to the quiz",
            form={"id_token": sim.sign(claims), "state": query["state"]})
        if SESSION_COOKIE not in trainee.jar.cookies:
            raise BenchError("the launch set no session cookie")
        pause(think(rng, ctx.think_mean / 2))
        reply = _step(ctx, trainee, "quiz page", "GET", ctx.quiz_path,
                      lambda r: None if r.status == 200 and CSRF.search(r.text) and f"{ctx.quiz_path}/attempts" in r.text
                      else "no start form")
        reply = _step(ctx, trainee, "start", "POST", ctx.quiz_path + "/attempts",
                      lambda r: None if r.status == 303 and re.fullmatch(r"/quiz/attempts/\d+", urlsplit(
                          r.location()).path) else "expected 303 to the attempt",
                      form={"csrf_token": CSRF.search(reply.text).group(1)})
        trainee.attempt_id = int(urlsplit(reply.location()).path.rsplit("/", 1)[1])
        reply = _step(ctx, trainee, "attempt page", "GET", f"/quiz/attempts/{trainee.attempt_id}",
                      lambda r: None if r.status == 200 and 'id="attempt-form"' in r.text and
                      f'data-slot="{QUIZ_QUESTIONS - 1}"' in r.text else "no attempt form with 40 questions")
        trainee.csrf = CSRF.search(reply.text).group(1)
        layout = ctx.layout_of(trainee.attempt_id)
        trainee.saves = plan_answers(ctx.items, layout, rng, ability, ctx.change_share)
        save_path = f"/quiz/attempts/{trainee.attempt_id}/save"
        for sequence, save in enumerate(trainee.saves, start=1):
            pause(think(rng, ctx.think_mean))

            def saved(r: Reply, slot=save.slot) -> str | None:
                if r.status != 200:
                    return "expected 200"
                try:
                    answer = json.loads(r.body)
                except ValueError:
                    return "not JSON"
                return None if answer == {"saved": [slot]} else f"saved {answer}, expected slot {slot}"

            form = [("csrf_token", trainee.csrf), *save.form, ("sequence", str(sequence))]
            headers = {"Accept": "application/json", "X-CSRFToken": trainee.csrf}
            _step(ctx, trainee, "autosave", "POST", save_path, saved, form=form, headers=headers)
            trainee.sent.append((sequence, save))
            if ctx.floor_beside and beside.random() < ctx.floor_beside:
                _step(ctx, trainee, "floor", "POST", f"/floor/attempts/{trainee.attempt_id}/save", saved, form=form,
                      headers=headers)
        pause(think(rng, ctx.think_mean))
        review = f"/quiz/attempts/{trainee.attempt_id}/review"
        _step(ctx, trainee, "submit", "POST", f"/quiz/attempts/{trainee.attempt_id}/submit",
              lambda r: None if r.status == 303 and urlsplit(r.location()).path == review else "expected 303 to the review",
              form={"csrf_token": trainee.csrf})
        trainee.submitted_at = time.perf_counter() - t0
        _step(ctx, trainee, "review page", "GET", review,
              lambda r: None if r.status == 200 and "<h1>" in r.text else "no review page")
    except BenchError as error:
        trainee.failed = str(error)
    except Exception as error:  # a bug of the driver must fail the run, not hang it
        trainee.failed = f"{type(error).__name__}: {error}"
        ctx.recorder.errors.append(f"driver: {trainee.failed}")


def run_threads(target, trainees: list, deadline: float, ctx) -> None:
    threads = [threading.Thread(target=target, args=(t,), daemon=True) for t in trainees]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        ctx.stop.set()
        for thread in threads:
            thread.join(REQUEST_TIMEOUT + 5)
        raise BenchError("the trainees did not finish within the time limit")


# --------------------------------------------------------------------------- the references


def bare_app():
    """(a) A bare Flask endpoint: `gunicorn 'quiz:bare_app()'`."""
    from flask import Flask

    app = Flask("bare")

    @app.post("/bare/save")
    def save():
        return '{"saved":[0]}', 200, {"Content-Type": "application/json"}

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app


FLOOR_TABLE = ("CREATE TABLE IF NOT EXISTS bench_floor_answers (attempt_id integer NOT NULL, slot integer NOT NULL, "
               "user_id integer NOT NULL, response json NOT NULL, sequence integer NOT NULL, saved_at timestamp NOT NULL, "
               "PRIMARY KEY (attempt_id, slot))")
FLOOR_UPSERT = ("INSERT INTO bench_floor_answers (attempt_id, slot, user_id, response, sequence, saved_at) "
                "VALUES (:attempt_id, :slot, :user_id, :response, :sequence, now()) "
                "ON CONFLICT (attempt_id, slot) DO UPDATE SET response = excluded.response, "
                "sequence = excluded.sequence, saved_at = excluded.saved_at "
                "WHERE bench_floor_answers.sequence <= excluded.sequence")


def floor_app():
    """(b) The floor of an autosave on the tool's stack: `gunicorn 'quiz:floor_app()'`.

    The identity from the tool's own session (its SessionTransport, secret key and cookie), the answer
    fields of the form, one upsert keyed by (attempt id, slot) in its own transaction, a small JSON.
    """
    from flask import Flask, abort, jsonify, request, session
    from sqlalchemy import create_engine, text

    from ibm_lms import config
    from ibm_lms.tenancy.session_transport import SessionTransport

    settings = config.build({"SECRET_KEY": os.environ["IBM_LMS_SECRET_KEY"]})
    app = Flask("floor")
    app.config.update({k: settings[k] for k in ("SECRET_KEY", "SESSION_COOKIE_NAME", "PERMANENT_SESSION_LIFETIME",
                                                "SESSION_COOKIE_SECURE", "SESSION_COOKIE_SAMESITE",
                                                "SESSION_COOKIE_HTTPONLY", "SESSION_REFRESH_EACH_REQUEST",
                                                "MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE")})
    app.session_interface = SessionTransport(app)
    # The tool's URL handling and engine options (pool: SQLAlchemy's QueuePool, as Flask-SQLAlchemy makes it).
    engine = create_engine(settings["SQLALCHEMY_DATABASE_URI"], **settings["SQLALCHEMY_ENGINE_OPTIONS"])
    upsert = text(FLOOR_UPSERT)
    field_name = re.compile(r"q(\d{1,3})-(.+)")

    @app.post("/floor/attempts/<int:attempt_id>/save")
    def save(attempt_id: int):
        identity = session.get("identity")
        if not isinstance(identity, dict):
            abort(401)
        slot, response = None, {}
        for name in request.form:
            found = field_name.fullmatch(name)
            if found and found.group(2) != "present":
                slot = int(found.group(1))
                response[found.group(2)] = request.form.getlist(name)
        sequence = request.form.get("sequence", "0")
        if slot is None or not sequence.isdigit():
            abort(400)
        with engine.begin() as connection:
            connection.execute(upsert, {"attempt_id": attempt_id, "slot": slot, "user_id": int(identity["user_id"]),
                                        "response": json.dumps(response), "sequence": int(sequence)})
        return jsonify({"saved": [slot]})

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app


def exam_with_floor():
    """The tool with the floor's endpoint beside it in the same workers: `gunicorn 'quiz:exam_with_floor()'`.

    A save sent to /floor/… then waits behind the same starts, attempt pages and submissions, at the same
    moments, as the autosaves around it: the two differ only in what the request itself does."""
    from ibm_lms.wsgi import app as tool

    floor = floor_app()

    def app(environ, start_response):
        target = floor if environ.get("PATH_INFO", "").startswith("/floor/") else tool
        return target(environ, start_response)

    return app


def replay(ctx: ExamContext, kind: str, trainee: Trainee, t0: float, count: int, scale: float) -> None:
    """One client of a reference: the trainee's own first `count` saves, the same think times, to bare or floor."""
    rng = random.Random(trainee.seed ^ 0x5EED)
    try:
        if ctx.stop.wait(max(0.0, t0 + trainee.offset * scale - time.perf_counter())):
            return
        for sequence, save in trainee.sent[:count]:
            if ctx.stop.wait(think(rng, ctx.think_mean)):
                return
            path = "/bare/save" if kind == "bare" else f"/floor/attempts/{trainee.attempt_id}/save"
            _step(ctx, trainee, kind, "POST", path,
                  lambda r, slot=save.slot: None if r.status == 200 and (kind == "bare" or json.loads(r.body) == {
                      "saved": [slot]}) else "expected 200 and the slot saved",
                  form=[("csrf_token", trainee.csrf), *save.form, ("sequence", str(sequence))],
                  headers={"Accept": "application/json", "X-CSRFToken": trainee.csrf})
    except BenchError as error:
        trainee.failed = str(error)
    except Exception as error:
        trainee.failed = f"{type(error).__name__}: {error}"
        ctx.recorder.errors.append(f"driver: {trainee.failed}")


# --------------------------------------------------------------------------- the profiled tool (when the goal is missed)

PROFILE_PARTS = [
    ("the session opened (SessionTransport.open_session)", "ibm_lms.tenancy.session_transport",
     "SessionTransport.open_session"),
    ("the CSRF check (CSRFProtect.protect)", "flask_wtf.csrf", "CSRFProtect.protect"),
    ("the identity from the session (tenancy.require_identity)", "ibm_lms.tenancy.service", "require_identity"),
    ("the form read (views._forms)", "ibm_lms.quiz.views", "_forms"),
    ("the locale (flask_babel.get_locale)", "ibm_lms.quiz.views", "get_locale"),
    ("service.save (the door, all below)", "ibm_lms.quiz.service", "save"),
    ("  save_target: SELECT the attempt's status, deadline and layout", "ibm_lms.quiz.attempts", "save_target"),
    ("  attempts.save (reading, then the row written)", "ibm_lms.quiz.attempts", "save"),
    ("    item_of: the question version (memo, read once a process)", "ibm_lms.quiz.versions", "item_of"),
    ("    read_partial (the answer read strictly)", "ibm_lms.quiz.attempts", "read_partial"),
    ("    upsert_if_newer: INSERT … ON CONFLICT DO UPDATE WHERE newer", "ibm_lms.quiz.attempts", "upsert_if_newer"),
    ("  Session.commit (COMMIT)", "sqlalchemy.orm.session", "Session.commit"),
    ("jsonify", "ibm_lms.quiz.views", "jsonify"),
    ("the session saved (save_session)", "ibm_lms.tenancy.session_transport", "SessionTransport.save_session"),
    ("SQL: psycopg Cursor.execute (every statement)", "psycopg", "Cursor.execute"),
    ("SQL: connection checkout from the pool", "sqlalchemy.pool.base", "_ConnectionFairy._checkout"),
]
_PROFILE: dict = {}


def profiled_tool():
    """The tool for `gunicorn 'quiz:profiled_tool()'`: autosaves timed part by part (CPU and wall) in every
    worker; the first worker to start also runs cProfile around every autosave. Dumped at the worker's exit
    (the gunicorn hook) into BENCH_PROFILE_DIR."""
    import cProfile
    import importlib

    import ibm_lms
    from ibm_lms.wsgi import app as inner

    out = Path(os.environ["BENCH_PROFILE_DIR"])
    try:
        os.close(os.open(out / "profiling.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        profiler = cProfile.Profile()
    except FileExistsError:
        profiler = None
    state = {"on": False, "parts": collections.defaultdict(lambda: [0, 0.0, 0.0]), "whole": [0, 0.0, 0.0],
             "profiler": profiler, "module": ibm_lms.__file__, "missing": []}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            if not state["on"]:
                return function(*args, **kwargs)
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                part = state["parts"][name]
                part[0] += 1
                part[1] += time.process_time() - cpu
                part[2] += time.perf_counter() - wall
        return wrapper

    for name, module_name, attribute in PROFILE_PARTS:
        owner = importlib.import_module(module_name)
        *path, last = attribute.split(".")
        for step in path:
            owner = getattr(owner, step, None)
        if owner is None or not callable(getattr(owner, last, None)):
            state["missing"].append(f"{module_name}:{attribute}")
            continue
        setattr(owner, last, timed(name, getattr(owner, last)))

    def app(environ, start_response):
        measured = environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").endswith("/save")
        if not measured:
            return inner(environ, start_response)
        state["on"] = True
        cpu, wall = time.process_time(), time.perf_counter()
        if state["profiler"] is not None:
            state["profiler"].enable()
        try:
            result = inner(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        finally:
            if state["profiler"] is not None:
                state["profiler"].disable()
            state["on"] = False
            whole = state["whole"]
            whole[0] += 1
            whole[1] += time.process_time() - cpu
            whole[2] += time.perf_counter() - wall
        return [body]

    _PROFILE.update(state=state, out=out)
    return app


def dump_profile() -> None:
    """Called by the gunicorn hook as the worker exits: the parts' totals, and the profile if this worker ran one."""
    if not _PROFILE:
        return
    state, out = _PROFILE["state"], _PROFILE["out"]
    pid = os.getpid()
    if state["profiler"] is not None:
        state["profiler"].dump_stats(str(out / f"autosave-{pid}.prof"))
    (out / f"parts-{pid}.json").write_text(json.dumps({
        "whole": state["whole"], "parts": dict(state["parts"]), "profiled": state["profiler"] is not None,
        "module": state["module"], "missing": state["missing"]}))


def _where(filename: str) -> str:
    path = filename.replace("\\", "/")
    if filename == "~":
        return "built-in (C)"
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/ibm_lms/" in path:
        parts = path.split("/ibm_lms/", 1)[1].split("/")
        return "ibm_lms/" + "/".join(parts[:2]).removesuffix(".py")
    if "/lib/python3" in path:
        return "stdlib"
    return path


def _label(key: tuple) -> str:
    filename, line, function = key
    if filename == "~":
        return function
    path = filename.replace("\\", "/")
    for marker in ("/site-packages/", "/ibm_lms/"):
        if marker in path:
            path = ("ibm_lms/" if marker == "/ibm_lms/" else "") + path.split(marker, 1)[1]
            break
    else:
        if "/lib/python3" in path:
            path = "stdlib/" + path.split("/lib/python3", 1)[1].split("/", 2)[-1]
    return f"{path}:{line}({function})"


def analyse_profile(path: str, requests: int, top: int = 20) -> dict:
    """ms per autosave: the heaviest functions by inclusive time (ibm_lms, SQLAlchemy, psycopg, Flask) and own time
    by package."""
    import pstats

    stats = pstats.Stats(path).stats
    per = 1000.0 / max(1, requests)
    interesting = re.compile(r"ibm_lms/|sqlalchemy/|psycopg/|flask|werkzeug/|jinja2/|itsdangerous/|json/")
    cumulative = sorted(((ct * per, nc / max(1, requests), _label(k)) for k, (_, nc, _, ct, _) in stats.items()
                         if interesting.search(k[0].replace("\\", "/"))), reverse=True)[:top]
    packages = collections.Counter()
    for key, (_, _, tt, _, callers) in stats.items():
        if key[0] == "~" and callers:
            weights = {caller: value[3] for caller, value in callers.items()}
            whole = sum(weights.values()) or 1.0
            for caller, weight in weights.items():
                packages[_where(caller[0])] += tt * weight / whole
        else:
            packages[_where(key[0])] += tt
    return {"cumulative": cumulative, "packages": sorted(((t * per, n) for n, t in packages.items()), reverse=True)[:12]}


# --------------------------------------------------------------------------- part 1 and 2: the exam child


def summarise_requests(rows: list[tuple], records: list[tuple], kinds=KINDS) -> dict:
    """Per kind: client latency percentiles (ms), count, errors, server CPU and in-worker wall (ms per request)."""
    by_kind = collections.defaultdict(list)
    failed = collections.Counter()
    first, last = {}, {}
    for kind, started, seconds, ok in rows:
        by_kind[kind].append(seconds * 1000)
        failed[kind] += not ok
        first[kind] = min(first.get(kind, started), started)
        last[kind] = max(last.get(kind, started), started + seconds)
    server = collections.defaultdict(list)
    for method, path, cpu, wall, _status in records:
        server[kind_of(method, path.split("?", 1)[0])].append((cpu * 1000, wall * 1000))
    out = {}
    for kind in kinds:
        values = by_kind.get(kind)
        if not values:
            continue
        span = last[kind] - first[kind]
        cpus = [c for c, _ in server.get(kind, ())]
        walls = [w for _, w in server.get(kind, ())]
        out[kind] = {"count": len(values), "errors": failed[kind], "p50": percentile(values, 0.5),
                     "p95": percentile(values, 0.95), "p99": percentile(values, 0.99), "max": max(values),
                     "mean": statistics.fmean(values), "span": span, "rate": len(values) / span if span > 0 else None,
                     "server_count": len(cpus), "cpu_ms": statistics.fmean(cpus) if cpus else None,
                     "server_wall_p50": percentile(walls, 0.5), "server_wall_p95": percentile(walls, 0.95)}
    return out


def peak_rate(rows: list[tuple], kind: str, window: float = 10.0) -> float | None:
    starts = sorted(started for k, started, _, _ in rows if k == kind)
    if not starts:
        return None
    best, j = 0, 0
    for i, start in enumerate(starts):
        while starts[j] < start - window:
            j += 1
        best = max(best, i - j + 1)
    return best / window


def verify_exam(url: str, trainees: list[Trainee], items: dict) -> dict:
    """From the database: every attempt finished, holding exactly the last save of each slot, scored as the
    tool's own scoring scores those answers; one outbox row per attempt."""
    from ibm_lms.quiz.grading import attempt_score

    problems: list[str] = []
    ids = [t.attempt_id for t in trainees if t.attempt_id is not None]
    with connect(url) as connection:
        attempts = {row[0]: row for row in connection.execute(
            "SELECT id, status, score, question_scores, layout FROM quiz_attempts WHERE id = ANY(%s)", (ids,))}
        answers = collections.defaultdict(dict)
        for attempt_id, slot, response, sequence, score in connection.execute(
                "SELECT attempt_id, slot, response, sequence, score FROM quiz_attempt_answers WHERE attempt_id = ANY(%s)",
                (ids,)):
            answers[attempt_id][slot] = (response, sequence, score)
        outbox = connection.execute(
            "SELECT count(*) FROM lti_grade_outbox g JOIN users u ON u.id = g.user_id WHERE u.subject = ANY(%s)",
            ([t.subject for t in trainees],)).fetchone()[0]
    checked_answers = 0
    for trainee in trainees:
        if trainee.attempt_id is None or trainee.submitted_at is None:
            problems.append(f"{trainee.subject}: did not finish ({trainee.failed})")
            continue
        attempt = attempts.get(trainee.attempt_id)
        if attempt is None:
            problems.append(f"attempt {trainee.attempt_id}: not in the database")
            continue
        _, status, score, question_scores, layout = attempt
        last = {}
        for sequence, save in trainee.sent:
            last[save.slot] = (sequence, save)
        held = answers.get(trainee.attempt_id, {})
        if set(held) != set(last):
            problems.append(f"attempt {trainee.attempt_id}: slots held {sorted(set(held) ^ set(last))} differ from "
                            "the slots saved")
        for slot, (sequence, save) in last.items():
            response, kept_sequence, _ = held.get(slot, (None, None, None))
            checked_answers += 1
            if response != save.expected or kept_sequence != sequence:
                problems.append(f"attempt {trainee.attempt_id} slot {slot}: holds {response} (sequence {kept_sequence}),"
                                f" the last save sent {save.expected} (sequence {sequence})")
        if status != "finished":
            problems.append(f"attempt {trainee.attempt_id}: {status}")
            continue
        scores = [last[slot][1].score if slot in last else 0.0 for slot in range(len(layout))]
        expected = attempt_score(scores)
        if score is None or abs(score - expected) > 1e-6:
            problems.append(f"attempt {trainee.attempt_id}: score {score}, the answers give {expected}")
        wanted = {entry["key"]: scores[slot] for slot, entry in enumerate(layout)}
        if set(question_scores or {}) != set(wanted) or any(
                abs(question_scores[k] - v) > 1e-6 for k, v in wanted.items()):
            problems.append(f"attempt {trainee.attempt_id}: question scores differ from what the answers give")
    finished = sum(1 for t in trainees if t.submitted_at is not None)
    if outbox != finished:
        problems.append(f"{outbox} grade outbox rows for {finished} submitted attempts")
    return {"attempts": len(ids), "finished": finished, "answers_checked": checked_answers, "outbox": outbox,
            "problems": problems[:50], "problem_count": len(problems)}


def verify_floor(url: str, trainees: list[Trainee], count: int) -> list[str]:
    problems = []
    with connect(url) as connection:
        rows = {(a, s): (r, q) for a, s, r, q in connection.execute(
            "SELECT attempt_id, slot, response, sequence FROM bench_floor_answers")}
    expected = {}
    for trainee in trainees:
        for sequence, save in trainee.sent[:count]:
            response = collections.defaultdict(list)
            for name, value in save.form:
                found = re.fullmatch(r"q\d+-(.+)", name)
                if found and found.group(1) != "present":
                    response[found.group(1)].append(value)
            expected[(trainee.attempt_id, save.slot)] = (dict(response), sequence)
    if set(rows) != set(expected):
        problems.append(f"floor: {len(rows)} rows, {len(expected)} (attempt, slot) pairs saved")
    for key, value in expected.items():
        if rows.get(key) != value:
            problems.append(f"floor {key}: holds {rows.get(key)}, last sent {value}")
            break
    return problems


def child_exam(spec: dict) -> dict:
    import logging

    from ibm_lms.items.service import Item
    from tests.platform import PlatformServer

    check_tree(spec["tree"])
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the platform's request log
    tree, workdir = Path(spec["tree"]), Path(spec["workdir"])
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    database = DATABASES["exam"]
    url = fresh_database(database)
    courses = course_copy(tree, spec["course"], workdir)
    secret = secrets.token_urlsafe(48)
    env = tool_env(tree, workdir, url, base_url, courses, secret)
    log = spec_log(spec)
    log(f"[exam] schema and content load into {database}")
    ibm_lms(env, tree, "db", "upgrade")
    loaded = ibm_lms(env, tree, "content", "load", "--dir", str(courses)).strip()
    platform = PlatformServer(tool_base_url=base_url).start()
    out: dict = {"rounds": [], "content_load": loaded.splitlines()[-1:] or [""], "base_url": base_url}
    try:
        platform.services.graded_link(LINK_ID, label="Final exam (40 questions)")
        add_tenant(env, tree, "ge-academy")
        ibm_lms(env, tree, "platform", "add", "--tenant", "ge-academy", "--issuer", platform.base_url,
                "--client-id", platform.sim.client_id, "--deployment-id", platform.sim.deployment_id,
                "--auth-login-url", platform.auth_login_url, "--auth-token-url", platform.token_url,
                "--keyset-url", platform.keyset_url)
        with connect(url) as connection:
            items = {vid: Item.from_json(item) for vid, item in connection.execute(
                "SELECT v.id, v.item FROM quiz_question_versions v JOIN quiz_questions q ON q.id = v.question_id "
                "WHERE q.course_slug = %s", (spec["course"],))}
            connection.execute(FLOOR_TABLE)
        out["bank"] = len(items)
        out["types"] = dict(collections.Counter(item.type for item in items.values()).most_common())
        layouts = connect(url)
        layout_lock = threading.Lock()

        def layout_of(attempt_id: int) -> list:
            with layout_lock:
                return layouts.execute("SELECT layout FROM quiz_attempts WHERE id = %s", (attempt_id,)).fetchone()[0]

        try:
            for round_no in range(spec["rounds"]):
                out["rounds"].append(exam_round(spec, round_no, tree, workdir, env, port, url, database, platform,
                                                items, layout_of, log))
            if spec["profile"] == "always" or (spec["profile"] == "auto" and goal_missed(out["rounds"])):
                out["profile"] = profile_round(spec, tree, workdir, env, port, url, database, platform, items,
                                               layout_of, log)
        finally:
            layouts.close()
    finally:
        platform.stop()
    return out


def goal_missed(rounds: list[dict]) -> bool:
    autosave = med([r["exam"]["kinds"]["autosave"]["p95"] for r in rounds if "autosave" in r["exam"]["kinds"]])
    floor = med([r["floor"]["kinds"]["floor"]["p95"] for r in rounds if "floor" in r.get("floor", {}).get("kinds", {})])
    return autosave is None or floor is None or autosave > GOAL_RATIO * floor


def make_trainees(spec: dict, round_no: int, count: int, ramp: float) -> list[Trainee]:
    rng = random.Random(spec["seed"] * 1000 + round_no)
    locales = ["ru"] * 5 + ["en"] * 3 + ["ka"] * 2
    return [Trainee(index=i, subject=f"quiz-bench-r{round_no}-{i:04d}", locale=rng.choice(locales),
                    offset=ramp * i / max(1, count) + rng.uniform(0, ramp / max(1, count)), seed=rng.getrandbits(48))
            for i in range(count)]


def exam_phase(spec, name, tree, workdir, env, port, url, database, platform, items, layout_of, trainees,
               app=None, extra_env=None, threads=None, floor_beside=None) -> dict:
    floor_beside = spec["floor_beside"] if floor_beside is None else floor_beside
    if app is None:
        app = "quiz:exam_with_floor()" if floor_beside else "ibm_lms.wsgi:app"
    server = Gunicorn(app, port, env | (extra_env or {}), tree, workdir, name,
                      threads=spec["threads"] if threads is None else threads).start()
    recorder = Recorder(time.perf_counter())
    ctx = ExamContext(port, platform, spec["course"], items, layout_of, recorder, spec["think"], spec["change_share"],
                      floor_beside)
    watch = HostWatch(database, server.cpu).start()
    t0 = time.perf_counter()
    recorder.t0 = t0
    limit = spec["ramp"] + (QUIZ_QUESTIONS * (1 + spec["change_share"]) + 3) * spec["think"] * 4 + 600
    try:
        run_threads(lambda t: sit_exam(ctx, t, t0), trainees, time.monotonic() + limit, ctx)
        host = watch.finish()
    finally:
        records = server.stop()
    submits = [t.submitted_at for t in trainees if t.submitted_at is not None]
    return {"kinds": summarise_requests(recorder.rows, records), "host": host, "errors": recorder.errors[:30],
            "error_count": len(recorder.errors) + sum(1 for t in trainees if t.failed),
            "failed_trainees": [f"{t.subject}: {t.failed}" for t in trainees if t.failed][:10],
            "submit_window": (max(submits) - min(submits)) if submits else None,
            "first_submit": min(submits, default=None), "last_submit": max(submits, default=None),
            "wall": time.perf_counter() - t0, "requests": len(recorder.rows), "server_records": len(records),
            "peak_autosave_rate": peak_rate(recorder.rows, "autosave"),
            "saves_per_trainee": statistics.fmean(len(t.sent) for t in trainees) if trainees else 0,
            "changed_answers": sum(len(t.sent) - len({s.slot for _, s in t.sent}) for t in trainees),
            "gunicorn_log": server.log_tail(10)}


def reference_phase(spec, kind, tree, workdir, env, port, url, database, platform, items, trainees, round_no) -> dict:
    app = "quiz:bare_app()" if kind == "bare" else "quiz:floor_app()"
    if kind == "floor":
        with connect(url) as connection:
            connection.execute("TRUNCATE bench_floor_answers")
    server = Gunicorn(app, port, env, tree, workdir, f"{kind}-{round_no}", threads=spec["threads"]).start()
    recorder = Recorder(time.perf_counter())
    ctx = ExamContext(port, platform, spec["course"], items, None, recorder, spec["think"], spec["change_share"])
    count = spec["ref_saves"]
    done = [t for t in trainees if t.sent]
    mean_saves = statistics.fmean(len(t.sent) for t in done) if done else 1
    scale = min(1.0, count / mean_saves)
    watch = HostWatch(database, server.cpu).start()
    t0 = time.perf_counter()
    recorder.t0 = t0
    for trainee in done:
        trainee.failed = None
    try:
        run_threads(lambda t: replay(ctx, kind, t, t0, count, scale), done,
                    time.monotonic() + spec["ramp"] + count * spec["think"] * 4 + 600, ctx)
        host = watch.finish()
    finally:
        records = server.stop()
    result = {"kinds": summarise_requests(recorder.rows, records, (kind,)), "host": host,
              "errors": recorder.errors[:20], "error_count": len(recorder.errors) + sum(1 for t in done if t.failed),
              "wall": time.perf_counter() - t0, "clients": len(done), "per_client": count, "ramp": spec["ramp"] * scale,
              "peak_rate": peak_rate(recorder.rows, kind)}
    if kind == "floor":
        result["problems"] = verify_floor(url, done, count)
        result["error_count"] += len(result["problems"])
    return result


def exam_round(spec, round_no, tree, workdir, env, port, url, database, platform, items, layout_of, log) -> dict:
    trainees = make_trainees(spec, round_no, spec["trainees"], spec["ramp"])
    log(f"[exam] round {round_no + 1}/{spec['rounds']}: {len(trainees)} trainees, ramp {spec['ramp']:.0f} s, "
        f"think {spec['think']:.1f} s")
    exam = exam_phase(spec, f"exam-{round_no}", tree, workdir, env, port, url, database, platform, items, layout_of,
                      trainees)
    exam["verify"] = verify_exam(url, trainees, items)
    auto = exam["kinds"].get("autosave", {})
    log(f"[exam] round {round_no + 1}: {exam['requests']} requests in {exam['wall']:.0f} s, "
        f"{exam['error_count']} errors, {exam['verify']['problem_count']} verification problems; autosave p50 "
        f"{fmt(auto.get('p50'))} p95 {fmt(auto.get('p95'))} ms; load {exam['host']['load_mean']:.2f}")
    result = {"exam": exam}
    order = ("bare", "floor") if round_no % 2 == 0 else ("floor", "bare")
    for kind in order:
        result[kind] = reference_phase(spec, kind, tree, workdir, env, port, url, database, platform, items, trainees,
                                       round_no)
        found = result[kind]["kinds"].get(kind, {})
        log(f"[exam] round {round_no + 1} {kind}: {found.get('count', 0)} requests, {result[kind]['error_count']} "
            f"errors, p50 {fmt(found.get('p50'))} p95 {fmt(found.get('p95'))} ms")
    return result


def profile_round(spec, tree, workdir, env, port, url, database, platform, items, layout_of, log) -> dict:
    count = min(spec["trainees"], PROFILE_TRAINEES)
    log(f"[exam] profile: {count} trainees against profiled_tool() (parts timed in both workers, cProfile in one)")
    folder = workdir / "profile"
    folder.mkdir()
    trainees = make_trainees(spec, 90, count, spec["ramp"] * count / spec["trainees"])
    phase = exam_phase(spec, "profile", tree, workdir, env, port, url, database, platform, items, layout_of, trainees,
                       app="quiz:profiled_tool()", extra_env={"BENCH_PROFILE_DIR": str(folder)}, threads=1,
                       floor_beside=0.0)
    workers = [json.loads(p.read_text()) for p in sorted(folder.glob("parts-*.json"))]
    for worker in workers:
        if not Path(worker["module"]).resolve().is_relative_to(tree):
            raise BenchError(f"the profiled worker imported ibm_lms from {worker['module']}")
    saves = sum(w["whole"][0] for w in workers)
    parts: dict[str, list] = collections.defaultdict(lambda: [0, 0.0, 0.0])
    for worker in workers:
        for name, (calls, cpu, wall) in worker["parts"].items():
            parts[name][0] += calls
            parts[name][1] += cpu
            parts[name][2] += wall
    whole = [sum(w["whole"][i] for w in workers) for i in range(3)]
    profiled = next((w for w in workers if w["profiled"]), None)
    prof = next(iter(folder.glob("autosave-*.prof")), None)
    analysis = analyse_profile(str(prof), profiled["whole"][0]) if prof and profiled else None
    per = 1000.0 / max(1, saves)
    return {"trainees": count, "saves": saves, "whole_cpu_ms": whole[1] * per, "whole_wall_ms": whole[2] * per,
            "parts": [(name, parts[name][0] / max(1, saves), parts[name][1] * per, parts[name][2] * per)
                      for name, _, _ in PROFILE_PARTS if name in parts],
            "missing": workers[0]["missing"] if workers else [],
            "profiled_saves": profiled["whole"][0] if profiled else 0,
            "profiled_wall_ms": profiled["whole"][2] * 1000 / max(1, profiled["whole"][0]) if profiled else None,
            "profile": analysis, "profile_path": str(prof) if prof else None,
            "autosave": phase["kinds"].get("autosave"), "errors": phase["error_count"]}


# --------------------------------------------------------------------------- part 3: item statistics


def _users_and_attempts(connection, start_user: int, count: int, tenants: list[dict], quiz: dict, bank: list[dict],
                        rng) -> tuple[int, int]:
    """COPY `count` finished attempts (and their users) into the database; returns (users, attempts) written."""
    import numpy as np

    from ibm_lms.quiz.grading import attempt_score

    weights = np.array([t["share"] for t in tenants])
    n_users = round(count / 1.25)
    second = count - n_users  # this many users have a second attempt
    tenant_of = rng.choice(len(tenants), size=n_users, p=weights / weights.sum())
    ability = rng.normal(0.3, 1.0, size=n_users)
    locale = np.where(rng.random(n_users) < 0.6, "ru", "en")
    now = dt.datetime(2026, 11, 1, 8, 0)
    with connection.cursor() as cursor:
        start_id = cursor.execute("SELECT coalesce(max(id), 0) FROM users").fetchone()[0] + 1
        with cursor.copy("COPY users (id, tenant_id, issuer, subject, given_name, family_name, name, email, "
                         "preferred_locale, created_at, last_seen_at) FROM STDIN") as copy:
            for i in range(n_users):
                t = tenants[tenant_of[i]]
                number = start_user + i
                copy.write_row((start_id + i, t["id"], t["issuer"], f"stats-{number}", "Trainee", f"No. {number}",
                                f"Trainee No. {number}", None, str(locale[i]), now, now))
        cursor.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))")
        twice = set(rng.choice(n_users, size=second, replace=False).tolist())
        difficulty = np.array([q["b"] for q in bank])
        discrimination = np.array([q["a"] for q in bank])
        with cursor.copy("COPY quiz_attempts (tenant_id, user_id, quiz_id, quiz_version_id, number, status, open, "
                         "layout, started_at, deadline_at, finished_at, score, question_scores, context_id, "
                         "resource_link_id, locale) FROM STDIN") as copy:
            for i in range(n_users):
                for number in (1, 2) if i in twice else (1,):
                    drawn = rng.choice(len(bank), size=QUIZ_QUESTIONS, replace=False)
                    theta = ability[i] + (0.3 if number == 2 else 0.0)
                    p = 1 / (1 + np.exp(-discrimination[drawn] * (theta - difficulty[drawn])))
                    scores = {}
                    for j, prob in zip(drawn, p, strict=True):
                        parts = bank[j]["parts"]
                        value = rng.binomial(parts, prob) / parts if parts > 1 else float(rng.random() < prob)
                        scores[bank[j]["key"]] = round(float(value), 4)
                    layout = [{"key": bank[j]["key"], "version_id": bank[j]["version_id"],
                               "choices": list(rng.permutation(bank[j]["choices"])) if bank[j]["choices"] else []}
                              for j in drawn]
                    started = now + dt.timedelta(minutes=int(rng.integers(0, 60 * 24 * 90)))
                    finished = started + dt.timedelta(minutes=int(rng.integers(12, 45)))
                    copy.write_row((tenants[tenant_of[i]]["id"], start_id + i, quiz["id"], quiz["version_id"], number,
                                    "finished", None, json.dumps(layout), started, started + dt.timedelta(minutes=45),
                                    finished, attempt_score(list(scores.values())), json.dumps(scores), None, None,
                                    str(locale[i])))
    return n_users, count


def child_statistics(spec: dict) -> dict:
    import numpy as np

    from ibm_lms.items.service import Item

    check_tree(spec["tree"])
    tree, workdir = Path(spec["tree"]), Path(spec["workdir"])
    log = spec_log(spec)
    url = fresh_database(DATABASES["stats"])
    courses = course_copy(tree, spec["course"], workdir)
    env = tool_env(tree, workdir, url, "http://127.0.0.1:9", courses, secrets.token_urlsafe(48))
    log(f"[statistics] schema, content load and three academies in {DATABASES['stats']}")
    ibm_lms(env, tree, "db", "upgrade")
    ibm_lms(env, tree, "content", "load", "--dir", str(courses))
    for slug, _, _ in TENANTS:
        host = f"moodle.{slug}.example"
        add_tenant(env, tree, slug)
        ibm_lms(env, tree, "platform", "add", "--tenant", slug, "--issuer", f"https://{host}", "--client-id", "c1",
                "--deployment-id", "1", "--auth-login-url", f"https://{host}/mod/lti/auth.php",
                "--auth-token-url", f"https://{host}/mod/lti/token.php",
                "--keyset-url", f"https://{host}/mod/lti/certs.php")
    rng = np.random.default_rng(spec["seed"])
    with connect(url) as connection:
        rows = {slug: (tid, issuer) for slug, tid, issuer in connection.execute(
            "SELECT t.slug, t.id, i.issuer FROM tenants t JOIN lti_issuers i ON i.tenant_id = t.id")}
        tenants = [{"slug": s, "name": n, "share": share, "id": rows[s][0], "issuer": rows[s][1]}
                   for s, n, share in TENANTS]
        quiz_id, version_id = connection.execute(
            "SELECT id, current_version_id FROM quizzes WHERE course_slug = %s AND key = %s AND bank = 0",
            (spec["course"], QUIZ_KEY)).fetchone()
        bank = []
        for key, vid, item in connection.execute(
                "SELECT q.key, v.id, v.item FROM quiz_questions q JOIN quiz_question_versions v "
                "ON v.id = q.current_version_id WHERE q.course_slug = %s AND q.bank = 0 ORDER BY q.key",
                (spec["course"],)):
            parsed = Item.from_json(item)
            options = parsed.spec.get("options") or parsed.spec.get("specimens") or ()
            parts = {"multiple_response": 4, "matching": 4, "cloze": 4, "ordering": 5, "scenario": 3,
                     "risk_rating": 3, "mrz_check": 5}.get(parsed.type, 1)
            a = float(rng.uniform(0.4, 2.2)) if rng.random() > 0.06 else float(rng.uniform(-0.8, -0.1))
            bank.append({"key": key, "version_id": vid, "choices": [o["id"] for o in options], "parts": parts,
                         "a": a, "b": float(rng.normal(-0.3, 1.0))})
        tenant_names = {t["id"]: t["name"] for t in tenants}
        for t in tenants:
            connection.execute("UPDATE tenants SET name = %s WHERE id = %s", (t["name"], t["id"]))
    quiz = {"id": quiz_id, "version_id": version_id}
    out = {"sizes": [], "bank": len(bank), "tenants": [{k: t[k] for k in ("slug", "name", "share")} for t in tenants],
           "tenant_names": {str(k): v for k, v in tenant_names.items()}}
    inserted, users = 0, 0
    for size in spec["sizes"]:
        started = time.perf_counter()
        with connect(url) as connection:
            connection.autocommit = False
            made_users, _ = _users_and_attempts(connection, users, size - inserted, tenants, quiz, bank, rng)
            connection.commit()
            connection.autocommit = True
            connection.execute("VACUUM ANALYZE quiz_attempts")
            connection.execute("VACUUM ANALYZE users")
            counts = dict(connection.execute(
                "SELECT tenant_id, count(*) FROM quiz_attempts WHERE quiz_id = %s AND status = 'finished' "
                "GROUP BY tenant_id", (quiz_id,)).fetchall())
            table_bytes = connection.execute("SELECT pg_total_relation_size('quiz_attempts')").fetchone()[0]
        users += made_users
        inserted = size
        insert_seconds = time.perf_counter() - started
        largest = tenants[0]
        log(f"[statistics] {size} attempts ({users} users) inserted in {insert_seconds:.1f} s; measuring")
        measured = run_child("statmeasure", {"tree": spec["tree"], "url": url, "tenant_id": largest["id"],
                                             "course": spec["course"], "rounds": spec["stat_rounds"],
                                             "workdir": str(workdir), "expected_own": counts.get(largest["id"], 0),
                                             "bank": len(bank)}, Path(spec["tree"]), workdir, f"statmeasure-{size}")
        measured.update(size=size, users=users, insert_seconds=insert_seconds, per_tenant=counts,
                        table_bytes=table_bytes, own=counts.get(largest["id"], 0))
        out["sizes"].append(measured)
        log(f"[statistics] {size}: first {measured['first']:.2f} s, median {measured['median']:.2f} s, RSS peak "
            f"+{measured['rss_peak_delta'] / 2**20:.0f} MiB, tracemalloc peak {measured['traced_peak'] / 2**20:.0f} MiB")
    return out


def child_statmeasure(spec: dict) -> dict:
    """In a fresh process: quiz_statistics timed, its RSS high-water mark and tracemalloc peak, its parts."""
    import gc
    import tracemalloc

    from sqlalchemy import text

    check_tree(spec["tree"])
    from ibm_lms import create_app
    from ibm_lms.extensions import db
    from ibm_lms.quiz import analysis, service
    from ibm_lms.quiz import statistics as quiz_statistics_module
    from ibm_lms.tenancy.data import Identity, Role

    instance = Path(spec["workdir"]) / "instance-stats"
    instance.mkdir(exist_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": spec["url"], "SECRET_KEY": secrets.token_urlsafe(48),
                      "INSTANCE_PATH": str(instance), "BASE_URL": "http://127.0.0.1:9"})
    identity = Identity(user_id=0, tenant_id=spec["tenant_id"], role=Role.INSTRUCTOR, context_id=None,
                        display_name="bench")
    out: dict = {"times": []}
    with app.app_context():
        # The app's own start-up reads (tenants, course catalogue) and the connection made, outside the figures.
        from ibm_lms.tenancy import service as tenancy

        tenancy.list_tenants()
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        gc.collect()
        baseline = proc_status("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")
        started = time.perf_counter()
        report = service.quiz_statistics(identity, spec["course"], QUIZ_KEY)
        out["first"] = time.perf_counter() - started
        out["rss_peak"] = proc_status("VmHWM")
        out["rss_baseline"] = baseline
        out["rss_peak_delta"] = out["rss_peak"] - baseline
        out["attempts_reported"] = report.quiz.attempts
        out["questions_reported"] = len(report.questions)
        out["countries"] = sorted(report.by_country)
        out["languages"] = sorted(report.by_language)
        out["flags"] = sum(1 for f in report.flags.values() if f)
        out["alpha"] = report.quiz.alpha
        del report
        db.session.remove()
        gc.collect()
        for _ in range(spec["rounds"]):
            started = time.perf_counter()
            service.quiz_statistics(identity, spec["course"], QUIZ_KEY)
            out["times"].append(time.perf_counter() - started)
            db.session.remove()
            gc.collect()
        out["median"] = statistics.median(out["times"]) if out["times"] else out["first"]
        tracemalloc.start()
        tracemalloc.reset_peak()
        service.quiz_statistics(identity, spec["course"], QUIZ_KEY)
        out["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        db.session.remove()
        gc.collect()
        # Where the time goes: the analysis' steps timed around each call (one more call).
        spent = collections.defaultdict(float)

        def timed(name, owner, attribute):
            function = getattr(owner, attribute)

            def wrapper(*args, **kwargs):
                began = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    spent[name] += time.perf_counter() - began
            setattr(owner, attribute, wrapper)

        timed("read: one SELECT of every finished attempt, into one matrix for every academy", analysis, "_read")
        timed("Moodle statistics (numpy)", quiz_statistics_module, "question_statistics")
        timed("by country and language (slices of that matrix)", analysis, "_by_group")
        started = time.perf_counter()
        service.quiz_statistics(identity, spec["course"], QUIZ_KEY)
        out["parts_total"] = time.perf_counter() - started
        out["parts"] = dict(spent)
        db.engine.dispose()
    if out["attempts_reported"] != spec["expected_own"] or out["questions_reported"] != spec["bank"]:
        out["problem"] = (f"the report counts {out['attempts_reported']} attempts and {out['questions_reported']} "
                          f"questions; the academy has {spec['expected_own']} and the bank {spec['bank']}")
    return out


# --------------------------------------------------------------------------- part 4: GIFT import


def gift_escape(text: str) -> str:
    return re.sub(r"([~=#{}:\\])", r"\\\1", text)


def make_gift(count: int, outcomes: list[str], seed: int) -> tuple[str, collections.Counter]:
    """A realistic GIFT export: categories, names, ids and tags, feedback per answer and general feedback."""
    rng = random.Random(seed)
    words = ("passport", "visa", "checkpoint", "officer", "trainer", "session", "outcome", "assessment", "feedback",
             "document", "risk", "profile", "vehicle", "cargo", "declaration", "border", "crossing", "seal", "stamp",
             "interview", "evidence", "procedure", "learner", "module", "scenario", "indicator", "report", "shift")

    def sentence(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n)).capitalize()

    kinds = collections.Counter()
    lines = ["// Generated by bench/quiz.py: a bank as Moodle exports it to GIFT.", ""]
    for q in range(count):
        if q % 100 == 0:
            lines += [f"$CATEGORY: $course$/top/Trainer methodology/Unit {q // 100 + 1:02d}", ""]
        kind = rng.choices(("multichoice", "multianswer", "truefalse", "shortanswer", "numerical", "matching"),
                           (40, 10, 20, 12, 10, 8))[0]
        kinds[kind] += 1
        tags = f" [tag:{rng.choice(outcomes)}]" if rng.random() < 0.33 else ""
        lines.append(f"// question: {q + 1}  name: Q{q + 1:04d}")
        level = rng.choice(("easy", "medium", "hard"))
        lines.append(f"// [id:BENCH-{q + 1:04d}] [tag:bench]{tags} [tag:difficulty:{level}]")
        name = f"::Q{q + 1:04d} {gift_escape(sentence(3))}::"
        stem = gift_escape(sentence(rng.randint(10, 24))) + "?"
        general = f"\t####{gift_escape(sentence(rng.randint(8, 16)))}."
        if kind == "multichoice":
            right = rng.randrange(4)
            answers = [f"\t{'=' if i == right else '~'}{gift_escape(sentence(rng.randint(2, 6)))}"
                       f"#{gift_escape(sentence(rng.randint(4, 10)))}." for i in range(4)]
            lines += [name + stem + "{", *answers, general, "}"]
        elif kind == "multianswer":
            answers = [f"\t~%50%{gift_escape(sentence(3))}#{gift_escape(sentence(5))}.",
                       f"\t~%50%{gift_escape(sentence(3))}#{gift_escape(sentence(5))}.",
                       f"\t~%-100%{gift_escape(sentence(3))}#{gift_escape(sentence(5))}.",
                       f"\t~%-100%{gift_escape(sentence(3))}#{gift_escape(sentence(5))}."]
            rng.shuffle(answers)
            lines += [name + stem + "{", *answers, general, "}"]
        elif kind == "truefalse":
            lines.append(name + stem + "{" + rng.choice(("T", "F")) + f"#{gift_escape(sentence(6))}."
                         f"#{gift_escape(sentence(6))}.####{gift_escape(sentence(8))}." + "}")
        elif kind == "shortanswer":
            lines += [name + stem + "{", f"\t={rng.choice(words)}", f"\t=%50%{rng.choice(words)}"
                      f"#{gift_escape(sentence(5))}.", general, "}"]
        elif kind == "numerical":
            value = rng.randint(1, 500)
            lines += [name + stem + "{#", f"\t={value}:0#{gift_escape(sentence(4))}.",
                      f"\t=%50%{value}:{rng.randint(1, 5)}#{gift_escape(sentence(4))}.", general, "}"]
        else:
            pairs = [f"\t={gift_escape(sentence(2))} {i} -> {gift_escape(sentence(3))} {i}" for i in range(4)]
            lines += [name + stem + "{", *pairs, general, "}"]
        lines.append("")
    return "\n".join(lines), kinds


def count_bank(url: str, tenant_slug: str, course: str) -> dict:
    with connect(url) as connection:
        tenant = connection.execute("SELECT id FROM tenants WHERE slug = %s", (tenant_slug,)).fetchone()[0]
        questions, imported = connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE origin = 'imported') FROM quiz_questions "
            "WHERE bank = %s AND course_slug = %s", (tenant, course)).fetchone()
        versions = connection.execute(
            "SELECT count(*) FROM quiz_question_versions v JOIN quiz_questions q ON q.id = v.question_id "
            "WHERE q.bank = %s AND q.course_slug = %s", (tenant, course)).fetchone()[0]
    return {"questions": questions, "imported": imported, "versions": versions}


def child_import(spec: dict) -> dict:
    check_tree(spec["tree"])
    tree, workdir = Path(spec["tree"]), Path(spec["workdir"])
    log = spec_log(spec)
    courses = course_copy(tree, spec["course"], workdir)
    course_toml = tomllib.loads((courses / spec["course"] / "course.toml").read_text(encoding="utf-8"))
    outcomes = [o["code"] for o in course_toml.get("outcomes", ())]
    text, kinds = make_gift(spec["questions"], outcomes, spec["seed"])
    gift = workdir / "bank.gift"
    gift.write_text(text, encoding="utf-8")
    template = fresh_database(DATABASES["template"])
    env = tool_env(tree, workdir, template, "http://127.0.0.1:9", courses, secrets.token_urlsafe(48))
    log(f"[import] {spec['questions']} questions, {gift.stat().st_size / 1024:.0f} KiB of GIFT; preparing the database")
    ibm_lms(env, tree, "db", "upgrade")
    ibm_lms(env, tree, "content", "load", "--dir", str(courses))
    add_tenant(env, tree, "ge-academy")
    ibm_lms(env, tree, "platform", "add", "--tenant", "ge-academy", "--issuer", "https://moodle.ge-academy.example",
            "--client-id", "c1", "--deployment-id", "1",
            "--auth-login-url", "https://moodle.ge-academy.example/mod/lti/auth.php",
            "--auth-token-url", "https://moodle.ge-academy.example/mod/lti/token.php",
            "--keyset-url", "https://moodle.ge-academy.example/mod/lti/certs.php")
    help_text = ibm_lms(env, tree, "quiz", "--help")
    if "import" not in help_text:
        raise BenchError("this commit has no `ibm-lms quiz import` command")
    before = count_bank(template, "ge-academy", spec["course"])
    out = {"questions": spec["questions"], "bytes": gift.stat().st_size, "kinds": dict(kinds), "cli": [], "service": [],
           "before": before, "problems": []}
    outcome = outcomes[0]
    for round_no in range(spec["rounds"]):
        url = fresh_database(DATABASES["import"], template=DATABASES["template"])
        run_env = env | {"IBM_LMS_DATABASE_URL": url}
        started = time.perf_counter()
        said = ibm_lms(run_env, tree, "quiz", "import", str(gift), "--format", "gift", "--tenant", "ge-academy",
                       "--course", spec["course"], "--outcome", outcome, "--locale", "en", "--category", "imported",
                       timeout=1800)
        wall = time.perf_counter() - started
        counted = count_bank(url, "ge-academy", spec["course"])
        if f"{spec['questions']} questions imported" not in said or counted["imported"] - before["imported"] != spec[
                "questions"]:
            out["problems"].append(f"cli round {round_no + 1}: said {said.strip()[-200:]!r}, rows {counted}")
        out["cli"].append({"wall": wall, "rows": counted})
        log(f"[import] round {round_no + 1}: ibm-lms quiz import {wall:.2f} s wall, {counted}")
        url = fresh_database(DATABASES["import"], template=DATABASES["template"])
        measured = run_child("importcall", {"tree": spec["tree"], "url": url, "file": str(gift),
                                            "course": spec["course"], "outcome": outcome, "workdir": str(workdir)},
                             tree, workdir, f"importcall-{round_no}")
        counted = count_bank(url, "ge-academy", spec["course"])
        measured["rows"] = counted
        if measured["imported"] != spec["questions"] or counted["imported"] - before["imported"] != spec["questions"]:
            out["problems"].append(f"service round {round_no + 1}: imported {measured['imported']}, rows {counted}")
        out["service"].append(measured)
        log(f"[import] round {round_no + 1}: service.import_file {measured['seconds']:.2f} s (parse alone "
            f"{measured['parse_seconds']:.2f} s)")
    drop_database(DATABASES["import"])
    return out


def child_importcall(spec: dict) -> dict:
    check_tree(spec["tree"])
    from ibm_lms import create_app
    from ibm_lms.extensions import db
    from ibm_lms.quiz import exchange, service
    from ibm_lms.tenancy import service as tenancy
    from ibm_lms.tenancy.data import Identity, Role

    instance = Path(spec["workdir"]) / "instance-import"
    instance.mkdir(exist_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": spec["url"], "SECRET_KEY": secrets.token_urlsafe(48),
                      "INSTANCE_PATH": str(instance), "BASE_URL": "http://127.0.0.1:9"})
    data = Path(spec["file"]).read_bytes()
    with app.app_context():
        # As the command: the academy's administrator acting from the command line.
        identity = Identity(user_id=0, tenant_id=tenancy.get_tenant("ge-academy").id, role=Role.ADMINISTRATOR,
                            context_id=None, display_name="command line")
        started = time.perf_counter()
        questions, problems, _ = exchange.read(data, "gift", locale="en", category="imported")
        parse_seconds = time.perf_counter() - started
        db.session.remove()
        started = time.perf_counter()
        report = service.import_file(identity, spec["course"], data, "gift", locale="en", category="imported",
                                     outcome=spec["outcome"])
        seconds = time.perf_counter() - started
        db.engine.dispose()
    return {"seconds": seconds, "parse_seconds": parse_seconds, "parsed": len(questions),
            "parse_problems": len(problems), "imported": report.imported, "notes": len(report.notes)}


# --------------------------------------------------------------------------- child processes

CHILDREN = {"exam": child_exam, "statistics": child_statistics, "statmeasure": child_statmeasure,
            "import": child_import, "importcall": child_importcall}
_RUNNING: list[subprocess.Popen] = []


def spec_log(spec: dict):
    def log(message: str) -> None:
        print(f"{dt.datetime.now(dt.UTC).strftime('%H:%M:%S')} {message}", flush=True)
    return log


def run_child(name: str, spec: dict, tree: Path, workdir: Path, label: str) -> dict:
    """Runs a part in a fresh process (the export's ibm_lms first on its path); its result comes back as JSON."""
    result = workdir / f"{label}.json"
    spec_path = workdir / f"{label}.spec.json"
    spec_path.write_text(json.dumps(spec | {"result": str(result)}))
    popen = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", name, "--spec", str(spec_path)],
                             env=base_env(tree, BENCH), cwd=tree)
    _RUNNING.append(popen)
    try:
        code = popen.wait(CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        popen.terminate()
        popen.wait(60)
        raise BenchError(f"the {name} part did not finish within {CHILD_TIMEOUT:.0f}s") from None
    finally:
        _RUNNING.remove(popen)
    if code != 0 or not result.exists():
        raise BenchError(f"the {name} part failed (exit {code})")
    found = json.loads(result.read_text())
    if "error" in found:
        raise BenchError(f"the {name} part failed: {found['error']}")
    return found


def child_main(name: str, spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    sys.path.insert(0, spec["tree"])
    try:
        result = CHILDREN[name](spec)
    except BenchError as error:
        result = {"error": str(error)}
    Path(spec["result"]).write_text(json.dumps(result, default=str))
    return 0


def stop_leftovers(workdir: Path) -> None:
    """gunicorn masters a killed child left behind (their pids, as the child wrote them): SIGTERM, then SIGKILL."""
    import psutil

    for pids in workdir.rglob("pids.txt"):
        for line in pids.read_text().split():
            with contextlib.suppress(psutil.Error, ValueError):
                proc = psutil.Process(int(line))
                if "gunicorn" not in " ".join(proc.cmdline()):
                    continue
                children = proc.children(recursive=True)
                proc.terminate()
                _, alive = psutil.wait_procs([proc, *children], timeout=20)
                for leftover in alive:
                    leftover.kill()


# --------------------------------------------------------------------------- the report


def machine() -> dict:
    import psutil

    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("flask", "sqlalchemy", "psycopg", "gunicorn", "numpy", "werkzeug"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[package] = version(package)
    try:
        with connect(f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/postgres") as connection:
            postgres = connection.execute("SHOW server_version").fetchone()[0]
    except Exception:
        postgres = "?"
    return {"host": pyplatform.node(), "cores": os.cpu_count(), "cpu": cpu,
            "memory": f"{psutil.virtual_memory().total / 2**30:.0f} GiB", "os": pyplatform.platform(),
            "python": pyplatform.python_version(), "postgres": postgres, "versions": versions}


def _ms(value) -> str:
    return fmt(value, 1)


def exam_section(part: dict, args) -> tuple[list[str], dict]:
    rounds = part["rounds"]
    status: dict = {}
    lines = []
    exam0 = rounds[0]["exam"]
    lines += [f"{args.trainees} trainees per round, {len(rounds)} round(s); bank of {part['bank']} questions "
              f"({', '.join(f'{k} {v}' for k, v in part['types'].items())}); 40 drawn per attempt. Think time "
              f"lognormal, mean {args.think:g} s per answer (real pace ≈ 60 s: compressed {60 / args.think:.0f}×, so "
              f"the server saw what ≈ {args.trainees * 60 / args.think:,.0f} trainees at a real pace bring); starts "
              f"spread over {args.ramp:g} s; gunicorn with 2 workers, "
              f"{f'{args.threads} threads each (gthread)' if args.threads > 1 else 'sync'}; "
              f"{exam0['saves_per_trainee']:.1f} saves per trainee on average "
              f"({args.change_share:.0%} of answers changed later: a second save of the slot).", ""]
    # Correctness
    rows = []
    for i, r in enumerate(rounds, 1):
        v = r["exam"]["verify"]
        rows.append([i, r["exam"]["requests"], r["exam"]["error_count"], v["finished"], v["answers_checked"],
                     v["problem_count"], v["outbox"], fmt(r["exam"]["submit_window"], 0),
                     r["bare"]["error_count"], r["floor"]["error_count"]])
    lines += ["### Correctness", "", *md_table(
        ["round", "exam requests", "error responses", "attempts finished", "answers checked (last save per slot)",
         "lost or wrong answers/scores", "grade outbox rows", "submits spread (s)", "bare errors", "floor errors"],
        rows), ""]
    problems = [p for r in rounds for p in r["exam"]["verify"]["problems"] + r["exam"]["errors"]][:10]
    if problems:
        lines += ["First problems:", "", *(f"- `{p}`" for p in problems), ""]
    status["correct"] = all(r["exam"]["error_count"] == 0 and r["exam"]["verify"]["problem_count"] == 0 and
                            r["bare"]["error_count"] == 0 and r["floor"]["error_count"] == 0 for r in rounds)
    status["window"] = max((r["exam"]["submit_window"] or 0) for r in rounds)
    # Latency per request type
    kinds = [k for k in KINDS if k not in ("bare", "floor")]
    rows = []
    for kind in kinds:
        found = [r["exam"]["kinds"][kind] for r in rounds if kind in r["exam"]["kinds"]]
        if not found:
            continue
        rows.append([kind, sum(f["count"] for f in found) // len(found), _ms(med([f["p50"] for f in found])),
                     _ms(med([f["p95"] for f in found])), spread([f["p95"] for f in found]),
                     _ms(med([f["p99"] for f in found])), _ms(med([f["max"] for f in found])),
                     fmt(med([f["rate"] for f in found]), 1), fmt(med([f["cpu_ms"] for f in found]), 2),
                     _ms(med([f["server_wall_p50"] for f in found])), _ms(med([f["server_wall_p95"] for f in found]))])
    for kind in ("bare", "floor"):
        found = [r[kind]["kinds"][kind] for r in rounds if kind in r[kind]["kinds"]]
        if found:
            rows.append([f"**{kind}** (reference)", sum(f["count"] for f in found) // len(found),
                         _ms(med([f["p50"] for f in found])), _ms(med([f["p95"] for f in found])),
                         spread([f["p95"] for f in found]), _ms(med([f["p99"] for f in found])),
                         _ms(med([f["max"] for f in found])), fmt(med([f["rate"] for f in found]), 1),
                         fmt(med([f["cpu_ms"] for f in found]), 2), _ms(med([f["server_wall_p50"] for f in found])),
                         _ms(med([f["server_wall_p95"] for f in found]))])
    lines += ["### Latency per request type (client: connect to last byte), medians over rounds", "", *md_table(
        ["request", "count/round", "p50 ms", "p95 ms", "p95 spread", "p99 ms", "max ms", "req/s (over its span)",
         "server CPU ms/req", "in-worker wall p50 ms", "in-worker wall p95 ms"], rows), "",
              "Server CPU: user+system of the thread serving the request between gunicorn's pre_request and "
              "post_request hooks (the response written included); in-worker wall: the same interval by the clock "
              "(with several threads per worker it includes waits for the others' turns). The difference "
              "between client latency and in-worker wall is the wait in the listen queue and the connection.", ""]
    # Host and phases
    rows = []
    for i, r in enumerate(rounds, 1):
        for name in ("exam", "bare", "floor"):
            h = r[name]["host"]
            requests = r[name].get("requests") or sum(k["count"] for k in r[name]["kinds"].values())
            rows.append([i, name, fmt(r[name]["wall"], 0), requests, fmt(requests / r[name]["wall"], 1),
                         fmt(r[name].get("peak_autosave_rate") or r[name].get("peak_rate"), 1),
                         fmt(h["server_cpu"] / max(1, requests) * 1000, 2), fmt(h["pg_cpu"] / max(1, requests) * 1000, 2),
                         fmt(h["load_mean"], 2), fmt(h["host_cores"], 2), fmt(h["ours_cores"], 2),
                         fmt(h["others_cores"], 2)])
    lines += ["### Phases: throughput, CPU, host load", "", *md_table(
        ["round", "phase", "wall s", "requests", "req/s", "peak saves/s (10 s window)", "gunicorn CPU ms/req",
         "PostgreSQL CPU ms/req", "load avg (median)", "host busy cores", "ours (gunicorn+PG+driver)",
         "others"], rows), "",
              f"The host has {rounds[0]['exam']['host']['cores']} cores. \"others\" is host busy CPU minus this "
              "benchmark's processes (gunicorn, the PostgreSQL backends of its database, the driver): other work "
              "that overlapped.", ""]
    # Goal
    auto = med([r["exam"]["kinds"]["autosave"]["p95"] for r in rounds if "autosave" in r["exam"]["kinds"]])
    floor = med([r["floor"]["kinds"]["floor"]["p95"] for r in rounds if "floor" in r["floor"]["kinds"]])
    bare = med([r["bare"]["kinds"]["bare"]["p95"] for r in rounds if "bare" in r["bare"]["kinds"]])
    per_round = [(ratio(r["exam"]["kinds"].get("autosave", {}).get("p95"),
                        r["floor"]["kinds"].get("floor", {}).get("p95")),
                  ratio(r["exam"]["kinds"].get("autosave", {}).get("p95"), r["bare"]["kinds"].get("bare", {}).get("p95")))
                 for r in rounds]
    a50 = med([r["exam"]["kinds"]["autosave"]["p50"] for r in rounds if "autosave" in r["exam"]["kinds"]])
    f50 = med([r["floor"]["kinds"]["floor"]["p50"] for r in rounds if "floor" in r["floor"]["kinds"]])
    b50 = med([r["bare"]["kinds"]["bare"]["p50"] for r in rounds if "bare" in r["bare"]["kinds"]])
    acpu = med([r["exam"]["kinds"]["autosave"]["cpu_ms"] for r in rounds if "autosave" in r["exam"]["kinds"]])
    fcpu = med([r["floor"]["kinds"]["floor"]["cpu_ms"] for r in rounds if "floor" in r["floor"]["kinds"]])
    bcpu = med([r["bare"]["kinds"]["bare"]["cpu_ms"] for r in rounds if "bare" in r["bare"]["kinds"]])
    beside = med([r["exam"]["kinds"]["floor"]["p95"] for r in rounds if "floor" in r["exam"]["kinds"]])
    beside50 = med([r["exam"]["kinds"]["floor"]["p50"] for r in rounds if "floor" in r["exam"]["kinds"]])
    beside_cpu = med([r["exam"]["kinds"]["floor"]["cpu_ms"] for r in rounds if "floor" in r["exam"]["kinds"]])
    beside_rounds = [ratio(r["exam"]["kinds"].get("autosave", {}).get("p95"),
                           r["exam"]["kinds"].get("floor", {}).get("p95")) for r in rounds]
    status["autosave_floor"] = ratio(auto, floor)
    status["autosave_floor_beside"] = ratio(auto, beside)
    status["autosave_bare"] = ratio(auto, bare)
    # p95 is a property of the load: the goal compares the autosave with the floor under the same load (the floor
    # beside the exam) when the run measured it, else with the floor replayed alone.
    status["goal_beside"] = status["autosave_floor_beside"] is not None
    status["goal_ratio"] = status["autosave_floor_beside"] if status["goal_beside"] else status["autosave_floor"]
    status["goal_met"] = status["goal_ratio"] is not None and status["goal_ratio"] <= GOAL_RATIO
    status.update(autosave_p95=auto, floor_p95=floor, bare_p95=bare, autosave_cpu=acpu, floor_cpu=fcpu, bare_cpu=bcpu,
                  floor_beside_p95=beside)
    lines += ["### Goal: autosave p95 at most 1.5 × the floor's p95", "", *md_table(
        ["", "autosave", "floor", "bare", "floor beside the exam", "autosave / floor", "autosave / bare",
         "autosave / floor beside the exam"],
        [["p95 ms (median of rounds)", _ms(auto), _ms(floor), _ms(bare), _ms(beside), fmt(ratio(auto, floor), 2),
          fmt(ratio(auto, bare), 2), fmt(ratio(auto, beside), 2)],
         ["p50 ms", _ms(a50), _ms(f50), _ms(b50), _ms(beside50), fmt(ratio(a50, f50), 2), fmt(ratio(a50, b50), 2),
          fmt(ratio(a50, beside50), 2)],
         ["server CPU ms/request", fmt(acpu, 2), fmt(fcpu, 2), fmt(bcpu, 2), fmt(beside_cpu, 2),
          fmt(ratio(acpu, fcpu), 2), fmt(ratio(acpu, bcpu), 2), fmt(ratio(acpu, beside_cpu), 2)],
         ["p95 ratio per round", "", "", "", "", ", ".join(fmt(a, 2) for a, _ in per_round),
          ", ".join(fmt(b, 2) for _, b in per_round), ", ".join(fmt(b, 2) for b in beside_rounds)]]), "",
              f"**{'Met' if status['goal_met'] else 'Missed'}**: autosave p95 is {fmt(status['goal_ratio'], 2)}× "
              f"the floor's {'beside the exam' if status['goal_beside'] else 'replayed alone'} (goal ≤ {GOAL_RATIO})"
              + (f"; {fmt(status['autosave_floor'], 2)}× the floor's replayed alone" if status["goal_beside"] else "")
              + f"; {fmt(status['autosave_bare'], 2)}× the bare request's. The bare request and the floor alone "
              f"ran with the same {rounds[0]['floor']['clients']} clients, each replaying its trainee's "
              f"first {rounds[0]['floor']['per_client']} saves (same form bodies, session cookies, attempt ids and "
              f"think times; starts spread over {rounds[0]['floor']['ramp']:.0f} s so the concurrency matches).", ""]
    if beside is not None:
        lines += [f"The floor beside the exam is the floor's endpoint mounted in the exam's own workers "
                  f"(`exam_with_floor()`), sent a copy of {spec_share(rounds)} of the autosaves right after each: it "
                  f"waits behind the same starts, pages and submissions at the same moments, so autosave / floor "
                  f"beside the exam ({fmt(status['autosave_floor_beside'], 2)}×) is what the save itself adds, and "
                  f"the rest of autosave / floor is the neighbours. The goal is read against it: p95 depends on the "
                  f"load, and the floor alone runs without the exam's.", ""]
    profile = part.get("profile")
    if profile:
        lines += profile_section(profile)
    return lines, status


def spec_share(rounds: list[dict]) -> str:
    sent = sum(r["exam"]["kinds"].get("floor", {}).get("count", 0) for r in rounds)
    saves = sum(r["exam"]["kinds"].get("autosave", {}).get("count", 0) for r in rounds)
    return f"{sent / saves:.0%}" if saves else "none"


def profile_section(profile: dict) -> list[str]:
    lines = ["### Where an autosave's time goes (profiled run)", "",
             f"{profile['trainees']} trainees at the same pace against `profiled_tool()`: {profile['saves']} autosaves; "
             f"in the app (Flask's WSGI call, the worker's parsing and socket excluded) "
             f"{fmt(profile['whole_cpu_ms'], 2)} ms CPU and {fmt(profile['whole_wall_ms'], 2)} ms wall per autosave. "
             "Each part timed around its call in both workers, without a profiler (calls per autosave, ms per "
             "autosave; nested parts are indented and included in their parent):", "",
             *md_table(["part", "calls/save", "CPU ms", "wall ms"],
                       [[name.replace("  ", "&nbsp;&nbsp;"), fmt(calls, 1), fmt(cpu, 2), fmt(wall, 2)]
                        for name, calls, cpu, wall in profile["parts"]]), ""]
    if profile.get("missing"):
        lines += [f"Not found to time: {', '.join(profile['missing'])}.", ""]
    analysis = profile.get("profile")
    if analysis:
        lines += [f"cProfile of one worker over {profile['profiled_saves']} autosaves "
                  f"({fmt(profile['profiled_wall_ms'], 2)} ms wall each under the profiler; cProfile inflates "
                  f"call-heavy Python code, read the shares as an order). Inclusive time, ms per autosave:", "",
                  *md_table(["ms/save", "calls/save", "function"],
                            [[fmt(t, 2), fmt(n, 1), f"`{label}`"] for t, n, label in analysis["cumulative"]]), "",
                  "Own time by package, ms per autosave: "
                  + ", ".join(f"{name} {t:.2f}" for t, name in analysis["packages"]) + ".", "",
                  f"Profile file: `{profile['profile_path']}` (removed with the temporary folder).", ""]
    return lines


def statistics_section(part: dict) -> tuple[list[str], dict]:
    sizes = part["sizes"]
    tenants = ", ".join(f"{t['name']} {t['share']:.0%}" for t in part["tenants"])
    lines = [f"One quiz (40 of {part['bank']} questions drawn per attempt), finished attempts inserted by COPY "
             f"(users in three academies: {tenants}; locales ru 60 % and en 40 %; a quarter of the users with a second "
             f"attempt; scores from a two-parameter IRT model, partial credit for multi-part types, 6 % of the "
             f"questions with negative discrimination). `quiz_statistics` called for {part['tenants'][0]['name']}, "
             f"the largest academy (its own matrix, plus every academy's attempts for the comparison by country), "
             "`which=all`, each size in a fresh process; first call, then more calls (median and spread).", ""]
    rows = []
    for s in sizes:
        matrix = s["own"] * part["bank"] * 4
        rows.append([f"{s['size']:,}", f"{s['own']:,}", fmt(s["first"], 2), fmt(s["median"], 2),
                     f"{fmt(min(s['times']), 2)}–{fmt(max(s['times']), 2)}" if s["times"] else "",
                     fmt(s["rss_peak_delta"] / 2**20, 0), fmt(s["rss_peak"] / 2**20, 0),
                     fmt(s["traced_peak"] / 2**20, 0), fmt(matrix / 2**20, 1), fmt(s["table_bytes"] / 2**20, 0)])
    lines += md_table(["attempts", "the academy's", "first call s", "median s", "spread s", "RSS peak − before MiB",
                       "RSS peak MiB", "tracemalloc peak MiB", "its float32 matrix MiB", "quiz_attempts on disk MiB"],
                      rows) + [""]
    status = {"seconds": sizes[-1]["median"] if sizes else None, "first": sizes[-1]["first"] if sizes else None}
    if len(sizes) >= 2:
        a, b = sizes[0], sizes[-1]
        span = b["size"] - a["size"]
        rss = (b["rss_peak_delta"] - a["rss_peak_delta"]) / span
        traced = (b["traced_peak"] - a["traced_peak"]) / span
        seconds = (b["median"] - a["median"]) / span * 1000
        need = part["bank"] * 4 * (1 + b["own"] / b["size"])
        status.update(rss_slope=rss, traced_slope=traced, time_slope=seconds, matrix_slope=need)
        lines += [f"Slope from {a['size']:,} to {b['size']:,} attempts: RSS peak {rss:,.0f} bytes per attempt, "
                  f"tracemalloc peak {traced:,.0f} bytes per attempt, {seconds:.3f} s per 1,000 attempts. The matrices "
                  f"the statistics need (float32: the academy's, and every academy's for the comparison by country) "
                  f"are {need:,.0f} bytes per attempt: memory grows {traced / need:.0f}× faster than they do.", ""]
    last = sizes[-1] if sizes else None
    if last:
        lines += [f"Where the time goes at {last['size']:,} attempts (one more call, {fmt(last['parts_total'], 2)} s, "
                  "parts timed around their calls):", "",
                  *md_table(["part", "s"], [[k, fmt(v, 2)] for k, v in sorted(last["parts"].items(),
                                                                               key=lambda kv: -kv[1])]),
                  "", f"Sanity: the report counts {last['attempts_reported']:,} attempts and "
                  f"{last['questions_reported']} questions; countries compared: {', '.join(last['countries'])}; "
                  f"languages: {', '.join(last['languages'])}; {last['flags']} questions flagged; alpha "
                  f"{fmt(last['alpha'], 1)} %.", ""]
    status["goal_met"] = status["seconds"] is not None and max(status["seconds"], status["first"]) < STATS_GOAL_SECONDS
    status["correct"] = not any("problem" in s for s in sizes)
    if not status["correct"]:
        lines += [f"- Problem: {s['problem']}" for s in sizes if "problem" in s] + [""]
    return lines, status


def import_section(part: dict) -> tuple[list[str], dict]:
    cli = [r["wall"] for r in part["cli"]]
    service = [r["seconds"] for r in part["service"]]
    parse = [r["parse_seconds"] for r in part["service"]]
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(part["kinds"].items(), key=lambda kv: -kv[1]))
    rows = [["`ibm-lms quiz import` (process wall, start-up included)", fmt(med(cli), 2), spread(cli)],
            ["`service.import_file` alone (parse, checks, rows, commit)", fmt(med(service), 2), spread(service)],
            ["  of which the file's parsing alone (`exchange.read`)", fmt(med(parse), 2), spread(parse)]]
    last = part["service"][-1]["rows"] if part["service"] else {}
    lines = [f"A generated GIFT file of {part['questions']:,} questions ({part['bytes'] / 1024:.0f} KiB: {kinds}; 20 "
             "categories, names, ids, tags, feedback on every answer and general feedback; a third tagged with a "
             "course outcome, the rest linked by `--outcome`) into ge-academy's bank, each round on a fresh copy "
             "(CREATE DATABASE … TEMPLATE) of a database with the schema, the course and the academy.", "",
             *md_table(["measure", "median s", "spread s"], rows), "",
             f"Rows after each import: {last.get('imported', 0) - part['before']['imported']:,} imported questions and "
             f"{last.get('versions', 0) - part['before']['versions']:,} versions added (expected {part['questions']:,} "
             "each)." + ("" if not part["problems"] else " Problems: " + "; ".join(part["problems"])), ""]
    return lines, {"cli": med(cli), "service": med(service), "parse": med(parse), "correct": not part["problems"]}


def write_results(path: Path | None, args, info: dict, parts: dict, started: dt.datetime, command: str,
                  load: tuple) -> tuple[str, bool]:
    lines = ["# Quiz benchmark: an exam under load, item statistics, GIFT import", "",
             f"One run of `bench/quiz.py` on {started.strftime('%Y-%m-%d %H:%M UTC')}, host `{info['host']}` "
             f"({info['cores']} cores, {info['cpu']}, {info['memory']}); load average {load[0]} at the start, "
             f"{load[1]} at the end.", "", "Commands and commits (each part measures HEAD as it was when the part "
             "started, exported with `git archive`; uncommitted changes in the checkout are not measured):", "",
             "```sh", command, "```", ""]
    for name, part in parts.items():
        commit = part.get("commit", {})
        lines.append(f"- {name}: `{commit.get('commit', '?')[:10]}` ({commit.get('subject', '?')}), "
                     f"started {part.get('started', '?')}")
    lines.append("")
    statuses = {}
    body: list[str] = []
    if "exam" in parts and "result" in parts["exam"]:
        section, statuses["exam"] = exam_section(parts["exam"]["result"], args)
        body += ["## 1–2. Exam under load, and the autosave against its references", "", *section]
    if "statistics" in parts and "result" in parts["statistics"]:
        section, statuses["statistics"] = statistics_section(parts["statistics"]["result"])
        body += ["## 3. Item statistics for a quiz with many attempts", "", *section]
    if "import" in parts and "result" in parts["import"]:
        section, statuses["import"] = import_section(parts["import"]["result"])
        body += ["## 4. Import of a GIFT file", "", *section]
    failed = [name for name, part in parts.items() if "error" in part]
    summary = ["## Summary", ""]
    if "exam" in statuses:
        s = statuses["exam"]
        verdict = ("no error response, no lost answer, every score right" if s["correct"]
                   else "**correctness failures** (see below)")
        summary.append(f"- Exam: {verdict}; "
                       f"submits within {s['window']:.0f} s of each other. Autosave p95 {_ms(s['autosave_p95'])} ms, "
                       + (f"floor beside the exam {_ms(s['floor_beside_p95'])} ms, " if s["goal_beside"] else "")
                       + f"floor alone {_ms(s['floor_p95'])} ms, bare {_ms(s['bare_p95'])} ms: "
                       f"**{fmt(s['goal_ratio'], 2)}× the floor{' beside the exam' if s['goal_beside'] else ''}** "
                       f"(goal ≤ 1.5: **{'met' if s['goal_met'] else 'missed'}**)"
                       + (f", {fmt(s['autosave_floor'], 2)}× the floor alone" if s["goal_beside"] else "")
                       + f", {fmt(s['autosave_bare'], 2)}× the bare request. "
                       f"Server CPU per request: autosave {fmt(s['autosave_cpu'], 2)} ms, floor "
                       f"{fmt(s['floor_cpu'], 2)} ms, bare {fmt(s['bare_cpu'], 2)} ms.")
    if "statistics" in statuses:
        s = statuses["statistics"]
        summary.append(f"- Item statistics at {parts['statistics']['result']['sizes'][-1]['size']:,} attempts: "
                       f"{fmt(s['first'], 2)} s first call, {fmt(s['seconds'], 2)} s median (goal < 5 s: "
                       f"**{'met' if s['goal_met'] else 'missed'}**)"
                       + (f"; memory grows {s['traced_slope']:,.0f} bytes (tracemalloc) / {s['rss_slope']:,.0f} bytes "
                          f"(RSS) per attempt against {s['matrix_slope']:,.0f} for the matrices it needs."
                          if "traced_slope" in s else "."))
    if "import" in statuses:
        s = statuses["import"]
        summary.append(f"- GIFT import of {parts['import']['result']['questions']:,} questions: "
                       f"`ibm-lms quiz import` {fmt(s['cli'], 2)} s, the service call {fmt(s['service'], 2)} s "
                       f"(parsing {fmt(s['parse'], 2)} s); rows {'right' if s['correct'] else '**wrong**'}.")
    for name in failed:
        summary.append(f"- {name}: **could not run**: {parts[name]['error'][:500]}")
    ok = not failed and all(s.get("correct", True) for s in statuses.values())
    notes = _kept_notes(path)
    lines += [*summary, "", *notes, *body, "## Machine", "",
              f"- {info['cores']} cores: {info['cpu']}, {info['memory']} RAM, {info['os']}",
              f"- Python {info['python']}, PostgreSQL {info['postgres']}; "
              + ", ".join(f"{k} {v}" for k, v in info["versions"].items()), "",
              "## Reproduce", "", "```sh", "scripts/setup bench && scripts/setup test   # gunicorn, psutil; psycopg",
              command, "```", "", "Needs PostgreSQL on 127.0.0.1:5432 (user `postgres`, trust auth); the databases "
              f"`{DB_PREFIX}_*` are made and dropped by the run. The script rewrites this file, keeping the findings "
              "between the notes markers.", ""]
    text = "\n".join(lines)
    if path is not None:
        path.write_text(text)
    return text, ok


NOTES_START = "<!-- findings: kept when bench/quiz.py rewrites this file -->"
NOTES_END = "<!-- end of findings -->"


def _kept_notes(path: Path | None) -> list[str]:
    if path is None or not path.exists():
        return []
    text = path.read_text()
    if NOTES_START in text and NOTES_END in text:
        kept = text[text.index(NOTES_START):text.index(NOTES_END) + len(NOTES_END)]
        return [*kept.splitlines(), ""]
    return []


# --------------------------------------------------------------------------- main


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # every finally runs: children stopped, databases dropped, folders removed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 50 trainees, 1 round, 10k attempts (2.5k/5k/10k), 200 GIFT questions")
    parser.add_argument("--trainees", type=int, default=None, help="simulated trainees per round (default 500)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of the exam and of the import (default 3)")
    parser.add_argument("--think", type=float, default=4.0, help="mean think time per answer, seconds (default 4)")
    parser.add_argument("--ramp", type=float, default=None, help="seconds over which trainees start (default 60)")
    parser.add_argument("--change-share", type=float, default=0.1, help="share of answers changed later (default 0.1)")
    parser.add_argument("--floor-beside", type=float, default=0.1,
                        help="share of the exam's autosaves also sent to the floor's endpoint in the same workers "
                             "(default 0.1; 0: none)")
    parser.add_argument("--ref-saves", type=int, default=20,
                        help="requests per client in each reference (default 20; the ramp shrinks in proportion)")
    parser.add_argument("--attempts", type=int, default=None, help="attempts for the statistics (default 100000)")
    parser.add_argument("--stat-rounds", type=int, default=5, help="timed calls of quiz_statistics per size (default 5)")
    parser.add_argument("--questions", type=int, default=None, help="questions in the GIFT file (default 2000)")
    parser.add_argument("--course", default="trainer-methodology", help="the course whose bank the exam draws from")
    parser.add_argument("--only", default="exam,statistics,import", help="comma-separated parts to run")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="profile the autosaves (auto: when the goal is missed)")
    parser.add_argument("--threads", type=int, default=THREADS,
                        help=f"threads per gunicorn worker (default {THREADS}, as `ibm-lms serve`; 1: sync workers)")
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--rev", default="HEAD", help="the commit measured (default HEAD, resolved as each part starts)")
    parser.add_argument("--no-write", action="store_true", help="print the results, do not write bench/QUIZ_RESULTS.md")
    parser.add_argument("--results", type=Path, default=BENCH / "QUIZ_RESULTS.md")
    parser.add_argument("--child", choices=tuple(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        signal.signal(signal.SIGTERM, _terminate)
        for key in [k for k in os.environ if k.startswith("IBM_LMS_")]:
            del os.environ[key]
        return child_main(args.child, args.spec)
    args.trainees = args.trainees or (50 if args.quick else 500)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.ramp = args.ramp if args.ramp is not None else (10.0 if args.quick else 60.0)
    args.attempts = args.attempts or (10_000 if args.quick else 100_000)
    args.questions = args.questions or (200 if args.quick else 2000)
    only = [p.strip() for p in args.only.split(",") if p.strip()]
    if not set(only) <= {"exam", "statistics", "import"}:
        parser.error("--only takes exam, statistics, import")
    if not (1 <= args.trainees <= 5000 and 1 <= args.rounds <= 20 and 0.2 <= args.think <= 120 and 0 <= args.ramp <= 3600
            and 0 <= args.change_share <= 1 and 1 <= args.ref_saves <= 200 and 1000 <= args.attempts <= 1_000_000
            and 10 <= args.questions <= 5000 and 1 <= args.stat_rounds <= 50 and 0 <= args.floor_beside <= 1):
        parser.error("a value is out of range")
    for key in [k for k in os.environ if k.startswith("IBM_LMS_")]:
        del os.environ[key]  # nothing of the caller's configuration reaches the tool
    signal.signal(signal.SIGTERM, _terminate)
    command = (".venv/bin/python bench/quiz.py" + (" --quick" if args.quick else "")
               + f" --trainees {args.trainees} --rounds {args.rounds} --think {args.think:g} --ramp {args.ramp:g}"
               + f" --ref-saves {args.ref_saves} --attempts {args.attempts} --questions {args.questions}"
               + f" --threads {args.threads} --floor-beside {args.floor_beside:g}"
               + f" --only {','.join(only)} --rev {args.rev}")
    started = dt.datetime.now(dt.UTC)
    load_start = os.getloadavg()
    info = machine()
    parts: dict = {}
    sizes = sorted({args.attempts // 4, args.attempts // 2, args.attempts})
    common = {"course": args.course, "seed": args.seed}
    specs = {
        "exam": common | {"trainees": args.trainees, "rounds": args.rounds, "think": args.think, "ramp": args.ramp,
                          "change_share": args.change_share, "ref_saves": args.ref_saves, "floor_beside": args.floor_beside,
                          "profile": args.profile, "threads": args.threads},
        "statistics": common | {"sizes": sizes, "stat_rounds": args.stat_rounds},
        "import": common | {"questions": args.questions, "rounds": args.rounds},
    }
    workroot = Path(tempfile.mkdtemp(prefix="ibm-lms-quiz-bench-"))
    try:
        for name in only:
            part_dir = workroot / f"part-{name}"
            part_dir.mkdir()
            parts[name] = {"started": dt.datetime.now(dt.UTC).strftime("%H:%M UTC")}
            try:
                commit = export_commit(args.rev, part_dir / "tree")
                parts[name]["commit"] = commit
                print(f"[{name}] measuring {args.rev} = {commit['commit'][:10]} ({commit['subject'][:80]})", flush=True)
                parts[name]["result"] = run_child(name, specs[name] | {"tree": commit["tree"], "workdir": str(part_dir)},
                                                  Path(commit["tree"]), part_dir, name)
            except BenchError as error:
                parts[name]["error"] = str(error)
                print(f"[{name}] FAILED: {error}", file=sys.stderr, flush=True)
            finally:
                stop_leftovers(part_dir)
    except (KeyboardInterrupt, SystemExit):
        for popen in list(_RUNNING):
            with contextlib.suppress(Exception):
                popen.send_signal(signal.SIGTERM)
                popen.wait(90)
        stop_leftovers(workroot)
        raise
    finally:
        for database in DATABASES.values():
            with contextlib.suppress(Exception):
                drop_database(database)
        shutil.rmtree(workroot, ignore_errors=True)
    text, ok = write_results(None if args.no_write else args.results, args, info, parts, started, command,
                             (f"{load_start[0]:.2f}", f"{os.getloadavg()[0]:.2f}"))
    print()
    print(text)
    if not args.no_write:
        print(f"written to {args.results}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
