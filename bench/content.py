"""Content benchmark: `content load` and `content check`, course pages against a static file, bytes per page.

    .venv/bin/python bench/content.py [--requests N] [--database sqlite|postgresql|both]
                                      [--rounds 5] [--runs 5] [--lesson document-security/check-digits]
                                      [--sweep 30] [--profile auto|always|never] [--only load|pages]
                                      [--rev HEAD]

Needs `scripts/setup bench` (gunicorn, psutil) and, for PostgreSQL, `scripts/setup test` (psycopg) and a
server on 127.0.0.1:5432 (user postgres, trust auth). Writes bench/CONTENT_RESULTS.md and prints it.
A run with the defaults (both databases, 1000 requests) takes about ten minutes.

The code measured is one commit (--rev, default HEAD), exported with `git archive` into a temporary
folder (its translation catalogs compiled by its own code) and run from there with PYTHONPATH and the
working folder pointing at it, so that edits to the checkout while the benchmark runs change nothing
measured; every child process and gunicorn worker is checked to have imported ibm_lms from the export.

What one run measures, per database (PostgreSQL first, then SQLite, unless --database names one):

1. `content load` of every course and locale under the commit's courses/, each load in a fresh
   process as the `ibm-lms content load` command runs it: the first load into a fresh database, an
   unchanged reload, and a reload after one lesson file changed (the English text of --lesson gets
   one sentence more, in the export; only that lesson may become a new version). --runs times
   each, each run on a fresh database. The SQL statements each load sends are counted with a
   SQLAlchemy before_cursor_execute listener; the unchanged reload must send no INSERT, UPDATE or
   DELETE and leave every table as it was (row digests), else the run fails. The same loads through
   the `ibm-lms content load` command (wall clock, with the interpreter's start-up) for comparison.
   `content check` is timed the same way and profiled once with cProfile.
2. The tool under gunicorn (2 sync workers, `ibm_lms.wsgi:app` with the IBM_LMS_* environment) on
   loopback, with its own fresh database, the courses loaded and a platform registered. One trainee
   signs in with a real LTI 1.3 launch (OIDC login, id token signed by the simulated platform of
   ibm_lms.demo.platform, its key set served by the driver); the session cookie it sets is then sent
   with every request, and kept up to date from Set-Cookie as a browser does. Then --requests GETs of
   the lesson page, of the course page and of the catalogue, and as many GETs of a static file of the
   same byte size for each (a copy of the page's own HTML written to ibm_lms/static/bench-<size>.html
   of the export, deleted at the end whatever happens), served by the same gunicorn through Flask's
   static route. One client, one request at a time, http.client on one keep-alive connection
   (gunicorn's sync workers close every connection, so in fact one per request, for pages and files
   alike). The requests are split into --rounds rounds in which page and file take turns, the order
   swapped every round.
   Reported per request: wall time (median, p95) and server CPU (user+system of the gunicorn master
   and workers, psutil), PostgreSQL CPU, and the ratios page / static file. Then --sweep GETs of every
   lesson, to see where the measured one stands.
   When the lesson page costs more than 5 times its static file (or --profile always), one gunicorn
   worker (`profiled_app()` below) serves the lesson: first its CPU and that of its main parts, timed
   around each call without a profiler, then cProfile (wall clock) over as many requests, its template
   functions named by their template line; the profile is /tmp/ibm_lms_content_lesson-<database>.prof.
3. Bytes per page type: the catalogue, every course page, every lesson (English, as the launch asks)
   with its figures, every glossary, the CSS and the icon; whether the server compresses (asked with
   Accept-Encoding: gzip, br), and what gzip -6 would make of each page.

Every response is checked (status, and what the page must hold); any failure stops the run with a
non-zero exit. Every wait is bounded. The databases (PostgreSQL: ibm_lms_content_bench) and temporary
folders are removed at the end. Timing never appears in tests: this is a tool to run by hand.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import email.utils
import gzip
import hashlib
import http.client
import json
import math
import os
import platform as pyplatform
import re
import secrets
import signal
import socket
import sqlite3
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
# The measured code: an export of one commit (set by main), never the checkout others edit.
TREE = ROOT
BIN = Path(sys.executable).parent
if not (BIN / "gunicorn").exists():
    BIN = ROOT / ".venv" / "bin"

HOST = "127.0.0.1"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
PG_DATABASE = "ibm_lms_content_bench"
DATABASES = ("postgresql", "sqlite")
LABELS = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
CLIENT_ID = "content-bench-client"
DEPLOYMENT_ID = "content-bench-deployment"
PROBE_COOKIE = "ibm_lms_cookies"
WORKERS = 2
REQUEST_TIMEOUT = 15.0
START_TIMEOUT = 30.0
CHILD_TIMEOUT = 300.0
PROFILE_THRESHOLD = 5.0
PROFILE_REQUESTS = 300
JSON_MARK = "BENCH-JSON "
FIGURE_URL = re.compile(r'src="(/content/figures/[0-9a-f]{64}\.svg)"')
ASSET_URL = re.compile(r'<link rel="(?:stylesheet|icon)" href="([^"]+)"')


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------- helpers


def run_command(args: list[str], env: dict | None = None, cwd: Path | None = None,
                timeout: float = CHILD_TIMEOUT) -> str:
    cwd = TREE if cwd is None else cwd
    try:
        result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(args[:4])} … did not finish within {timeout:.0f}s") from None
    if result.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-2000:]}\n"
                         f"{result.stderr[-3000:]}")
    return result.stdout


def base_env() -> dict:
    """A small environment for the servers and commands (as bench/run.py gives its apps)."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ") if k in os.environ}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # The export first: the venv's editable install of the checkout comes after PYTHONPATH.
    env["PYTHONPATH"] = str(TREE)
    return env


def export_tree(rev: str, workdir: Path) -> tuple[str, Path]:
    """`git archive` of the commit into workdir/tree, with its translation catalogs compiled by its own code."""
    global TREE
    commit = run_command(["git", "-C", str(ROOT), "rev-parse", "--verify", rev + "^{commit}"], cwd=ROOT).strip()
    tree = workdir / "tree"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit], capture_output=True,
                             timeout=CHILD_TIMEOUT, check=False)
    if archive.returncode != 0:
        raise BenchError(f"git archive {commit} failed: {archive.stderr.decode(errors='replace')}")
    untar = subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, capture_output=True,
                           timeout=CHILD_TIMEOUT, check=False)
    if untar.returncode != 0:
        raise BenchError(f"tar failed: {untar.stderr.decode(errors='replace')}")
    TREE = tree.resolve()
    where = run_command([sys.executable, "-c",
                         "from pathlib import Path; import ibm_lms; from ibm_lms.config import LOCALES; "
                         "from ibm_lms.i18n.catalogs import compile_all; compile_all(Path('translations'), LOCALES); "
                         "print(ibm_lms.__file__)"], env=base_env()).strip().splitlines()[-1]
    check_module(where)
    return commit, TREE


def check_module(where: str) -> None:
    if not Path(where).resolve().is_relative_to(TREE):
        raise BenchError(f"ibm_lms was imported from {where}, not from the export {TREE}")


def static_dir() -> Path:
    return TREE / "ibm_lms" / "static"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def process_cpu(proc) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def postgres_cpu() -> float:
    """CPU of the whole PostgreSQL server: live processes plus the postmaster's reaped children."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] != "postgres":
            continue
        try:
            times = proc.cpu_times()
            total += times.user + times.system
            if proc.ppid() == 1 or proc.parent() is None or proc.parent().name() != "postgres":
                total += times.children_user + times.children_system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(host=PG["host"], port=PG["port"], user=PG["user"], dbname="postgres", autocommit=True,
                         connect_timeout=10) as connection:
        connection.execute(sql)


def fresh_pg_database() -> str:
    pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{PG_DATABASE}"')
    return f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{PG_DATABASE}"


def drop_pg_database() -> None:
    pg_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')


def median(values) -> float:
    return statistics.median(values)


def p95(values) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _div(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _md(rows: list[tuple]) -> list[str]:
    return ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join("---" for _ in rows[0]) + " |",
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows[1:])]


def source_fingerprint() -> str:
    """sha256 of ibm_lms/**/*.py, *.html, *.mako (our temporary static files left out)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in (TREE / "ibm_lms").rglob("*") if p.suffix in {".py", ".html", ".mako"}):
        if path.parent == static_dir() and path.name.startswith("bench-"):
            continue
        digest.update(str(path.relative_to(TREE)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def read_courses(courses_dir: Path) -> list[dict]:
    """Slug, order and lesson ids (in course order) of every course, straight from course.toml."""
    courses = []
    for path in sorted(courses_dir.glob("*/course.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        lessons = [lesson["id"] for module in data.get("modules", ()) for lesson in module.get("lessons", ())]
        courses.append({"slug": data["slug"], "order": data["order"], "lessons": lessons,
                        "title": data["title"]["en"].strip()})
    if not courses:
        raise BenchError(f"no courses under {courses_dir}")
    return sorted(courses, key=lambda c: c["order"])


# --------------------------------------------------------------------------- child processes (one load each)


def _child_app(spec: dict):
    from ibm_lms import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": spec["url"], "SECRET_KEY": secrets.token_urlsafe(48),
                       "INSTANCE_PATH": spec["instance"], "BASE_URL": "http://127.0.0.1:9",
                       "COURSES_DIR": spec["courses"]})


def _table_state(db) -> dict[str, list]:
    """Rows and a digest of every table's content, in primary-key order."""
    from sqlalchemy import select

    state = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            state[table.name] = [len(rows), hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()]
    return state


def _child_upgrade(spec: dict) -> dict:
    from flask_migrate import upgrade

    from ibm_lms.extensions import db

    app = _child_app(spec)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return {}


def _child_load(spec: dict) -> dict:
    """One `content load`, as the command does it in a fresh process, timed and its statements counted."""
    from sqlalchemy import event

    from ibm_lms.content import catalogue, service
    from ibm_lms.extensions import db

    app = _child_app(spec)
    spent = {"read": 0.0, "fingerprint": 0.0}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
        return wrapper

    # Measuring wrappers only (this process): the code that runs is the tool's own.
    service.read_all = timed("read", service.read_all)
    catalogue.fingerprint = timed("fingerprint", catalogue.fingerprint)
    statements = collections.Counter()
    counting = False

    def count(conn, cursor, statement, parameters, context, executemany):
        if counting:
            verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
            statements[verb] += 1
            if executemany:
                statements[verb + " (executemany)"] += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        before = _table_state(db)
        pg_before = postgres_cpu() if spec["database"] == "postgresql" else 0.0
        cpu_before = time.process_time()
        counting = True
        started = time.perf_counter()
        report = service.load(Path(spec["courses"]))
        seconds = time.perf_counter() - started
        counting = False
        cpu = time.process_time() - cpu_before
        pg_cpu = (postgres_cpu() - pg_before) if spec["database"] == "postgresql" else None
        after = _table_state(db)
        db.engine.dispose()
    return {"seconds": seconds, "cpu": cpu, "pg_cpu": pg_cpu, "read": spent["read"],
            "fingerprint": spent["fingerprint"], "statements": dict(statements),
            "report": {"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                       "withdrawn": report.withdrawn, "warnings": len(report.warnings)},
            "before": before, "after": after}


def _child_check(spec: dict) -> dict:
    """One `content check` in a fresh process; with spec['profile'], under cProfile, dumped there."""
    from ibm_lms.content import service

    app = _child_app(spec)
    with app.app_context():
        profiler = None
        if spec.get("profile"):
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        cpu_before = time.process_time()
        courses, problems = service.check(Path(spec["courses"]))
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(spec["profile"])
    errors = [p for p in problems if not p.warning]
    return {"seconds": seconds, "cpu": cpu, "courses": len(courses), "lessons": sum(len(c.lessons) for c in courses),
            "exercises": sum(len(c.exercises) for c in courses), "errors": len(errors),
            "warnings": len(problems) - len(errors),
            "lesson_files": sum(len(lesson.texts) for c in courses for lesson in c.lessons)}


CHILDREN = {"upgrade": _child_upgrade, "load": _child_load, "check": _child_check}


def _run_child(action: str, spec: dict) -> dict:
    import ibm_lms

    return CHILDREN[action](spec) | {"module": ibm_lms.__file__}


def child(action: str, spec: dict) -> dict:
    out = run_command([sys.executable, str(Path(__file__).resolve()), "--child", action, "--spec", json.dumps(spec)],
                      env=base_env())
    for line in reversed(out.splitlines()):
        if line.startswith(JSON_MARK):
            found = json.loads(line[len(JSON_MARK):])
            check_module(found["module"])
            return found
    raise BenchError(f"the {action} child printed no result:\n{out[-2000:]}")


# --------------------------------------------------------------------------- part 1: content load and check


@dataclass
class LoadResults:
    database: str
    first: list[dict] = field(default_factory=list)
    unchanged: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    cli_first: list[float] = field(default_factory=list)
    cli_unchanged: list[float] = field(default_factory=list)


WRITES = ("INSERT", "UPDATE", "DELETE")
VERSION_TABLES = ("courses", "course_versions", "lesson_versions", "exercise_versions", "content_figures")


def _rows(state: dict, table: str) -> int:
    return state[table][0]


def lesson_file(courses_dir: Path, lesson: str) -> Path:
    slug, key = lesson.split("/", 1)
    path = courses_dir / slug / "lessons" / "en" / f"{key}.md"
    if not path.is_file():
        raise BenchError(f"--lesson {lesson}: no file {path}")
    return path


def measure_loads(database: str, courses: Path, lesson: str, runs: int, workdir: Path, log) -> LoadResults:
    results = LoadResults(database)
    edited = lesson_file(courses, lesson)
    original = edited.read_bytes()
    for run in range(runs):
        instance = workdir / f"load-{database}-{run}"
        instance.mkdir(parents=True)
        url = fresh_pg_database() if database == "postgresql" else f"sqlite:///{instance / 'content.sqlite3'}"
        spec = {"url": url, "instance": str(instance), "courses": str(courses), "database": database}
        child("upgrade", spec)
        first = child("load", spec)
        if first["report"]["created"] != len(read_courses(courses)) or first["report"]["unchanged"]:
            raise BenchError(f"first load: {first['report']}")
        results.first.append(first)
        unchanged = child("load", spec)
        writes = {verb: unchanged["statements"].get(verb, 0) for verb in WRITES}
        if any(writes.values()) or unchanged["before"] != unchanged["after"]:
            changed_tables = [t for t in unchanged["before"] if unchanged["before"][t] != unchanged["after"][t]]
            raise BenchError(f"the unchanged reload wrote: {writes}, tables changed: {changed_tables}")
        if unchanged["report"]["unchanged"] != first["report"]["created"] or unchanged["report"]["updated"]:
            raise BenchError(f"unchanged reload: {unchanged['report']}")
        results.unchanged.append(unchanged)
        try:
            edited.write_bytes(original + f"\n\nThis sentence was added by the content benchmark, run {run + 1}.\n"
                               .encode())
            changed = child("load", spec)
        finally:
            edited.write_bytes(original)
        grown = {t: _rows(changed["after"], t) - _rows(changed["before"], t) for t in VERSION_TABLES}
        expected = {"courses": 0, "course_versions": 1, "lesson_versions": 1, "exercise_versions": 0,
                    "content_figures": 0}
        report = changed["report"]
        if grown != expected or report["updated"] != 1 or report["unchanged"] != first["report"]["created"] - 1:
            raise BenchError(f"one lesson changed: expected one new lesson version and one new course version, got "
                             f"{grown}, report {report}")
        changed["grown"] = grown
        results.changed.append(changed)
        log(f"[{LABELS[database]}] load run {run + 1}/{runs}: first {first['seconds']:.2f}s, unchanged "
            f"{unchanged['seconds']:.2f}s, one lesson changed {changed['seconds']:.2f}s")
    # The same through the command, wall clock with the interpreter's start-up (fewer runs: it is slower).
    for run in range(min(3, runs)):
        instance = workdir / f"cli-{database}-{run}"
        env = cli_env(database, instance, courses)
        run_command([str(BIN / "ibm-lms"), "db", "upgrade"], env=env)
        for bucket, expect in ((results.cli_first, "8 new"), (results.cli_unchanged, "8 unchanged")):
            started = time.perf_counter()
            out = run_command([str(BIN / "ibm-lms"), "content", "load"], env=env)
            bucket.append(time.perf_counter() - started)
            expect = expect.replace("8", str(len(read_courses(courses))))
            if expect not in out:
                raise BenchError(f"ibm-lms content load said {out.strip()!r}, expected {expect!r}")
    return results


def cli_env(database: str, instance: Path, courses: Path, base_url: str = "http://127.0.0.1:9") -> dict:
    instance.mkdir(parents=True, exist_ok=True)
    env = base_env() | {"IBM_LMS_SECRET_KEY": secrets.token_urlsafe(48), "IBM_LMS_BASE_URL": base_url,
                        "IBM_LMS_INSTANCE_PATH": str(instance), "IBM_LMS_COURSES_DIR": str(courses),
                        # Hundreds of simulated trainees share one address: measure the tool, not its limiter.
                        "IBM_LMS_RATE_LIMITS": "0"}
    if database == "postgresql":
        env["IBM_LMS_DATABASE_URL"] = fresh_pg_database()
    # SQLite: IBM_LMS_DATABASE_URL unset, the tool's default file in its instance folder.
    return env


@dataclass
class CheckResults:
    child: list[dict] = field(default_factory=list)
    cli: list[float] = field(default_factory=list)
    startup: list[float] = field(default_factory=list)
    profile_path: str = ""
    profile_seconds: float = 0.0
    top_own: list[tuple] = field(default_factory=list)
    top_cumulative: list[tuple] = field(default_factory=list)
    packages: list[tuple] = field(default_factory=list)


def measure_check(courses: Path, runs: int, workdir: Path) -> CheckResults:
    results = CheckResults()
    instance = workdir / "check"
    instance.mkdir(parents=True, exist_ok=True)
    spec = {"url": f"sqlite:///{instance / 'unused.sqlite3'}", "instance": str(instance), "courses": str(courses),
            "database": "sqlite"}
    for _ in range(runs):
        found = child("check", spec)
        if found["errors"]:
            raise BenchError(f"content check found {found['errors']} errors in the courses")
        results.child.append(found)
    env = base_env() | {"IBM_LMS_INSTANCE_PATH": str(instance), "IBM_LMS_COURSES_DIR": str(courses)}
    for _ in range(min(3, runs)):
        started = time.perf_counter()
        run_command([str(BIN / "ibm-lms"), "content", "check"], env=env)
        results.cli.append(time.perf_counter() - started)
        started = time.perf_counter()
        run_command([str(BIN / "ibm-lms", ), "content", "--help"], env=env)
        results.startup.append(time.perf_counter() - started)
    results.profile_path = str(Path(tempfile.gettempdir()) / "ibm_lms_content_check.prof")
    profiled = child("check", spec | {"profile": results.profile_path})
    results.profile_seconds = profiled["seconds"]
    analysis = analyse_profile(results.profile_path)
    results.top_own, results.top_cumulative, results.packages = (analysis["own"], analysis["cumulative"],
                                                                 analysis["packages"])
    return results


# --------------------------------------------------------------------------- profiles


def _where(filename: str, function: str) -> str:
    """Where a function lives, in a word: a package, an ibm_lms room, a template, the standard library."""
    if filename == "~":
        return "built-in"
    path = filename.replace("\\", "/")
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/ibm_lms/templates/" in path or path.endswith(".html"):
        return "templates (compiled Jinja)"
    if "/ibm_lms/" in path:
        parts = path.split("/ibm_lms/", 1)[1].split("/")
        return "ibm_lms/" + parts[0].removesuffix(".py")
    if "/lib/python3" in path:
        rest = path.split("/lib/python3", 1)[1].split("/", 2)
        return "stdlib " + (rest[1].removesuffix(".py") if len(rest) > 1 else "?")
    return path


def _label(key: tuple) -> str:
    filename, line, function = key
    if filename == "~":
        return function
    path = filename.replace("\\", "/")
    for marker in ("/site-packages/", str(TREE) + "/", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        if "/lib/python3" in path:
            path = "stdlib/" + path.split("/lib/python3", 1)[1].split("/", 2)[-1]
    return f"{path}:{line}({function})"


_NATIVE = re.compile(r"\b(nh3|sqlite3|psycopg[\w.]*|_hashlib|_json|pyexpat|_pickle|zlib|_ssl)\b")


def analyse_profile(path: str, top: int = 15) -> dict:
    """Top functions by own and inclusive time, and own time by package.

    A C function of an extension named in _NATIVE counts as that extension; any other C function
    (str and re methods, built-ins) counts for its callers' packages, in proportion to its time per caller."""
    import pstats

    stats = pstats.Stats(path).stats
    total = sum(tt for (_, _, tt, _, _) in stats.values())
    own = sorted(((tt, _label(k), nc) for k, (_, nc, tt, _, _) in stats.items()), reverse=True)[:top]
    cumulative = sorted(((ct, _label(k), nc) for k, (_, nc, _, ct, _) in stats.items()), reverse=True)
    packages = collections.Counter()
    for key, (_, _, tt, _, callers) in stats.items():
        native = _NATIVE.search(key[2]) if key[0] == "~" else None
        if native:
            packages[native.group(1) + " (C)"] += tt
        elif key[0] == "~" and callers:
            # Built-ins (C: sqlite3, psycopg's C parts, nh3, sha256, str methods) count for their callers' package.
            weights = {caller: value[3] for caller, value in callers.items()}
            whole = sum(weights.values()) or 1.0
            for caller, weight in weights.items():
                packages[_where(caller[0], caller[2])] += tt * weight / whole
        else:
            packages[_where(key[0], key[2])] += tt
    return {"total": total, "own": own, "cumulative": cumulative,
            "packages": sorted(((t, name) for name, t in packages.items()), reverse=True)}


# --------------------------------------------------------------------------- the browser


class CookieJar:
    """The cookies the trainee's browser holds for the tool (one host; expired ones dropped)."""

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
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float
    header_bytes: int

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Client:
    """One browser tab: a keep-alive http.client connection (reopened when the server closes it) and a cookie jar."""

    def __init__(self, base_url: str, jar: CookieJar):
        parts = urlsplit(base_url)
        self.host, self.port, self.jar = parts.hostname, parts.port, jar
        self.connection: http.client.HTTPConnection | None = None
        self.opened = 0

    def request(self, method: str, path: str, *, form: dict | None = None, headers: dict | None = None) -> Reply:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
            self.opened += 1
        sent = {"User-Agent": "ibm-lms-content-bench", "Accept": "text/html,*/*"} | (headers or {})
        cookie = self.jar.header()
        if cookie:
            sent["Cookie"] = cookie
        body = None
        if form is not None:
            body = urlencode(form).encode("ascii")
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise BenchError(f"{method} {path}: {type(error).__name__}: {error}") from None
        seconds = time.perf_counter() - started
        self.jar.receive(response.headers.get_all("Set-Cookie") or [])
        header_bytes = sum(len(k) + len(v) + 4 for k, v in response.getheaders()) + 17
        if response.will_close:
            self.close()
        return Reply(response.status, response.headers, payload, seconds, header_bytes)

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# --------------------------------------------------------------------------- the platform and the server


class Platform:
    """The simulated Moodle of ibm_lms.demo.platform; its key set served over HTTP from a thread of the driver."""

    def __init__(self):
        import logging

        from werkzeug.serving import make_server

        from ibm_lms.demo.platform import SimulatedPlatform

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.sim = SimulatedPlatform(issuer="placeholder", client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID)
        jwks = json.dumps(self.sim.jwks()).encode()

        def app(environ, start_response):
            if environ.get("PATH_INFO") == "/mod/lti/certs.php":
                start_response("200 OK", [("Content-Type", "application/json"), ("Cache-Control", "max-age=3600")])
                return [jwks]
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]

        self.server = make_server(HOST, 0, app, threaded=True)
        self.base_url = f"http://{HOST}:{self.server.server_port}"
        self.sim.issuer = self.base_url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    auth_login_url = property(lambda self: self.base_url + "/mod/lti/auth.php")
    token_url = property(lambda self: self.base_url + "/mod/lti/token.php")
    keyset_url = property(lambda self: self.base_url + "/mod/lti/certs.php")

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


class Gunicorn:
    """The tool under `gunicorn -w N -k sync`, started and stopped by us only (by its pid)."""

    def __init__(self, module: str, port: int, env: dict, cwd: Path, log_path: Path, workers: int = WORKERS):
        self.module, self.port, self.env, self.cwd, self.log_path, self.workers_wanted = (module, port, env, cwd,
                                                                                         log_path, workers)
        self.popen: subprocess.Popen | None = None

    def start(self) -> Gunicorn:
        import psutil

        args = [str(BIN / "gunicorn"), "-w", str(self.workers_wanted), "-k", "sync", "-b", f"{HOST}:{self.port}",
                "--log-level", "warning", self.module]
        self._log = self.log_path.open("w")
        self.popen = subprocess.Popen(args, cwd=self.cwd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise BenchError(f"gunicorn exited at start:\n{self.log_tail()}")
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                connection.request("GET", "/healthz")
                status = connection.getresponse().status
                connection.close()
                if status == 200 and len(self.workers()) == self.workers_wanted:
                    return self
            except (OSError, http.client.HTTPException, psutil.Error):
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn not ready within {START_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def master(self):
        import psutil

        return psutil.Process(self.popen.pid)

    def workers(self) -> list:
        return self.master().children(recursive=True)

    def cpu(self) -> tuple[float, frozenset[int]]:
        procs = [self.master(), *self.workers()]
        return sum(process_cpu(p) for p in procs), frozenset(p.pid for p in procs)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(Exception):
                for worker in self.workers():
                    worker.kill()
            self.popen.kill()
            self.popen.wait(10)
        self._log.close()


def launch(base_url: str, platform: Platform) -> CookieJar:
    """A trainee's LTI 1.3 launch, as the browser and the platform do it; returns the browser's cookies."""
    from ibm_lms.demo.platform import DEMO_USERS

    jar = CookieJar({PROBE_COOKIE: "1"})  # the tool's own cookie check, passed on an earlier visit
    client = Client(base_url, jar)
    target = base_url + "/courses/"
    params = platform.sim.login_parameters(target_link_uri=target, login_hint=DEMO_USERS["trainee"].subject)
    reply = client.get("/lti/login?" + urlencode(params))
    location = reply.headers.get("Location", "")
    if reply.status != 302 or not location.startswith(platform.auth_login_url + "?"):
        raise BenchError(f"login: expected 302 to the platform, got {reply.status} {location[:120]!r}")
    query = dict(parse_qsl(urlsplit(location).query))
    problems = platform.sim.authentication_request_problems(query, redirect_uri=base_url + "/lti/launch")
    if problems:
        raise BenchError(f"the platform refuses the auth request's {', '.join(problems)}")
    claims = platform.sim.launch_claims(nonce=query["nonce"], target_link_uri=target, user=DEMO_USERS["trainee"],
                                        locale="en")
    reply = client.request("POST", "/lti/launch", form={"id_token": platform.sim.sign(claims), "state": query["state"]})
    if reply.status != 303 or not reply.headers.get("Location", "").endswith("/courses/"):
        raise BenchError(f"launch: expected 303 to /courses/, got {reply.status}: {reply.text[:300]!r}")
    if "ibm_lms_session" not in jar.cookies:
        raise BenchError("the launch set no session cookie")
    client.close()
    return jar


# --------------------------------------------------------------------------- part 2 and 3: pages


@dataclass
class Target:
    """What one kind of request asks for, and how its answer is checked."""

    name: str
    path: str
    check: object  # callable(Reply) -> str | None (what is wrong)
    size: int = 0
    static_path: str = ""


def page_checker(kind: str, courses: list[dict], lesson_title: str | None = None):
    def check(reply: Reply) -> str | None:
        if reply.status != 200:
            return f"status {reply.status}"
        text = reply.text
        # Every page needs a signed-in session (else 401); the catalogue and course pages name the trainee.
        if kind in ("catalogue", "course") and "Signed in as" not in text:
            return "the trainee's name is missing"
        if kind == "glossary" and '<dl class="glossary">' not in text:
            return "no glossary"
        cards = text.count('class="course-card"')
        if kind == "catalogue" and cards != len(courses):
            return f"{cards} course cards, expected {len(courses)}"
        if kind == "lesson" and '<article class="lesson"' not in text:
            return "no lesson article"
        if kind == "course" and "/lessons/" not in text:
            return "no lesson links"
        return None
    return check


def static_checker(size: int):
    def check(reply: Reply) -> str | None:
        if reply.status != 200:
            return f"status {reply.status}"
        if len(reply.body) != size:
            return f"{len(reply.body)} bytes, expected {size}"
        return None
    return check


@dataclass
class Batch:
    times: list[float]
    server_cpu: float
    pg_cpu: float
    opened: int
    sizes: int


def run_batch(server: Gunicorn, base_url: str, jar: CookieJar, path: str, check, count: int, database: str,
              deadline: float) -> Batch:
    client = Client(base_url, jar)
    times, sizes = [], 0
    cpu_before, pids_before = server.cpu()
    pg_before = postgres_cpu() if database == "postgresql" else 0.0
    for _ in range(count):
        if time.monotonic() > deadline:
            raise BenchError("the time limit of the page measurements was reached")
        reply = client.get(path)
        problem = check(reply)
        if problem:
            raise BenchError(f"GET {path}: {problem}; body: {reply.text[:300]!r}\n{server.log_tail()}")
        times.append(reply.seconds)
        sizes += len(reply.body)
    client.close()
    cpu_after, pids_after = server.cpu()
    if pids_after != pids_before:
        raise BenchError(f"gunicorn's workers changed during a batch (a worker died?)\n{server.log_tail()}")
    pg_cpu = (postgres_cpu() - pg_before) if database == "postgresql" else 0.0
    return Batch(times, cpu_after - cpu_before, pg_cpu, client.opened, sizes)


@dataclass
class Measured:
    name: str
    bytes: float
    batches: list[Batch]

    @property
    def times(self) -> list[float]:
        return [t for b in self.batches for t in b.times]

    @property
    def count(self) -> int:
        return len(self.times)

    def cpu_ms(self, batches: list[Batch] | None = None) -> float:
        batches = self.batches if batches is None else batches
        return sum(b.server_cpu for b in batches) / sum(len(b.times) for b in batches) * 1000

    def pg_ms(self) -> float:
        return sum(b.pg_cpu for b in self.batches) / self.count * 1000

    @property
    def opened(self) -> int:
        return sum(b.opened for b in self.batches)


@dataclass
class PageSurvey:
    """Part 3: bytes of every page type."""

    catalogue: dict = field(default_factory=dict)
    catalogue_later: dict = field(default_factory=dict)  # once the trainee has viewed every lesson
    courses: dict[str, dict] = field(default_factory=dict)
    courses_later: dict[str, dict] = field(default_factory=dict)
    glossaries: dict[str, dict] = field(default_factory=dict)
    lessons: dict[str, dict] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=dict)
    assets: dict[str, dict] = field(default_factory=dict)
    encodings: set[str] = field(default_factory=set)


def _sized(reply: Reply) -> dict:
    return {"bytes": len(reply.body), "gzip": len(gzip.compress(reply.body, 6)), "headers": reply.header_bytes,
            "encoding": reply.headers.get("Content-Encoding", "")}


def survey(base_url: str, jar: CookieJar, courses: list[dict]) -> PageSurvey:
    found = PageSurvey()
    client = Client(base_url, jar)
    compress = {"Accept-Encoding": "gzip, br"}

    def fetch(path: str, kind: str) -> Reply:
        reply = client.get(path, headers=compress)
        problem = page_checker(kind, courses)(reply) if kind != "asset" else (
            None if reply.status == 200 else f"status {reply.status}")
        if problem:
            raise BenchError(f"GET {path}: {problem}")
        if reply.headers.get("Content-Encoding"):
            found.encodings.add(reply.headers["Content-Encoding"])
        return reply

    reply = fetch("/courses/", "catalogue")
    found.catalogue = _sized(reply)
    for asset in dict.fromkeys(ASSET_URL.findall(reply.text)):
        asset_reply = fetch(asset, "asset")
        found.assets[asset.split("?", 1)[0]] = _sized(asset_reply) | {"cache": asset_reply.headers.get("Cache-Control")}
    for course in courses:
        found.courses[course["slug"]] = _sized(fetch(f"/courses/{course['slug']}", "course"))
        found.glossaries[course["slug"]] = _sized(fetch(f"/courses/{course['slug']}/glossary", "glossary"))
    for course in courses:
        for key in course["lessons"]:
            reply = fetch(f"/courses/{course['slug']}/lessons/{key}", "lesson")
            figures = list(dict.fromkeys(FIGURE_URL.findall(reply.text)))
            for figure in figures:
                if figure not in found.figures:
                    figure_reply = client.get(figure, headers=compress)
                    if figure_reply.status != 200 or "image/svg+xml" not in figure_reply.headers.get("Content-Type", ""):
                        raise BenchError(f"GET {figure}: {figure_reply.status} {figure_reply.headers.get('Content-Type')}")
                    if figure_reply.headers.get("Content-Encoding"):
                        found.encodings.add(figure_reply.headers["Content-Encoding"])
                    found.figures[figure] = len(figure_reply.body)
            found.lessons[f"{course['slug']}/{key}"] = _sized(reply) | {
                "figures": len(figures), "figure_bytes": sum(found.figures[f] for f in figures),
                "exercises": reply.text.count('<section class="exercise"')}
    # The catalogue and the course pages show the trainee's progress: again, now that every lesson was viewed.
    found.catalogue_later = _sized(fetch("/courses/", "catalogue"))
    for course in courses:
        found.courses_later[course["slug"]] = _sized(fetch(f"/courses/{course['slug']}", "course"))
    client.close()
    return found


@dataclass
class ServeResults:
    database: str
    survey: PageSurvey
    measured: dict[str, Measured]  # "lesson", "lesson static", …
    rounds: int
    requests: int
    profile: dict | None = None
    sweep: dict[str, dict] = field(default_factory=dict)  # every lesson: server CPU and wall per request
    sweep_requests: int = 0


KINDS = ("lesson", "course", "catalogue")


def serve_and_measure(database: str, courses_dir: Path, courses: list[dict], lesson: str, requests: int,
                      rounds: int, profile_mode: str, sweep_requests: int, workdir: Path, platform: Platform,
                      created_static: list[Path], log) -> ServeResults:
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    instance = workdir / f"serve-{database}"
    env = cli_env(database, instance, courses_dir, base_url)
    cli = str(BIN / "ibm-lms")
    run_command([cli, "db", "upgrade"], env=env)
    run_command([cli, "content", "load"], env=env)
    # Since 'tenant add' exists, 'platform add' needs the academy; older commits made it there (and lack the command).
    subprocess.run([cli, "tenant", "add", "bench"], env=env, cwd=TREE, capture_output=True, check=False)
    run_command([cli, "platform", "add", "--issuer", platform.base_url, "--client-id", CLIENT_ID,
                 "--auth-login-url", platform.auth_login_url, "--auth-token-url", platform.token_url,
                 "--keyset-url", platform.keyset_url, "--deployment-id", DEPLOYMENT_ID, "--tenant", "bench"], env=env)
    # gunicorn puts its working folder first on sys.path: the export's, so ibm_lms comes from there.
    check_module(run_command([sys.executable, "-c", "import ibm_lms; print(ibm_lms.__file__)"], env=env).strip())
    server = Gunicorn("ibm_lms.wsgi:app", port, env, TREE, workdir / f"gunicorn-{database}.log").start()
    try:
        jar = launch(base_url, platform)
        log(f"[{LABELS[database]}] signed in through an LTI launch; surveying every page")
        found = survey(base_url, jar, courses)
        slug, key = lesson.split("/", 1)
        targets = {
            "lesson": Target("lesson", f"/courses/{slug}/lessons/{key}", page_checker("lesson", courses)),
            "course": Target("course", f"/courses/{slug}", page_checker("course", courses)),
            "catalogue": Target("catalogue", "/courses/", page_checker("catalogue", courses)),
        }
        deadline = time.monotonic() + max(600.0, requests * 6 * 0.25)
        # Warm-up (not measured); then each page's static twin: its own HTML, byte for byte.
        warm = Client(base_url, jar)
        for target in targets.values():
            for _ in range(30):
                reply = warm.get(target.path)
                problem = target.check(reply)
                if problem:
                    raise BenchError(f"GET {target.path}: {problem}")
            target.size = len(reply.body)
            static = static_dir() / f"bench-{target.size}.html"
            if not static.exists():
                static.write_bytes(reply.body)
                created_static.append(static)
            target.static_path = f"/static/{static.name}"
        statics = {name: Target(f"{name} static", t.static_path, static_checker(t.size), t.size)
                   for name, t in targets.items()}
        for target in statics.values():
            for _ in range(30):
                problem = target.check(warm.get(target.path))
                if problem:
                    raise BenchError(f"GET {target.path}: {problem}")
        warm.close()
        per_round = [requests // rounds + (1 if r < requests % rounds else 0) for r in range(rounds)]
        batches: dict[str, list[Batch]] = collections.defaultdict(list)
        for round_index, count in enumerate(per_round):
            kinds = KINDS[round_index % len(KINDS):] + KINDS[:round_index % len(KINDS)]
            for kind_index, kind in enumerate(kinds):
                pair = [targets[kind], statics[kind]]
                if (round_index + kind_index) % 2:
                    pair.reverse()
                for target in pair:
                    batches[target.name].append(run_batch(server, base_url, jar, target.path, target.check, count,
                                                          database, deadline))
            log(f"[{LABELS[database]}] round {round_index + 1}/{rounds} done")
        measured = {}
        for target in [*targets.values(), *statics.values()]:
            done = batches[target.name]
            measured[target.name] = Measured(target.name, sum(b.sizes for b in done) / sum(len(b.times) for b in done),
                                             done)
        result = ServeResults(database, found, measured, rounds, requests)
        # Every lesson, a few GETs each: is the measured one typical?
        for course in courses:
            for key in course["lessons"] if sweep_requests else ():
                path = f"/courses/{course['slug']}/lessons/{key}"
                check = page_checker("lesson", courses)
                run_batch(server, base_url, jar, path, check, 2, database, deadline)  # both workers warm
                batch = run_batch(server, base_url, jar, path, check, sweep_requests, database, deadline)
                result.sweep[f"{course['slug']}/{key}"] = {"cpu_ms": batch.server_cpu / sweep_requests * 1000,
                                                           "wall_ms": median(batch.times) * 1000}
        result.sweep_requests = sweep_requests
        if sweep_requests:
            log(f"[{LABELS[database]}] every lesson measured ({sweep_requests} GETs each)")
    finally:
        server.stop()
    ratio = _div(result.measured["lesson"].cpu_ms(), result.measured["lesson static"].cpu_ms())
    if profile_mode == "always" or (profile_mode == "auto" and ratio is not None and ratio > PROFILE_THRESHOLD):
        log(f"[{LABELS[database]}] lesson / static server CPU = {_fmt(ratio)}: profiling one worker")
        result.profile = profile_lesson(database, env, targets["lesson"], statics["lesson"], platform, workdir)
    return result


# --------------------------------------------------------------------------- profiling one worker


# Parts of a lesson request timed inside the worker without a profiler (process_time around each call;
# inclusive: the view's write and its commit are inside service.lesson_page). A name the code no longer
# has is skipped and reported as such.
TIMED_PARTS = [
    ("service.lesson_page (reads, the view's write and commit, the exercises)",
     "ibm_lms.content.service:lesson_page"),
    ("  of which learning.view_lesson (the progress rows)", "ibm_lms.content.learning:view_lesson"),
    ("  of which Session.commit (the view's transaction)", "sqlalchemy.orm.session:Session.commit"),
    ("render_template (Jinja: the page's HTML)", "ibm_lms.content.views:render_template"),
    ("the session opened", "ibm_lms.tenancy.session_transport:SessionTransport.open_session"),
    ("the session saved", "ibm_lms.tenancy.session_transport:SessionTransport.save_session"),
]


def profiled_app():
    """gunicorn's app for the profile: `gunicorn -w 1 'content:profiled_app()'`, bench/ on PYTHONPATH.

    ibm_lms.wsgi:app inside a wrapper that counts the in-app CPU of every request and of the parts of
    TIMED_PARTS during requests whose path starts with BENCH_PROFILE_PREFIX, and, while switched on,
    runs cProfile (wall clock) around those requests (the body is produced inside the profile).
    /__bench/profile?action=… switches it (only this benchmark's loopback server has it).
    """
    import cProfile
    import importlib

    import ibm_lms
    from ibm_lms.wsgi import app as inner

    print(f"bench-module-check pid={os.getpid()} ibm_lms={ibm_lms.__file__}", file=sys.stderr, flush=True)
    prefix = os.environ["BENCH_PROFILE_PREFIX"]
    state = {"profiler": None, "timing": False, "cpu": collections.Counter(), "requests": collections.Counter(),
             "parts": collections.Counter(), "missing": []}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            if not state["timing"]:
                return function(*args, **kwargs)
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                state["parts"][name] += time.process_time() - started
        return wrapper

    for name, target in TIMED_PARTS:
        module_name, _, attribute = target.partition(":")
        owner = importlib.import_module(module_name)
        *path, last = attribute.split(".")
        for step in path:
            owner = getattr(owner, step, None)
        if owner is None or not callable(getattr(owner, last, None)):
            state["missing"].append(target)
            continue
        setattr(owner, last, timed(name, getattr(owner, last)))

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/__bench/profile":
            query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
            action = query.get("action")
            answer = {}
            if action == "on":
                state["profiler"] = cProfile.Profile()
            elif action == "off" and state["profiler"] is not None:
                state["profiler"].dump_stats(query["file"])
                state["profiler"] = None
            elif action == "templates":
                # Where each compiled template's code lines come from, to name the profile's template functions.
                cache = inner.jinja_env.cache or {}
                answer = {t.filename: t.debug_info for t in list(cache.values()) if t.filename}
            elif action == "counters":
                answer = {"cpu": dict(state["cpu"]), "requests": dict(state["requests"]),
                          "parts": dict(state["parts"]), "missing": state["missing"]}
                for counter in ("cpu", "requests", "parts"):
                    state[counter].clear()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(answer).encode()]
        measured = path.startswith(prefix)
        profiler = state["profiler"] if measured else None
        kind = "profiled" if profiler is not None else ("measured" if measured else "other")
        state["timing"] = measured and profiler is None
        started = time.process_time()
        if profiler is not None:
            profiler.enable()
        try:
            result = inner(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        finally:
            if profiler is not None:
                profiler.disable()
            state["timing"] = False
            state["cpu"][kind] += time.process_time() - started
            state["requests"][kind] += 1
        return [body]

    return app


def profile_lesson(database: str, env: dict, lesson: Target, static: Target, platform: Platform,
                   workdir: Path) -> dict:
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    env = env | {"IBM_LMS_BASE_URL": base_url, "BENCH_PROFILE_PREFIX": lesson.path,
                 "PYTHONPATH": os.pathsep.join([str(TREE), str(BENCH)])}
    log_path = workdir / f"gunicorn-profile-{database}.log"
    server = Gunicorn("content:profiled_app()", port, env, TREE, log_path, workers=1).start()
    control = Client(base_url, CookieJar())

    def command(**query) -> dict:
        reply = control.get("/__bench/profile?" + urlencode(query))
        if reply.status != 200:
            raise BenchError(f"profile control: {reply.status}")
        return json.loads(reply.body)

    out: dict = {"requests": PROFILE_REQUESTS}
    try:
        found = re.findall(r"bench-module-check pid=\d+ ibm_lms=(\S+)", log_path.read_text(errors="replace"))
        if not found:
            raise BenchError(f"the profiled worker did not say where ibm_lms came from:\n{server.log_tail()}")
        check_module(found[0])
        jar = launch(base_url, platform)
        deadline = time.monotonic() + 600
        run_batch(server, base_url, jar, lesson.path, lesson.check, 100, database, deadline)  # warm-up
        run_batch(server, base_url, jar, static.path, static.check, 100, database, deadline)
        command(action="counters")
        for name, target in (("lesson", lesson), ("static", static)):
            batch = run_batch(server, base_url, jar, target.path, target.check, PROFILE_REQUESTS, database, deadline)
            counters = command(action="counters")
            out[name] = {"worker_cpu_ms": batch.server_cpu / PROFILE_REQUESTS * 1000,
                         "in_app_cpu_ms": sum(counters["cpu"].values()) / PROFILE_REQUESTS * 1000,
                         "wall_ms": median(batch.times) * 1000,
                         "parts": {k: v / PROFILE_REQUESTS * 1000 for k, v in counters["parts"].items()},
                         "missing": counters["missing"]}
        path = str(Path(tempfile.gettempdir()) / f"ibm_lms_content_lesson-{database}.prof")
        command(action="on")
        batch = run_batch(server, base_url, jar, lesson.path, lesson.check, PROFILE_REQUESTS, database, deadline)
        command(action="off", file=path)
        counters = command(action="counters")
        out["templates"] = template_functions(path, command(action="templates"))
        out["profile"] = {"path": path, "analysis": analyse_profile(path, top=20), "parts": lesson_parts(path),
                          "in_app_cpu_ms": counters["cpu"].get("profiled", 0) / PROFILE_REQUESTS * 1000,
                          "wall_ms": median(batch.times) * 1000}
    finally:
        control.close()
        server.stop()
    return out


def template_functions(path: str, debug_info: dict[str, list], top: int = 8) -> list[tuple]:
    """The compiled-template functions of the profile with most inclusive time, named by their template line."""
    import pstats

    stats = pstats.Stats(path).stats
    rows = []
    for (filename, line, _), (_, nc, _, ct, _) in stats.items():
        if filename not in debug_info:
            continue
        # The template line of the first statement at or after the function's definition.
        after = sorted((code, template) for template, code in debug_info[filename] if code >= line)
        template_line = after[0][1] if after else None
        source = ""
        if template_line is not None:
            with contextlib.suppress(OSError, IndexError):
                source = Path(filename).read_text(encoding="utf-8").splitlines()[template_line - 1].strip()
        short = filename.split("/templates/", 1)[-1]
        rows.append((ct, nc, f"{short}:{template_line}", source[:90].replace("|", "\\|").replace("`", "'")))
    return sorted(rows, reverse=True)[:top]


def _in(suffix: str, function: str):
    return lambda filename, name: name == function and filename.replace("\\", "/").endswith(suffix)


# Inclusive time of the parts of a lesson request in the profile: (label, which functions, how to add them up:
# "sum" over the matches, or "max" for nested ones such as a template's macros, where the outermost holds the rest).
LESSON_PARTS = [
    ("the whole request inside Flask", _in("flask/app.py", "wsgi_app"), "sum"),
    ("the view: content.views.lesson", _in("ibm_lms/content/views.py", "lesson"), "sum"),
    ("service.lesson_page (reads, the view's write and commit, the exercises)",
     _in("ibm_lms/content/service.py", "lesson_page"), "sum"),
    ("  learning.view_lesson (the progress rows)", _in("ibm_lms/content/learning.py", "view_lesson"), "sum"),
    ("  the commit (db.session.commit)", _in("sqlalchemy/orm/scoping.py", "commit"), "sum"),
    ("  service._exercise_view (last answers, items)", _in("ibm_lms/content/service.py", "_exercise_view"), "sum"),
    ("  learning.standing (the trainee's progress)", _in("ibm_lms/content/learning.py", "standing"), "sum"),
    ("  SQL statements (the DBAPI cursor's execute)",
     lambda filename, name: (name == "execute" and filename.replace("\\", "/").endswith("psycopg/cursor.py"))
     or (filename == "~" and "'execute' of 'sqlite3.Cursor'" in name), "sum"),
    ("render_template (Jinja: the page's HTML)", _in("flask/templating.py", "render_template"), "sum"),
    ("  the exercises (content/_exercise.html, outermost macro)", _in("templates/content/_exercise.html", "macro"),
     "max"),
    ("  the interface's texts: {{ _(…) }} (Jinja i18n → flask_babel)", _in("jinja2/ext.py", "_gettext_alias"), "sum"),
    ("  views.course_html (course links in the lesson HTML)", _in("ibm_lms/content/views.py", "course_html"), "sum"),
    ("  url_for (the page's links)", _in("flask/helpers.py", "url_for"), "sum"),
    ("session saved (save_session)", _in("ibm_lms/tenancy/session_transport.py", "save_session"), "sum"),
    ("session opened (open_session)", _in("ibm_lms/tenancy/session_transport.py", "open_session"), "sum"),
]


def lesson_parts(path: str) -> list[tuple[str, float, int]]:
    import pstats

    stats = pstats.Stats(path).stats
    found = []
    for label, matches, mode in LESSON_PARTS:
        hits = [(ct, nc) for (filename, _, name), (_, nc, _, ct, _) in stats.items() if matches(filename, name)]
        if mode == "max" and hits:
            found.append((label, *max(hits)))
        else:
            found.append((label, sum(ct for ct, _ in hits), sum(nc for _, nc in hits)))
    return found


# --------------------------------------------------------------------------- report


def machine(databases: tuple[str, ...], rev: str, commit: str) -> dict:
    import psutil

    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    pg_version = "not used"
    if "postgresql" in databases:
        import psycopg

        with psycopg.connect(host=PG["host"], port=PG["port"], user=PG["user"], dbname="postgres",
                             connect_timeout=10) as connection:
            pg_version = connection.execute("show server_version").fetchone()[0]
    from importlib.metadata import version

    libs = ", ".join(f"{name} {version(name)}" for name in
                     ("Flask", "gunicorn", "SQLAlchemy", "psycopg", "Jinja2", "markdown-it-py", "nh3", "marshmallow"))
    subject = run_command(["git", "-C", str(ROOT), "log", "-1", "--format=%s", commit], cwd=ROOT).strip()
    return {"cores": os.cpu_count(), "cpu": cpu_model, "memory": f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
            "os": f"{pyplatform.system()} {pyplatform.release()}", "host": socket.gethostname(),
            "python": pyplatform.python_version(), "postgres": pg_version, "sqlite": sqlite3.sqlite_version,
            "libraries": libs, "rev": rev, "commit": commit, "subject": subject, "fingerprint": source_fingerprint()}


def _range(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    low, middle, high = (_fmt(f(values) * scale, digits) for f in (min, median, max))
    return f"{middle} ({low}–{high})"


def load_section(results: LoadResults) -> list[str]:
    pg = results.database == "postgresql"
    rows = [("load (each in a fresh process)", "runs", "seconds: median (min–max)", "reading + checking the files, s",
             "fingerprints, s", "the rest (database), s", "process CPU, s", "PostgreSQL CPU, s", "INSERT", "UPDATE",
             "DELETE", "SELECT", "result")]
    for label, runs in (("first load, fresh database", results.first), ("unchanged reload", results.unchanged),
                        ("reload, one lesson changed", results.changed)):
        seconds = [r["seconds"] for r in runs]
        read = median([r["read"] for r in runs])
        fingerprint = median([r["fingerprint"] for r in runs])
        rest = median([r["seconds"] - r["read"] - r["fingerprint"] for r in runs])
        statements = runs[0]["statements"]
        same = all(r["statements"] == statements for r in runs)
        report = runs[0]["report"]
        outcome = f"{report['created']} new, {report['updated']} updated, {report['unchanged']} unchanged"
        if "grown" in runs[0]:
            outcome += "; +1 lesson version, +1 course version, nothing else"
        if label == "unchanged reload":
            outcome += "; every table identical (row digests)"
        rows.append((label, len(runs), _range(seconds), _fmt(read), _fmt(fingerprint), _fmt(rest),
                     _fmt(median([r["cpu"] for r in runs])),
                     _fmt(median([r["pg_cpu"] for r in runs])) if pg else "n/a",
                     *(str(statements.get(v, 0)) + ("" if same else "*") for v in (*WRITES, "SELECT")), outcome))
    for label, values in (("`ibm-lms content load`, fresh database (wall, with start-up)", results.cli_first),
                          ("`ibm-lms content load`, unchanged (wall, with start-up)", results.cli_unchanged)):
        rows.append((label, len(values), _range(values), "", "", "", "", "", "", "", "", "", ""))
    lines = _md(rows)
    share = [r["read"] / r["seconds"] for r in results.unchanged]
    lines += ["", f"Reading and checking the files is {median(share) * 100:.0f}% of the unchanged reload (median of the "
              f"runs) and {median([r['read'] / r['seconds'] for r in results.first]) * 100:.0f}% of the first load; the "
              f"database's part of the unchanged reload is {results.unchanged[0]['statements'].get('SELECT', 0)} "
              "SELECT statements (the stored courses with their fingerprints, and those to withdraw) and no write."]
    first = results.first[0]["statements"]
    executemany = {k: v for k, v in first.items() if k.endswith("(executemany)")}
    if executemany:
        lines += ["", "Of the first load's statements, sent as executemany: "
                  + ", ".join(f"{k.split()[0]} {v}" for k, v in executemany.items()) + "."]
    return lines


def check_section(check: CheckResults) -> list[str]:
    one = check.child[0]
    rows = [("`content check`", "runs", "seconds: median (min–max)"),
            ("service.check in a fresh process (the command's work, no start-up)", len(check.child),
             _range([c["seconds"] for c in check.child])),
            ("`ibm-lms content check` (wall, with start-up)", len(check.cli), _range(check.cli)),
            ("`ibm-lms content --help` (the command's start-up alone)", len(check.startup), _range(check.startup))]
    profile = analyse_profile(check.profile_path)
    total = profile["total"]
    lines = [f"It reads and checks {one['courses']} courses, {one['lessons']} lessons in {one['lesson_files']} lesson "
             f"files (all locales), {one['exercises']} exercises ({one['warnings']} warnings, no errors).", "",
             *_md(rows), "",
             f"cProfile of one `content check` in a fresh process ({_fmt(check.profile_seconds)} s under the profiler; "
             f"`{check.profile_path}`). Own time by package (C functions counted for their callers):", "",
             *_md([("package", "own time, s", "share"),
                   *((name, _fmt(t), f"{t / total * 100:.0f}%") for t, name in profile["packages"][:8])]),
             "", "Top functions by own time:", "",
             *_md([("function", "calls", "own time, s", "share"),
                   *((f"`{label}`", nc, _fmt(t, 3), f"{t / total * 100:.0f}%") for t, label, nc in profile["own"][:10])]),
             "", "Top functions by inclusive time (below `service.check`):", "",
             *_md([("function", "calls", "inclusive, s"),
                   *((f"`{label}`", nc, _fmt(t, 3)) for t, label, nc in _below(profile["cumulative"], "read_all")[:12])])]
    return lines


def _below(cumulative: list[tuple], anchor: str) -> list[tuple]:
    """Inclusive-time rows from the first one whose label names `anchor` on (drops the callers above it)."""
    for index, (_, label, _) in enumerate(cumulative):
        if f"({anchor})" in label:
            return cumulative[index:]
    return cumulative


def serve_section(result: ServeResults) -> list[str]:
    pg = result.database == "postgresql"
    m = result.measured
    rows = [("request", "bytes", "requests", "wall ms: median", "p95", "server CPU ms/request",
             "PostgreSQL CPU ms/request", "connections opened")]
    for kind in KINDS:
        for name in (kind, f"{kind} static"):
            x = m[name]
            label = {"lesson": "lesson page", "course": "course page", "catalogue": "catalogue"}.get(name) or (
                f"static file, same size as the {kind.replace('catalogue', 'catalogue page')}")
            rows.append((label, _fmt(x.bytes, 0), x.count, _fmt(median(x.times) * 1000), _fmt(p95(x.times) * 1000),
                         f"**{_fmt(x.cpu_ms())}**", _fmt(x.pg_ms()) if pg else "n/a", x.opened))
    ratio_rows = [("page / static file of the same size", "wall median", "wall p95", "**server CPU**",
                   "server CPU, per round (min–max)", "server + PostgreSQL CPU")]
    for kind in KINDS:
        page, static = m[kind], m[f"{kind} static"]
        per_round = [_div(page.cpu_ms([a]), static.cpu_ms([b])) for a, b in zip(page.batches, static.batches, strict=True)]
        per_round = [r for r in per_round if r is not None]
        combined = _div(page.cpu_ms() + page.pg_ms(), static.cpu_ms() + static.pg_ms()) if pg else None
        ratio_rows.append((kind.replace("lesson", "lesson page").replace("course", "course page"),
                           _fmt(_div(median(page.times), median(static.times))),
                           _fmt(_div(p95(page.times), p95(static.times))),
                           f"**{_fmt(_div(page.cpu_ms(), static.cpu_ms()))}**",
                           f"{min(per_round):.2f}–{max(per_round):.2f}" if per_round else "n/a",
                           _fmt(combined) if pg else "n/a"))
    return [*_md(rows), "", "Ratios, same run:", "", *_md(ratio_rows)]


def profile_section(result: ServeResults) -> list[str]:
    p = result.profile
    if p is None:
        return []
    lesson, static = p["lesson"], p["static"]
    n = p["requests"]
    rows = [("per request, CPU (no profiler)", "lesson page", "static file, same size"),
            ("the worker (psutil), ms", _fmt(lesson["worker_cpu_ms"]), _fmt(static["worker_cpu_ms"])),
            ("inside the app (the wrapper's process_time), ms", _fmt(lesson["in_app_cpu_ms"]),
             _fmt(static["in_app_cpu_ms"])),
            ("gunicorn's own part (the difference), ms", _fmt(lesson["worker_cpu_ms"] - lesson["in_app_cpu_ms"]),
             _fmt(static["worker_cpu_ms"] - static["in_app_cpu_ms"]))]
    known = 0.0
    for label, _ in TIMED_PARTS:
        value = lesson["parts"].get(label)
        if value is not None and not label.startswith("  "):
            known += value
        rows.append((label, _fmt(value) if value is not None else "not found", ""))
    rows.append(("the rest of the app (Flask's dispatch, after-request headers, …), ms",
                 _fmt(lesson["in_app_cpu_ms"] - known), ""))
    rows.append(("wall, median (no profiler), ms", _fmt(lesson["wall_ms"]), _fmt(static["wall_ms"])))
    prof = p["profile"]
    analysis = prof["analysis"]
    total = analysis["total"]
    parts = prof["parts"]
    whole = parts[0][1] or total
    lines = [f"### {LABELS[result.database]}: where a lesson request's server time goes", "",
             f"One gunicorn worker serving `profiled_app()` of bench/content.py (ibm_lms.wsgi:app in a wrapper), "
             f"{n} GETs of the lesson per measurement after 100 unmeasured. First without a profiler: the CPU of "
             "the request and of its main parts, each timed with process_time around the call (inclusive):", "",
             *_md(rows), "",
             f"Then cProfile (wall clock: the request is mostly CPU, wall ≈ CPU + the database's answers) over {n} "
             "more GETs: "
             f"`{prof['path']}`. Under the profiler a lesson request took {_fmt(prof['in_app_cpu_ms'])} ms CPU in the "
             f"app ({_fmt(_div(prof['in_app_cpu_ms'], lesson['in_app_cpu_ms']), 1)} times as much as without): "
             "call-heavy code (Jinja, werkzeug's proxies, the ORM) is inflated the most, so read the shares as an "
             "order, the table above for the amounts.", "",
             *_md([("part of the request in the profile (inclusive; indented: inside the one above)", "calls/request",
                    "ms/request", "share"),
                   *((label.replace("  ", "↳ ", 1) if label.startswith("  ") else label, _fmt(calls / n, 1),
                      _fmt(t / n * 1000), f"{t / whole * 100:.0f}%") for label, t, calls in parts)]),
             "", "The template code with most inclusive time (compiled Jinja functions, named by the template line "
             "they start at):", "",
             *_md([("template line", "source", "calls/request", "ms/request", "share"),
                   *((f"`{where}`", f"`{source}`" if source else "", _fmt(nc / n, 1), _fmt(ct / n * 1000),
                      f"{ct / whole * 100:.0f}%") for ct, nc, where, source in p.get("templates", []))]),
             "", "Own time by package (C functions of sqlite3, psycopg, nh3… as such; other C calls for their "
             "callers):", "",
             *_md([("package", "ms/request", "share"),
                   *((name, _fmt(t / n * 1000), f"{t / total * 100:.0f}%") for t, name in analysis["packages"][:10])]),
             "", "Top functions by own time:", "",
             *_md([("function", "calls/request", "ms/request", "share"),
                   *((f"`{label}`", _fmt(nc / n, 1), _fmt(t / n * 1000, 3), f"{t / total * 100:.0f}%")
                     for t, label, nc in analysis["own"][:12])]), ""]
    return lines


def sweep_section(result: ServeResults, lesson: str) -> list[str]:
    sweep = result.sweep
    if not sweep:
        return []
    lessons = result.survey.lessons
    cpu = {k: v["cpu_ms"] for k, v in sweep.items()}
    ranked = sorted(cpu, key=cpu.get, reverse=True)
    static = result.measured["lesson static"].cpu_ms()
    rows = [("lesson", "server CPU ms/request", "÷ the static file's", "wall ms: median", "HTML bytes", "exercises",
             "figures")]
    shown = list(dict.fromkeys([*ranked[:5], lesson, ranked[len(ranked) // 2], ranked[-1]]))
    for key in shown:
        tag = " (measured above)" if key == lesson else (" (median)" if key == ranked[len(ranked) // 2] else "")
        rows.append((f"`{key}`{tag}", _fmt(cpu[key]), _fmt(_div(cpu[key], static), 1), _fmt(sweep[key]["wall_ms"]),
                     lessons[key]["bytes"], lessons[key]["exercises"], lessons[key]["figures"]))
    with_exercises = [cpu[k] for k in cpu if lessons[k]["exercises"]]
    without = [cpu[k] for k in cpu if not lessons[k]["exercises"]]
    values = list(cpu.values())
    split = (f"; lessons with exercises: median {_fmt(median(with_exercises))} ms ({len(with_exercises)}), without: "
             f"{_fmt(median(without))} ms ({len(without)})") if with_exercises and without else ""
    return [f"Every lesson, {len(sweep)} of them, after the rounds: {result.sweep_requests} GETs each after 2 "
            f"unmeasured (server CPU per lesson: min {_fmt(min(values))}, median {_fmt(median(values))}, max "
            f"{_fmt(max(values))} ms; `{lesson}` ranks {ranked.index(lesson) + 1} of {len(ranked)}{split}). CPU comes "
            "in 10 ms clock ticks, so a few GETs give a coarse figure. The ratio column divides by the "
            "static file of the measured lesson's size; the most expensive lessons, the measured one, the median "
            "one and the cheapest:", "", *_md(rows), ""]


def _spread(values: list[int]) -> str:
    return f"{min(values)} / {int(median(values))} / {max(values)}"


def bytes_section(results: list[ServeResults]) -> list[str]:
    s = results[0].survey
    rows = [("page type", "count", "HTML bytes: min / median / max", "biggest", "gzip -6 bytes (if it were served "
             "compressed): median", "response header bytes: median")]

    def row(label: str, entries: dict[str, dict], key: str = "bytes"):
        values = [e[key] for e in entries.values()]
        biggest = max(entries, key=lambda k: entries[k][key])
        rows.append((label, len(entries), _spread(values), f"`{biggest}` ({entries[biggest][key]})",
                     int(median([e["gzip"] for e in entries.values()])),
                     int(median([e["headers"] for e in entries.values()]))))

    rows.append(("catalogue, new trainee", 1, str(s.catalogue["bytes"]), "", s.catalogue["gzip"],
                 s.catalogue["headers"]))
    rows.append(("catalogue, every lesson viewed", 1, str(s.catalogue_later["bytes"]), "",
                 s.catalogue_later["gzip"], s.catalogue_later["headers"]))
    row("course page, new trainee", s.courses)
    row("course page, every lesson viewed", s.courses_later)
    row("lesson page (HTML)", s.lessons)
    with_figures = {k: v | {"total": v["bytes"] + v["figure_bytes"]} for k, v in s.lessons.items()}
    values = [v["total"] for v in with_figures.values()]
    biggest = max(with_figures, key=lambda k: with_figures[k]["total"])
    rows.append(("lesson page + its figures", len(values), _spread(values),
                 f"`{biggest}` ({with_figures[biggest]['total']}: {with_figures[biggest]['figures']} figures)", "", ""))
    if s.figures:
        rows.append(("figure (SVG)", len(s.figures), _spread(list(s.figures.values())), "", "", ""))
    row("glossary", s.glossaries)
    for path, asset in s.assets.items():
        rows.append((f"`{path}`", 1, str(asset["bytes"]), "", asset["gzip"], asset["headers"]))
    encodings = set().union(*(r.survey.encodings for r in results))
    figure_counts = [v["figures"] for v in s.lessons.values()]
    lines = [*_md(rows), "",
             "- Lessons in English (the launch's locale), as a signed-in trainee sees them; "
             f"{sum(1 for c in figure_counts if c)} of {len(figure_counts)} lessons show figures "
             f"({sum(figure_counts)} in all, {len(s.figures)} distinct).",
             "- Compression: " + ("the server answered with Content-Encoding " + ", ".join(sorted(encodings))
                                  if encodings else "**none**: asked with `Accept-Encoding: gzip, br`, the server "
                                  "(gunicorn + Flask, no proxy) sent every page, figure and the CSS uncompressed. The "
                                  "gzip column is what `gzip -6` would make of the same bytes, for reference only."),
             "- Static files are cached by browsers: " + "; ".join(f"`{p}`: {a['cache']}" for p, a in s.assets.items())
             + "; figures: public, max-age=31536000, immutable (their URL is their SHA-256)."]
    sizes_by_db = {LABELS[r.database]: (r.survey.catalogue["bytes"], sum(v["bytes"] for v in r.survey.lessons.values()))
                   for r in results}
    if len({v for v in sizes_by_db.values()}) > 1:
        lines.append(f"- The sizes differ slightly between databases: {sizes_by_db} (figures above: "
                     f"{LABELS[results[0].database]}).")
    return lines


def summary(loads: list[LoadResults], check: CheckResults | None, served: list[ServeResults]) -> list[str]:
    lines = []
    if loads:
        def each(pick) -> str:
            return ", ".join(f"{LABELS[r.database]} {pick(r)}" for r in loads)

        lines.append("- `content load`, all courses and locales, in a fresh process: first load "
                     + each(lambda r: f"{median([x['seconds'] for x in r.first]):.2f} s")
                     + "; unchanged reload " + each(lambda r: f"{median([x['seconds'] for x in r.unchanged]):.2f} s")
                     + ", with 0 INSERT, 0 UPDATE, 0 DELETE in every run; one lesson changed "
                     + each(lambda r: f"{median([x['seconds'] for x in r.changed]):.2f} s")
                     + " (one new lesson version, one new course version). Reading and checking the files is "
                     + each(lambda r: f"{median([x['read'] / x['seconds'] for x in r.unchanged]) * 100:.0f}%")
                     + " of the unchanged reload.")
    if check is not None:
        profile = analyse_profile(check.profile_path)
        top = profile["packages"][0]
        lines.append(f"- `content check`: {median([c['seconds'] for c in check.child]):.2f} s of work in a fresh process "
                     f"(the command: {median(check.cli):.2f} s wall, of which about {median(check.startup):.2f} s "
                     f"start-up); {top[1]} has {top[0] / profile['total'] * 100:.0f}% of its own time"
                     + (" (the Markdown of every lesson file in every locale)." if top[1] == "markdown_it" else "."))
    for result in served:
        m = result.measured
        ratios = "; ".join(
            f"{kind} {_fmt(_div(m[kind].cpu_ms(), m[kind + ' static'].cpu_ms()))} "
            f"({_fmt(m[kind].cpu_ms())} / {_fmt(m[kind + ' static'].cpu_ms())} ms; wall median "
            f"{_fmt(_div(median(m[kind].times), median(m[kind + ' static'].times)))})" for kind in KINDS)
        lines.append(f"- {LABELS[result.database]}, server CPU per request, page / static file of the same size: "
                     f"{ratios}.")
        if result.sweep:
            values = [v["cpu_ms"] for v in result.sweep.values()]
            lines.append(f"  Over all {len(values)} lessons: median {_fmt(median(values))} ms, "
                         f"{_fmt(_div(median(values), m['lesson static'].cpu_ms()), 1)} times the static file of the "
                         "measured lesson's size.")
        p = result.profile
        if p:
            parts = p["lesson"]["parts"]
            render = parts.get(TIMED_PARTS[3][0])
            service_part = parts.get(TIMED_PARTS[0][0])
            view = parts.get(TIMED_PARTS[1][0])
            profiled = {label: (t, calls) for label, t, calls in p["profile"]["parts"]}
            whole = p["profile"]["parts"][0][1] or 1.0
            texts = next(((t, c) for label, (t, c) in profiled.items() if "interface's texts" in label), (0, 0))
            macros = [(where, source, nc / p["requests"], ct / whole * 100) for ct, nc, where, source in p["templates"]
                      if source.startswith("{% macro")][:2]
            lines.append(
                f"  Lesson request, {_fmt(p['lesson']['in_app_cpu_ms'])} ms CPU in the app: render_template "
                f"{_fmt(render)} ms, service.lesson_page {_fmt(service_part)} ms (recording the view "
                f"{_fmt(view)} ms). In the profile, {texts[1] / p['requests']:.0f} interface texts translated per "
                f"request take {texts[0] / whole * 100:.0f}% of it; the heaviest macros: "
                + ", ".join(f"`{source}` ({where}, {calls:.0f} calls, {share:.0f}%)" for where, source, calls, share
                            in macros) + ".")
    return lines


def write_results(path: Path, args, info: dict, started: dt.datetime, loads: list[LoadResults],
                  check: CheckResults | None, served: list[ServeResults], load_avg: tuple, command: str,
                  courses: list[dict]) -> str:
    lines = ["# Content benchmark: `content load`, pages against a static file, bytes per page", "",
             f"One run of `bench/content.py` on {started.strftime('%Y-%m-%d %H:%M UTC')}, host `{info['host']}` "
             f"({info['cores']} cores; load average {load_avg[0]} at the start, {load_avg[1]} at the end: "
             "other work shared the host). "
             f"Code: `{info['rev']}` = `{info['commit'][:10]}` ({info['subject']}), measured from a `git archive` "
             f"export of that commit (its own courses/ and compiled catalogs; whatever the checkout holds uncommitted "
             f"is not measured); ibm_lms source fingerprint {info['fingerprint']} (sha256 of ibm_lms/**/*.py, *.html, "
             "*.mako). "
             f"{len(courses)} courses, {sum(len(c['lessons']) for c in courses)} lessons.", ""]
    found = summary(loads, check, served)
    if found:
        lines += ["## Summary", "", *found, ""]
    if loads:
        lines += ["## 1. `content load` and `content check`", "",
                  f"Every load runs in a fresh Python process, as the `ibm-lms content load` command does (the "
                  f"loader's per-process parse cache starts empty); the figure is `service.load` alone, without "
                  f"the interpreter's start-up and imports (the command's wall time is below it). {args.runs} runs, each "
                  f"on a fresh database (schema by `flask_migrate.upgrade`): first load, unchanged reload, then a "
                  f"reload after one sentence was added to `{args.lesson}` (English) in the benchmark's copy of "
                  "courses/. Statements counted with a SQLAlchemy `before_cursor_execute` listener (BEGIN and "
                  "COMMIT are not cursor statements; * marks counts that differed between runs).", ""]
        for results in loads:
            lines += [f"### {LABELS[results.database]}", "", *load_section(results), ""]
        if check is not None:
            lines += ["### `content check`", "", *check_section(check), ""]
    if served:
        lines += ["## 2. Pages against a static file of the same size, same server, one run", "",
                  f"gunicorn, {WORKERS} sync workers, `ibm_lms.wsgi:app`, on loopback, its own fresh database. One "
                  "trainee signed in by a real LTI 1.3 launch; its session cookie goes with every request (pages and "
                  "static files alike, as a browser sends it). Lesson: "
                  f"`{args.lesson}` (a view is recorded on every GET: a small write per request); course page: "
                  f"`{args.lesson.split('/')[0]}`; the catalogue. Each page's static twin is the page's own HTML, "
                  "byte for byte, written to `ibm_lms/static/bench-<size>.html` and served by the same gunicorn "
                  f"through Flask's static route (deleted at the end). {args.requests} GETs of each, one at a time, "
                  f"in {args.rounds} rounds in which page and file take turns (the order swaps every round), after "
                  "30 unmeasured GETs of each. http.client asks for keep-alive, but gunicorn's sync workers close "
                  "every connection, so each request opened one (\"connections opened\").", "",
                  "Server CPU: user+system of the gunicorn master and workers over each batch (psutil), per request. "
                  "Wall: the client's time from sending the request to the last byte.", ""]
        for result in served:
            lines += [f"### {LABELS[result.database]}", "", *serve_section(result), "",
                      *sweep_section(result, args.lesson)]
        profiled = [r for r in served if r.profile]
        if profiled:
            lines += ["## Where the lesson page's server time goes", "",
                      f"Profiled because the lesson page costs more than {PROFILE_THRESHOLD:.0f} times the server CPU of "
                      "its static file (or `--profile always`). cProfile inflates call-heavy code (Jinja, SQLAlchemy's "
                      "ORM) more than C calls, so read the shares as an order, not as exact figures.", ""]
            for result in profiled:
                lines += profile_section(result)
        lines += ["## 3. Bytes per page type", "", *bytes_section(served), ""]
    lines += ["## Machine", "",
              f"- {info['cores']} cores: {info['cpu']}, {info['memory']} RAM, {info['os']}",
              f"- Python {info['python']}, PostgreSQL {info['postgres']}, SQLite {info['sqlite']}",
              f"- {info['libraries']}", "", "## Reproduce", "", "```sh",
              "scripts/setup bench && scripts/setup test   # gunicorn, psutil; psycopg", command, "```", "",
              "Needs a PostgreSQL server on 127.0.0.1:5432 (user `postgres`, trust auth) for the PostgreSQL part; "
              f"the database `{PG_DATABASE}` is dropped and recreated by each run and dropped at its end. The script "
              "rewrites this file.", ""]
    text = "\n".join(lines)
    path.write_text(text)
    return text


# --------------------------------------------------------------------------- main


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # runs every finally: servers stopped, static files deleted, databases dropped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("both", *DATABASES), default="both")
    parser.add_argument("--requests", type=int, default=1000,
                        help="GETs of each page and of each static file (default 1000)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds in which page and static file take turns (default 5)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each content load and check (default 5)")
    parser.add_argument("--lesson", default="document-security/check-digits",
                        help="<course>/<lesson>: the lesson measured and the one changed for the reload")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="profile a worker serving the lesson "
                        f"(auto: if lesson / static CPU > {PROFILE_THRESHOLD:.0f})")
    parser.add_argument("--sweep", type=int, default=30,
                        help="GETs of every one of the lessons, to see whether --lesson is typical (default 30; 0: none)")
    parser.add_argument("--only", choices=("load", "pages"), default=None, help="run one part only")
    parser.add_argument("--rev", default="HEAD", help="the commit measured (default HEAD), from a git archive export")
    parser.add_argument("--results", type=Path, default=BENCH / "CONTENT_RESULTS.md")
    parser.add_argument("--child", choices=tuple(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        for key in [k for k in os.environ if k.startswith("IBM_LMS_")]:
            del os.environ[key]
        print(JSON_MARK + json.dumps(_run_child(args.child, json.loads(args.spec))), flush=True)
        return 0
    if not (1 <= args.rounds <= 100 and args.rounds <= args.requests <= 1_000_000 and 1 <= args.runs <= 50
            and 0 <= args.sweep <= 10_000):
        parser.error("--requests, --rounds or --runs out of range")
    if "/" not in args.lesson:
        parser.error("--lesson is <course>/<lesson>")
    for key in [k for k in os.environ if k.startswith("IBM_LMS_")]:
        del os.environ[key]  # nothing of the caller's configuration reaches the tool
    signal.signal(signal.SIGTERM, _terminate)
    databases = DATABASES if args.database == "both" else (args.database,)
    command = (f".venv/bin/python bench/content.py --database {args.database} --requests {args.requests} "
               f"--rounds {args.rounds} --runs {args.runs} --sweep {args.sweep} --lesson {args.lesson} --rev {args.rev}"
               + (f" --only {args.only}" if args.only else ""))

    def log(message: str) -> None:
        print(message, flush=True)

    started = dt.datetime.now(dt.UTC)
    load_start = os.getloadavg()
    created_static: list[Path] = []
    platform: Platform | None = None
    loads: list[LoadResults] = []
    served: list[ServeResults] = []
    check = None
    try:
        with tempfile.TemporaryDirectory(prefix="ibm-lms-content-bench-") as tmp:
            workdir = Path(tmp)
            try:
                commit, tree = export_tree(args.rev, workdir)
                sys.path.insert(0, str(tree))  # the driver's simulated platform comes from the export too
                info = machine(databases, args.rev, commit)
                log(f"measuring {args.rev} = {commit[:10]} from an export in {tree}")
                # The export's courses/ is the benchmark's own copy: the loads, the change of one lesson and
                # the served tool all use it.
                courses_dir = tree / "courses"
                courses = read_courses(courses_dir)
                lesson_file(courses_dir, args.lesson)
                if args.only != "pages":
                    log("content check: timing and profiling")
                    check = measure_check(courses_dir, args.runs, workdir)
                    for database in databases:
                        loads.append(measure_loads(database, courses_dir, args.lesson, args.runs, workdir, log))
                if args.only != "load":
                    platform = Platform()
                    for database in databases:
                        served.append(serve_and_measure(database, courses_dir, courses, args.lesson, args.requests,
                                                        args.rounds, args.profile, args.sweep, workdir, platform,
                                                        created_static, log))
                if source_fingerprint() != info["fingerprint"]:
                    raise BenchError(f"ibm_lms in {tree} changed while the benchmark ran")
            finally:
                for path in created_static:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                if platform is not None:
                    platform.stop()
                if "postgresql" in databases:
                    with contextlib.suppress(Exception):
                        drop_pg_database()
    except BenchError as error:
        print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr)
        return 1
    text = write_results(args.results, args, info, started, loads, check, served,
                         (f"{load_start[0]:.2f}", f"{os.getloadavg()[0]:.2f}"), command, courses)
    print()
    print(text)
    print(f"written to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
