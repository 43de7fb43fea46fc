"""Launch benchmark (login, launch, first page): ours before and after, a minimal pylti1p3 tool, the floor, bare Flask.

    .venv/bin/python bench/run.py [--database both|postgresql|sqlite] [--flows 2000] [--warmup 100]
                                  [--before 0c97074] [--after HEAD]

One run measures, per database and in rounds that alternate them, with the same driver and the
same platform:
  (a)  hello    bench/hello_app.py       one GET /hello per flow (the cost of a bare request)
  (b)  minimal  bench/minimal_tool.py    pylti1p3's Flask example style, library defaults; its page
                                         reads the course list from its database
  (c)  after    ibm_lms.wsgi:app         our tool at --after (default HEAD), from a git worktree
  (c0) before   ibm_lms.wsgi:app         our tool at --before (default 0c97074), from a git worktree
  (d)  floor    bench/floor_tool.py      only the work no tool can skip, on the same stack; its page
                                         verifies the session cookie and renders the catalogue kept
                                         in memory

Each app runs as `gunicorn -w 2` (sync workers) on loopback, with its own database: a
PostgreSQL database of its own, or on SQLite a file of its own (ours: the tool's default,
IBM_LMS_DATABASE_URL unset). A flow is what a trainee's browser does: the OIDC login (GET, 302
to the platform), the launch (POST id_token+state, 303 to the first page) and the first page
(GET of the 303's target with the cookies the browser then holds; 200, checked to be the
catalogue). The platform's authorisation step is played in the driver (it signs the id token
with the nonce the tool sent) between the timed steps, so only the tool's three requests are
timed: every login, then every launch, then every page. The platform's JWKS is served over
HTTP by a separate process that counts fetches.

Our tool runs from two git worktrees of this repository (created under --worktrees, removed at
the end), with PYTHONPATH pointing at the worktree, so that edits to the checkout during the run
change nothing measured; every worker reports where it imported ibm_lms from, and the run stops
if that is not its worktree.

Reported per database and app: flows/s (wall clock), server CPU per flow (user+system of the
gunicorn master and workers) for the login, the launch, the page and in total, PostgreSQL CPU
per flow (all postgres processes), driver CPU per flow, page size, JWKS fetches, and the ratios
ours / floor, ours / minimal, after / before and each app / a bare request. Prints the tables
and writes bench/RESULTS.md. Exits non-zero if any flow fails; every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import email.utils
import html
import http.client
import itertools
import json
import multiprocessing
import os
import platform as pyplatform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import psutil
from markupsafe import escape

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
if not (BIN / "gunicorn").exists():
    BIN = ROOT / ".venv" / "bin"

HOST = "127.0.0.1"  # loopback only, everywhere
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
DB_PREFIX = "ibm_lms_bench_"
CLIENT_ID = "bench-client-1"
DEPLOYMENT_ID = "bench-deployment-1"
PROBE_COOKIE = "ibm_lms_cookies"
PAGE_PATH = "/courses/"
REQUEST_TIMEOUT = 15.0
START_TIMEOUT = 30.0
WORKERS = 2
DATABASES = ("postgresql", "sqlite")
DATABASE_LABELS = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
STEPS = ("login", "launch", "page")
# The goals of the issue, as ratios of server CPU per flow measured in the same run.
GOAL_OURS_OVER_FLOOR = 1.30


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------- platform (own process)


def _serve_platform(jwks_json: str, port_queue, fetches, stop_event) -> None:
    """The platform's JWKS endpoint, counting every fetch. Runs in a child process."""
    import logging

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per fetch

    def app(environ, start_response):
        request = Request(environ)
        if request.path == "/mod/lti/certs.php":
            with fetches.get_lock():
                fetches.value += 1
            response = Response(jwks_json, mimetype="application/json")
            response.headers["Cache-Control"] = "max-age=3600"
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)

    server = make_server(HOST, 0, app, threaded=True)
    port_queue.put(server.server_port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stop_event.wait(3600 * 3)  # bounded: the driver stops us long before
    server.shutdown()


class PlatformProcess:
    """The platform: a simulated Moodle (ibm_lms.demo.platform of the after worktree) whose JWKS a child process serves."""

    def __init__(self) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.fetches = self.ctx.Value("i", 0)
        self._stop = self.ctx.Event()
        self.process = None
        self.port = None
        self.sim = None

    def start(self) -> PlatformProcess:
        from ibm_lms.demo.platform import SimulatedPlatform

        # The issuer must be known before the key set is served; reserve the port via the child.
        self.sim = SimulatedPlatform(issuer="placeholder", client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID)
        queue = self.ctx.Queue()
        self.process = self.ctx.Process(
            target=_serve_platform, args=(json.dumps(self.sim.jwks()), queue, self.fetches, self._stop), daemon=True
        )
        self.process.start()
        self.port = queue.get(timeout=START_TIMEOUT)
        self.sim.issuer = self.base_url
        return self

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    # Where a Moodle 4.x site serves its LTI 1.3 endpoints.
    @property
    def auth_login_url(self) -> str:
        return self.base_url + "/mod/lti/auth.php"

    @property
    def token_url(self) -> str:
        return self.base_url + "/mod/lti/token.php"

    @property
    def keyset_url(self) -> str:
        return self.base_url + "/mod/lti/certs.php"

    def fetch_count(self) -> int:
        with self.fetches.get_lock():
            return self.fetches.value

    def stop(self) -> None:
        if self.process is None:
            return
        self._stop.set()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


# --------------------------------------------------------------------------- processes and CPU


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def run_command(args: list[str], env: dict | None = None, cwd: Path = ROOT) -> str:
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=180, check=False)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def process_cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


MODULE_CHECK = re.compile(r"bench-module-check pid=(\d+) ibm_lms=(\S+)")


class Gunicorn:
    """One app under `gunicorn -w 2` (sync workers), started and stopped by us only."""

    def __init__(self, name: str, module: str, port: int, env: dict, cwd: Path, log_dir: Path):
        self.name, self.module, self.port, self.env, self.cwd = name, module, port, env, cwd
        self.log_path = log_dir / f"gunicorn-{name}.log"
        self.popen: subprocess.Popen | None = None
        self.module_paths: dict[int, str] = {}

    def start(self, ready_path: str) -> Gunicorn:
        args = [str(BIN / "gunicorn"), "-w", str(WORKERS), "-k", "sync", "-b", f"{HOST}:{self.port}",
                "--log-level", "warning", self.module]
        self._log = self.log_path.open("w")
        self.popen = subprocess.Popen(args, cwd=self.cwd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        url = f"http://{HOST}:{self.port}{ready_path}"
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise BenchError(f"gunicorn ({self.name}) exited at start:\n{self.log_tail()}")
            try:
                # Any HTTP answer means a worker is serving; warm-up flows check the real thing.
                http_request("GET", url)
                if len(self.workers()) == WORKERS:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn ({self.name}) not ready within {START_TIMEOUT}s:\n{self.log_tail()}")

    def check_module_source(self, tree: Path) -> None:
        """Every worker must have imported ibm_lms from `tree` (bench/tool_wsgi.py logs where from)."""
        deadline = time.monotonic() + START_TIMEOUT
        pids = {p.pid for p in self.workers()}
        while True:
            found = {int(pid): path for pid, path in MODULE_CHECK.findall(self.log_path.read_text(errors="replace"))}
            if pids <= found.keys():
                break
            if time.monotonic() > deadline:
                raise BenchError(f"gunicorn ({self.name}): workers {sorted(pids - found.keys())} never said where "
                                 f"ibm_lms came from:\n{self.log_tail()}")
            time.sleep(0.1)
        root = tree.resolve()
        for pid in pids:
            if not Path(found[pid]).resolve().is_relative_to(root):
                raise BenchError(f"gunicorn ({self.name}) worker {pid} imported ibm_lms from {found[pid]}, not {root}")
            self.module_paths[pid] = found[pid]

    def master(self) -> psutil.Process:
        return psutil.Process(self.popen.pid)

    def workers(self) -> list[psutil.Process]:
        return self.master().children(recursive=True)

    def cpu(self) -> tuple[float, set[int]]:
        procs = [self.master(), *self.workers()]
        return sum(process_cpu(p) for p in procs), {p.pid for p in procs}

    def log_tail(self, lines: int = 40) -> str:
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
            for child in self.workers():
                child.kill()
            self.popen.kill()
            self.popen.wait(10)
        self._log.close()


def postgres_cpu() -> float:
    """CPU of the whole PostgreSQL server: live processes plus the postmaster's reaped children."""
    total = 0.0
    for proc in psutil.process_iter(["name", "username"]):
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


def host_cpu() -> tuple[float, float]:
    """(CPU seconds of the whole host, all cores, every process; seconds stolen by the hypervisor)."""
    times = psutil.cpu_times()
    busy = times.user + times.nice + times.system + getattr(times, "irq", 0.0) + getattr(times, "softirq", 0.0)
    return busy, getattr(times, "steal", 0.0)


def wait_for_quiet_host(max_percent: float, max_wait: float, label: str) -> None:
    """Waits (at most max_wait seconds) until the host's CPU, all processes, stays under max_percent of one
    core for two windows of 3 s in a row. Between rounds our own apps are idle, so what is left is other work."""
    deadline = time.monotonic() + max_wait
    quiet, said = 0, False
    while quiet < 2:
        before, _ = host_cpu()
        time.sleep(3.0)
        share = (host_cpu()[0] - before) / 3.0
        quiet = quiet + 1 if share * 100 <= max_percent else 0
        if time.monotonic() > deadline:
            print(f"[{label}] the host was not quiet within {max_wait:.0f}s; going on", flush=True)
            return
        if quiet == 0 and not said:
            print(f"[{label}] waiting for a quiet host (other work: {share * 100:.0f}% of one core)", flush=True)
            said = True


def driver_cpu(platform: PlatformProcess) -> float:
    total = process_cpu(psutil.Process())
    with contextlib.suppress(psutil.NoSuchProcess):
        total += process_cpu(psutil.Process(platform.process.pid))
    return total


# --------------------------------------------------------------------------- the browser


class FlowFailed(BenchError):
    pass


class CookieJar:
    """The cookies one browser holds for the tool's host: names, values and paths; expired ones dropped."""

    def __init__(self, initial: dict[str, str] | None = None):
        self.cookies: dict[str, tuple[str, str]] = {name: (value, "/") for name, value in (initial or {}).items()}

    def header_for(self, path: str) -> str:
        return "; ".join(f"{name}={value}" for name, (value, cookie_path) in self.cookies.items()
                         if _path_matches(path, cookie_path))

    def value(self, name: str) -> str | None:
        found = self.cookies.get(name)
        return None if found is None else found[0]

    def receive(self, set_cookie_headers: list[str], request_path: str) -> None:
        for header in set_cookie_headers:
            first, *attributes = header.split(";")
            name, _, value = first.partition("=")
            name, value = name.strip(), value.strip()
            options = {}
            for attribute in attributes:
                key, _, option = attribute.strip().partition("=")
                options[key.lower()] = option.strip()
            path = options.get("path") or "/"
            if not path.startswith("/"):
                path = request_path.rsplit("/", 1)[0] or "/"
            if _expired(options):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = (value, path)


def _path_matches(request_path: str, cookie_path: str) -> bool:
    if request_path == cookie_path or cookie_path == "/":
        return True
    prefix = cookie_path if cookie_path.endswith("/") else cookie_path + "/"
    return request_path.startswith(prefix)


def _expired(options: dict[str, str]) -> bool:
    if "max-age" in options:
        try:
            return int(options["max-age"]) <= 0
        except ValueError:
            return False
    if "expires" in options:
        try:
            return email.utils.parsedate_to_datetime(options["expires"]).timestamp() <= time.time()
        except (TypeError, ValueError):
            return False
    return False


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    text: str
    size: int


def http_request(method: str, url: str, *, jar: CookieJar | None = None,
                 form: dict[str, str] | None = None) -> Reply:
    """One request on a fresh connection, as gunicorn's sync workers close every connection anyway.

    http.client rather than requests: the driver shares the cores with the servers, and a
    lighter client leaves more of them to the apps being measured. Cookies go and come through
    `jar`, as a browser's would.
    """
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT)
    headers = {"User-Agent": "ibm-lms-bench", "Connection": "close"}
    if jar is not None:
        cookie_header = jar.header_for(parts.path or "/")
        if cookie_header:
            headers["Cookie"] = cookie_header
    body = None
    if form is not None:
        body = urlencode(form).encode("ascii")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers=headers)
        response = connection.getresponse()
        payload = response.read()
        set_cookies = response.headers.get_all("Set-Cookie") or []
        reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, set_cookies,
                      payload.decode("utf-8", "replace"), len(payload))
    finally:
        connection.close()
    if jar is not None:
        jar.receive(reply.set_cookies, parts.path or "/")
    return reply


def _fail(step: str, response: Reply, expected: int) -> FlowFailed:
    code = re.search(r'data-error-code="([^"]*)"', response.text or "")
    detail = f" error code {html.unescape(code.group(1))}" if code else ""
    body = (response.text or "")[:300].replace("\n", " ")
    return FlowFailed(f"{step}: expected {expected}, got {response.status}{detail}; body: {body}")


def _auth_request(location: str, platform: PlatformProcess, launch_url: str) -> tuple[str, str]:
    if not location.startswith(platform.auth_login_url + "?"):
        raise FlowFailed(f"login redirected to {location[:200]}, not the platform's auth URL")
    query = dict(parse_qsl(urlsplit(location).query))
    problems = platform.sim.authentication_request_problems(query, redirect_uri=launch_url)
    if problems:
        raise FlowFailed(f"the platform refuses the auth request's {', '.join(problems)}: {location[:300]}")
    return query["state"], query["nonce"]


# --------------------------------------------------------------------------- the targets


@dataclass
class PendingFlow:
    """A flow between its steps: the browser's cookies and what the platform and the page need."""

    index: int
    user: object
    state: str
    nonce: str
    jar: CookieJar
    id_token: str = ""
    page_url: str = ""


@dataclass
class Target:
    """An app and its flow, split into the tool's steps (timed) and the platform's step between them (not)."""

    name: str
    label: str
    server: Gunicorn | None = None
    base_url: str = ""
    users: list = field(default_factory=list)
    platform: PlatformProcess | None = None
    launches_per_flow: int = 1
    sample_page: str | None = None


class HelloTarget(Target):
    def request_step(self, index):
        response = http_request("GET", self.base_url + "/hello")
        if response.status != 200 or response.text != "hello":
            raise _fail("hello", response, 200)
        return response.size


class LtiTarget(Target):
    login_path = "/lti/login"
    launch_path = "/lti/launch"
    target_link_path = PAGE_PATH
    probe_cookie = False

    def prepare(self, courses: list[dict]) -> None:
        # Login URLs per user, built once: the driver's own work stays out of the way.
        self.login_urls = []
        for user in self.users:
            params = self.platform.sim.login_parameters(
                target_link_uri=self.base_url + self.target_link_path, login_hint=user.subject
            )
            self.login_urls.append(self.base_url + self.login_path + "?" + urlencode(params))
        self.launch_url = self.base_url + self.launch_path
        # What the trainee must see: every course title (English, as Jinja escapes it) and their name.
        self.expected_titles = [str(escape(course["title"]["en"])) for course in courses]

    def login_step(self, index):
        user_index = index % len(self.users)
        # Every flow is a new browser: only the tool's cookie-check cookie is carried over (ours only).
        jar = CookieJar({PROBE_COOKIE: "1"} if self.probe_cookie else None)
        response = http_request("GET", self.login_urls[user_index], jar=jar)
        if response.status != 302:
            raise _fail("login", response, 302)
        state, nonce = _auth_request(response.headers.get("location", ""), self.platform, self.launch_url)
        if jar.value(f"lti1p3-{state}") != state:
            raise FlowFailed(f"login did not set the state cookie lti1p3-{state}")
        return PendingFlow(index, self.users[user_index], state, nonce, jar)

    def platform_step(self, pending: PendingFlow) -> None:
        sim = self.platform.sim
        claims = sim.launch_claims(
            nonce=pending.nonce, target_link_uri=self.base_url + self.target_link_path, user=pending.user,
            locale="en",
        )
        pending.id_token = sim.sign(claims)

    def launch_step(self, pending: PendingFlow) -> None:
        response = http_request("POST", self.launch_url, jar=pending.jar,
                                form={"id_token": pending.id_token, "state": pending.state})
        if response.status != 303:
            raise _fail("launch", response, 303)
        location = urljoin(self.launch_url, response.headers.get("location", ""))
        if not location.startswith(self.base_url + PAGE_PATH):
            raise FlowFailed(f"launch redirected to {location!r}, expected {PAGE_PATH}")
        pending.page_url = location

    def page_step(self, pending: PendingFlow) -> int:
        response = http_request("GET", pending.page_url, jar=pending.jar)
        if response.status != 200:
            raise _fail("page", response, 200)
        text = response.text
        user = pending.user
        greeting = f"Signed in as {escape(f'{user.given_name} {user.family_name}')}"
        missing = [title for title in self.expected_titles if title not in text]
        cards = text.count('class="course-card"')
        if ('<ul class="course-list">' not in text or missing or cards != len(self.expected_titles)
                or greeting not in text):
            found = "found" if greeting in text else "missing"
            raise FlowFailed(f"page {pending.page_url} is not the catalogue ({cards} courses, {len(missing)} "
                             f"expected titles missing, greeting {found}): {text[:300]!r}")
        if self.sample_page is None:
            self.sample_page = text
        return response.size


class MinimalTarget(LtiTarget):
    login_path = "/login"
    launch_path = "/launch"
    target_link_path = "/launch"


class OurTarget(LtiTarget):
    probe_cookie = True


class FloorTarget(LtiTarget):
    pass


# --------------------------------------------------------------------------- running flows


@dataclass
class Usage:
    """What one timed step (or a sum of them) cost: wall time, CPU of each party, key-set fetches."""

    seconds: float = 0.0
    server_cpu: float = 0.0
    pg_cpu: float = 0.0
    driver_cpu: float = 0.0
    jwks_fetches: int = 0
    # All the host's CPU (every process, psutil.cpu_times) and the time the hypervisor took (steal): the
    # rest of the host = host_cpu - server - PostgreSQL - driver, to see whether anything else ran meanwhile.
    host_cpu: float = 0.0
    steal: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)))


@dataclass
class Phase:
    flows: int
    steps: dict[str, Usage]
    platform_cpu: float = 0.0
    page_bytes: int = 0

    @property
    def total(self) -> Usage:
        return sum(self.steps.values(), Usage())

    def __add__(self, other: Phase) -> Phase:
        steps = {name: self.steps.get(name, Usage()) + other.steps.get(name, Usage())
                 for name in dict.fromkeys([*self.steps, *other.steps])}
        return Phase(self.flows + other.flows, steps, self.platform_cpu + other.platform_cpu,
                     self.page_bytes + other.page_bytes)


def _run_step(target: Target, step, items: list, clients: int, time_limit: float) -> tuple[Usage, list]:
    """Runs one step over all items with `clients` threads; measures wall time and every process's CPU."""
    counter = itertools.count()
    results: list = [None] * len(items)
    errors: list[str] = []
    stop = threading.Event()
    deadline = time.monotonic() + time_limit

    def client() -> None:
        while not stop.is_set():
            k = next(counter)
            if k >= len(items):
                return
            if time.monotonic() > deadline:
                errors.append(f"time limit of {time_limit:.0f}s reached")
                stop.set()
                return
            try:
                results[k] = step(items[k])
            except Exception as error:  # every failure stops the run loudly
                errors.append(f"flow {getattr(items[k], 'index', items[k])}: {type(error).__name__}: {error}")
                stop.set()
                return

    cpu_before, pids_before = target.server.cpu()
    pg_before = postgres_cpu()
    driver_before = driver_cpu(target.platform)
    fetches_before = target.platform.fetch_count()
    host_before, steal_before = host_cpu()
    started = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic() + REQUEST_TIMEOUT + 5))
    seconds = time.perf_counter() - started
    host_after, steal_after = host_cpu()
    if any(thread.is_alive() for thread in threads):
        stop.set()
        errors.append("client threads did not finish in time")
    cpu_after, pids_after = target.server.cpu()
    pg_after = postgres_cpu()
    driver_after = driver_cpu(target.platform)
    fetches = target.platform.fetch_count() - fetches_before
    if errors:
        raise BenchError(f"{target.label}: {len(errors)} failure(s); first: {errors[0]}\n"
                         f"server log tail:\n{target.server.log_tail()}")
    if pids_before != pids_after:
        raise BenchError(f"{target.label}: gunicorn workers changed during the run (a worker died?)\n"
                         f"{target.server.log_tail()}")
    usage = Usage(seconds, cpu_after - cpu_before, pg_after - pg_before, driver_after - driver_before, fetches,
                  host_after - host_before, steal_after - steal_before)
    return usage, results


def run_flows(target: Target, count: int, clients: int, first_index: int, time_limit: float) -> Phase:
    """`count` flows: every login, the platform's step for all (not timed), every launch, every first page.

    All processes share the machine's cores. In production the platform signs its id tokens on
    its own machine, so that CPU is kept out of the timed windows (and reported separately),
    and the figures measure what the tool needs per flow.
    """
    indices = list(range(first_index, first_index + count))
    if isinstance(target, HelloTarget):
        usage, _ = _run_step(target, target.request_step, indices, clients, time_limit)
        return Phase(count, {"request": usage})
    login, pending = _run_step(target, target.login_step, indices, clients, time_limit)
    before = process_cpu(psutil.Process())
    for item in pending:
        target.platform_step(item)
    platform_cpu = process_cpu(psutil.Process()) - before
    launch, _ = _run_step(target, target.launch_step, pending, clients, time_limit)
    page, sizes = _run_step(target, target.page_step, pending, clients, time_limit)
    return Phase(count, {"login": login, "launch": launch, "page": page}, platform_cpu, sum(sizes))


@dataclass
class Result:
    target: Target
    warmup: Phase
    measured: Phase
    rounds: list[Phase]

    @property
    def flows_per_second(self) -> float:
        return self.measured.flows / self.measured.total.seconds

    def per_flow_ms(self, seconds: float, phase: Phase | None = None) -> float:
        return seconds / (phase or self.measured).flows * 1000

    def cpu_ms(self, step: str | tuple[str, ...] | None = None, phase: Phase | None = None) -> float:
        """Server CPU per flow, of one step, of some steps or of the whole flow."""
        phase = phase or self.measured
        if step is None:
            usage = phase.total
        else:
            usage = sum((phase.steps.get(name, Usage()) for name in ((step,) if isinstance(step, str) else step)),
                        Usage())
        return self.per_flow_ms(usage.server_cpu, phase)

    @property
    def page_bytes(self) -> float | None:
        return self.measured.page_bytes / self.measured.flows if "page" in self.measured.steps else None


# --------------------------------------------------------------------------- git worktrees of our tool


@dataclass
class Tree:
    """Our tool at one commit, in a worktree of its own outside the checkout."""

    role: str
    rev: str
    commit: str
    path: Path
    created: bool

    @property
    def short(self) -> str:
        return self.commit[:7]

    def subject(self) -> str:
        return run_command(["git", "-C", str(self.path), "log", "-1", "--format=%s"]).strip()


def open_tree(role: str, rev: str, base: Path) -> Tree:
    commit = run_command(["git", "-C", str(ROOT), "rev-parse", "--verify", rev + "^{commit}"]).strip()
    path = (base / f"ibm-lms-{role}").resolve()
    if path.exists():
        # Reused only if it is exactly that commit, untouched.
        try:
            at = run_command(["git", "-C", str(path), "rev-parse", "HEAD"]).strip()
        except BenchError:
            raise BenchError(f"{path} exists and is not a git worktree; remove it or pass --worktrees") from None
        if at != commit:
            raise BenchError(f"{path} is a worktree at {at[:7]}, not {rev} ({commit[:7]}); remove it with "
                             f"`git worktree remove {path}` or pass --worktrees")
        tree = Tree(role, rev, commit, path, created=False)
        _check_clean(tree)
    else:
        run_command(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), commit])
        tree = Tree(role, rev, commit, path, created=True)
    # Compiled catalogs are not in git: compile them with the worktree's own code, as scripts/setup does.
    run_command([sys.executable, "-c",
                 "import sys; from pathlib import Path; import ibm_lms; "
                 "from ibm_lms.config import LOCALES; from ibm_lms.i18n.catalogs import compile_all; "
                 "compile_all(Path('translations'), LOCALES); print(ibm_lms.__file__)"],
                env=base_env() | {"PYTHONPATH": str(path)}, cwd=path)
    return tree


def _check_clean(tree: Tree) -> None:
    at = run_command(["git", "-C", str(tree.path), "rev-parse", "HEAD"]).strip()
    changed = run_command(["git", "-C", str(tree.path), "status", "--porcelain", "--untracked-files=no"]).strip()
    if at != tree.commit or changed:
        raise BenchError(f"the worktree {tree.path} changed (at {at[:7]}, expected {tree.short}; "
                         f"modified: {changed[:200] or 'none'})")


def close_tree(tree: Tree) -> None:
    if tree.created:
        # --force: the compiled catalogs and the like are ours to drop; nothing else was written there.
        run_command(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree.path)])


def read_courses(courses_dir: Path) -> list[dict]:
    """The catalogue a trainee sees, straight from the course files: slug, order, horizontal, title, summary."""
    courses = []
    for path in sorted(courses_dir.glob("*/course.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        lessons = [lesson for module in data.get("modules", ()) for lesson in module.get("lessons", ())]
        courses.append({
            "slug": data["slug"], "order": data["order"], "horizontal": bool(data.get("horizontal", False)),
            "title": {k: v.strip() for k, v in data["title"].items()},
            "summary": {k: v.strip() for k, v in data["summary"].items()},
            # The course format's modules and lessons (courses without them: 0 and 0).
            "lessons": len(lessons), "minutes": sum(int(lesson.get("minutes", 0)) for lesson in lessons),
        })
    if not courses:
        raise BenchError(f"no courses under {courses_dir}")
    return sorted(courses, key=lambda course: course["order"])


# --------------------------------------------------------------------------- setting up each app


def bench_users(count: int) -> list:
    from ibm_lms.demo.platform import DEMO_USERS

    trainee = DEMO_USERS["trainee"]
    return [dataclasses.replace(trainee, subject=f"bench-user-{i}", email=f"user{i}@bench.invalid")
            for i in range(count)]


def base_env() -> dict:
    """A small, service-like environment for the servers, the same for all apps.

    What the driver happens to have (proxy settings, CA bundles, tooling variables) must not
    leak in: requests, as pylti1p3 uses it, rescans the whole environment for proxies on every
    JWKS fetch, so a large environment would inflate the minimal tool's CPU.
    """
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ") if k in os.environ}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def pg_args() -> list[str]:
    return ["-h", PG["host"], "-p", PG["port"], "-U", PG["user"]]


def recreate_pg_database(name: str) -> str:
    """A fresh PostgreSQL database for one app; returns its URL."""
    run_command(["dropdb", *pg_args(), "--if-exists", "--force", name])
    run_command(["createdb", *pg_args(), name])
    return f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


@dataclass
class Bench:
    """What every app of one database's run shares."""

    database: str
    workdir: Path
    platform: PlatformProcess
    users: list
    trees: dict[str, Tree]
    courses: dict[str, list[dict]]  # by tree role: the catalogue each version of the courses/ folder holds

    def app_dir(self, name: str) -> Path:
        path = self.workdir / self.database / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def log_dir(self) -> Path:
        return self.app_dir("logs")


def setup_hello(bench: Bench) -> HelloTarget:
    port = free_port()
    server = Gunicorn("hello", "hello_app:app", port, base_env(), BENCH, bench.log_dir).start("/hello")
    return HelloTarget("hello", "(a) bare Flask hello", server, f"http://{HOST}:{port}", bench.users, bench.platform,
                       launches_per_flow=0)


def setup_minimal(bench: Bench) -> MinimalTarget:
    from cryptography.hazmat.primitives import serialization
    from page_data import COURSES_TABLE_DDL, PROGRESS_TABLE_DDL

    from ibm_lms.demo.platform import new_private_key

    workdir = bench.app_dir("minimal")
    key_file = workdir / "minimal_tool_private.pem"
    key_file.write_bytes(new_private_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    courses = bench.courses["after"]
    rows = [(c["slug"], c["order"], c["horizontal"], json.dumps(c["title"], ensure_ascii=False),
             json.dumps(c["summary"], ensure_ascii=False), c["lessons"], c["minutes"]) for c in courses]
    insert = ("INSERT INTO courses (slug, position, horizontal, title, summary, lessons, minutes) "
              "VALUES ({0}, {0}, {0}, {0}, {0}, {0}, {0})")
    if bench.database == "postgresql":
        import psycopg

        url = recreate_pg_database(DB_PREFIX + "minimal")
        with psycopg.connect(url) as connection:
            connection.execute(COURSES_TABLE_DDL)
            connection.execute(PROGRESS_TABLE_DDL)
            connection.cursor().executemany(insert.format("%s"), rows)
        database_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    else:
        path = workdir / "minimal.sqlite3"
        with contextlib.closing(sqlite3.connect(path)) as connection, connection:
            connection.execute(COURSES_TABLE_DDL)
            connection.execute(PROGRESS_TABLE_DDL)
            connection.executemany(insert.format("?"), rows)
        database_url = f"sqlite:///{path}"
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    env = base_env() | {
        "BENCH_ISSUER": bench.platform.base_url,
        "BENCH_CLIENT_ID": CLIENT_ID,
        "BENCH_DEPLOYMENT_ID": DEPLOYMENT_ID,
        "BENCH_AUTH_LOGIN_URL": bench.platform.auth_login_url,
        "BENCH_AUTH_TOKEN_URL": bench.platform.token_url,
        "BENCH_KEYSET_URL": bench.platform.keyset_url,
        "BENCH_TOOL_BASE_URL": base_url,
        "BENCH_SECRET_KEY": secrets.token_urlsafe(32),
        "BENCH_PRIVATE_KEY_FILE": str(key_file),
        "BENCH_DATABASE_URL": database_url,
        "BENCH_STATIC_DIR": str(bench.trees["after"].path / "ibm_lms" / "static"),
    }
    server = Gunicorn("minimal", "minimal_tool:app", port, env, BENCH, bench.log_dir).start("/")
    target = MinimalTarget("minimal", "(b) minimal pylti1p3 tool", server, base_url, bench.users, bench.platform)
    target.prepare(courses)
    return target


def prepare_ours(bench: Bench, role: str, base_url: str, extra_env: dict | None = None) -> dict:
    """Our tool at one worktree, ready to serve: its own database, schema, courses and platform; returns its environment."""
    tree = bench.trees[role]
    workdir = bench.app_dir(f"ibm_lms-{role}")
    shutil.rmtree(workdir / "instance", ignore_errors=True)  # a fresh SQLite file each time
    env = base_env() | {
        # The worktree first: the venv's editable install of the checkout comes after PYTHONPATH.
        "PYTHONPATH": os.pathsep.join([str(tree.path), str(BENCH)]),
        "IBM_LMS_SECRET_KEY": secrets.token_urlsafe(48),
        "IBM_LMS_BASE_URL": base_url,
        "IBM_LMS_INSTANCE_PATH": str(workdir / "instance"),
        "IBM_LMS_COURSES_DIR": str(tree.path / "courses"),
        # Every simulated launch comes from one address: measure the tool, not its limiter.
        "IBM_LMS_RATE_LIMITS": "0",
    } | (extra_env or {})
    if bench.database == "postgresql":
        env["IBM_LMS_DATABASE_URL"] = recreate_pg_database(DB_PREFIX + role)
    # On SQLite: IBM_LMS_DATABASE_URL unset, the tool's default file in its instance folder.
    where = run_command([sys.executable, "-c", "import ibm_lms; print(ibm_lms.__file__)"], env=env,
                        cwd=tree.path).strip()
    if not Path(where).resolve().is_relative_to(tree.path):
        raise BenchError(f"ibm_lms resolves to {where}, not the worktree {tree.path}")
    cli = str(BIN / "ibm-lms")
    run_command([cli, "db", "upgrade"], env=env, cwd=tree.path)
    run_command([cli, "content", "load"], env=env, cwd=tree.path)
    # Since 'tenant add' exists, 'platform add' needs the academy; older commits made it there (and lack the command).
    subprocess.run([cli, "tenant", "add", "bench"], env=env, cwd=tree.path, capture_output=True, check=False)
    run_command([cli, "platform", "add", "--issuer", bench.platform.base_url, "--client-id", CLIENT_ID,
                 "--auth-login-url", bench.platform.auth_login_url, "--auth-token-url", bench.platform.token_url,
                 "--keyset-url", bench.platform.keyset_url, "--deployment-id", DEPLOYMENT_ID, "--tenant", "bench"],
                env=env, cwd=tree.path)
    return env


def setup_ours(bench: Bench, role: str, *, module: str = "tool_wsgi:app", extra_env: dict | None = None) -> OurTarget:
    """Our tool served from its worktree; `module` must log where it imported ibm_lms from (as tool_wsgi does)."""
    tree = bench.trees[role]
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    env = prepare_ours(bench, role, base_url, extra_env)
    server = Gunicorn(f"ibm_lms-{role}", module, port, env, tree.path, bench.log_dir)
    server.start("/healthz")
    server.check_module_source(tree.path)
    label = {"after": f"(c) ibm_lms, ours (after: {tree.rev} = {tree.short})",
             "before": f"(c0) ibm_lms (before: {tree.short})"}[role]
    target = OurTarget(role, label, server, base_url, bench.users, bench.platform)
    target.prepare(bench.courses[role])
    return target


def setup_floor(bench: Bench, *, module: str = "floor_tool:app", extra_env: dict | None = None) -> FloorTarget:
    from floor_tool import SCHEMA

    workdir = bench.app_dir("floor")
    courses = bench.courses["after"]
    catalogue_file = workdir / "catalogue.json"
    catalogue_file.write_text(json.dumps(courses, ensure_ascii=False), encoding="utf-8")
    if bench.database == "postgresql":
        database_url = recreate_pg_database(DB_PREFIX + "floor")
        run_command(["psql", *pg_args(), "-q", "-c", "; ".join(SCHEMA["postgresql"]), DB_PREFIX + "floor"])
    else:
        path = workdir / "floor.sqlite3"
        with contextlib.closing(sqlite3.connect(path)) as connection, connection:
            # Write-ahead logging is a property of the file: set here, before the workers open it (as ours
            # gets it from `ibm-lms db upgrade`), so that they never race to switch it; each worker's
            # connection then sets synchronous=NORMAL, as ours does (bench/floor_tool.py).
            connection.execute("PRAGMA journal_mode=WAL")
            for statement in SCHEMA["sqlite"]:
                connection.execute(statement)
        database_url = f"sqlite:///{path}"
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    env = base_env() | {
        "BENCH_ISSUER": bench.platform.base_url,
        "BENCH_CLIENT_ID": CLIENT_ID,
        "BENCH_AUTH_LOGIN_URL": bench.platform.auth_login_url,
        "BENCH_KEYSET_URL": bench.platform.keyset_url,
        "BENCH_TOOL_BASE_URL": base_url,
        "BENCH_SECRET_KEY": secrets.token_urlsafe(32),
        "BENCH_DATABASE_URL": database_url,
        "BENCH_CATALOGUE_FILE": str(catalogue_file),
        "BENCH_STATIC_DIR": str(bench.trees["after"].path / "ibm_lms" / "static"),
    } | (extra_env or {})
    server = Gunicorn("floor", module, port, env, BENCH, bench.log_dir).start("/")
    target = FloorTarget("floor", "(d) the stack's floor", server, base_url, bench.users, bench.platform)
    target.prepare(courses)
    return target


# --------------------------------------------------------------------------- one database's run


@dataclass
class DatabaseRun:
    database: str
    results: list[Result]
    redone_rounds: int = 0  # rounds measured again because other work ran on the host (--max-rest)

    def by_name(self) -> dict[str, Result]:
        return {r.target.name: r for r in self.results}


def run_database(bench: Bench, args, pages_dir: Path | None) -> DatabaseRun:
    label = DATABASE_LABELS[bench.database]
    targets: list[Target] = []
    try:
        for setup in (setup_hello, setup_minimal, lambda b: setup_ours(b, "before"),
                      lambda b: setup_ours(b, "after"), setup_floor):
            targets.append(setup(bench))
            print(f"[{label}] {targets[-1].label}: serving at {targets[-1].base_url}", flush=True)
        warmups = {}
        for target in targets:
            warmups[target.name] = run_flows(target, args.warmup, args.clients, 0, args.time_limit)
        print(f"[{label}] warm-up done ({args.warmup} flows per app)", flush=True)
        # Rounds alternate the apps, and each round starts with another app, so a change in the
        # machine's speed during the run (shared hosts have them) weighs on all apps alike.
        per_round = [args.flows // args.rounds + (1 if r < args.flows % args.rounds else 0)
                     for r in range(args.rounds)]
        rounds: dict[str, list[Phase]] = {target.name: [] for target in targets}
        first = args.warmup
        redone = 0
        for round_index, count in enumerate(per_round):
            shift = round_index % len(targets)
            kept: tuple[float, dict] | None = None
            for attempt in itertools.count(1):
                if args.max_rest is not None:
                    wait_for_quiet_host(args.max_rest, args.quiet_wait, label)
                phases = {target.name: run_flows(target, count, args.clients, first, args.time_limit)
                          for target in targets[shift:] + targets[:shift]}
                first += count  # a redone round uses new flow indices (fresh states and nonces alike)
                rest = rest_of_host_share(list(phases.values()))
                if kept is None or rest < kept[0]:
                    kept = (rest, phases)  # after the last try, the least disturbed attempt is kept
                if args.max_rest is None or rest * 100 <= args.max_rest or attempt >= args.round_tries:
                    break
                redone += 1
                print(f"[{label}] round {round_index + 1}/{args.rounds} redone: the rest of the host took "
                      f"{rest * 100:.0f}% of one core (over --max-rest {args.max_rest:g}%)", flush=True)
            rest, phases = kept
            for name, phase in phases.items():
                rounds[name].append(phase)
            print(f"[{label}] round {round_index + 1}/{args.rounds} done (rest of the host: "
                  f"{rest * 100:.0f}% of one core)", flush=True)
        results = []
        for target in targets:
            phases = rounds[target.name]
            measured = phases[0]
            for phase in phases[1:]:
                measured = measured + phase
            results.append(Result(target, warmups[target.name], measured, phases))
            r = results[-1]
            print(f"[{label}] {target.label}: {r.flows_per_second:.1f} flows/s, "
                  f"{r.cpu_ms():.2f} ms server CPU/flow", flush=True)
        if pages_dir is not None:
            pages_dir.mkdir(parents=True, exist_ok=True)
            for target in targets:
                if target.sample_page is not None:
                    (pages_dir / f"{bench.database}-{target.name}.html").write_text(target.sample_page)
        return DatabaseRun(bench.database, results, redone)
    finally:
        for target in targets:
            target.server.stop()


# --------------------------------------------------------------------------- report


def tree_fingerprint(tree: Tree) -> str:
    """Ties the figures to a state of ibm_lms beyond its commit (the worktree is checked clean, too)."""
    import hashlib

    digest = hashlib.sha256()
    root = tree.path
    for path in sorted(p for p in (root / "ibm_lms").rglob("*") if p.suffix in {".py", ".html", ".mako"}):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def machine(trees: dict[str, Tree], databases: tuple[str, ...]) -> dict:
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pg_version = "not used"
    if "postgresql" in databases:
        try:
            pg_version = run_command(["psql", *pg_args(), "-Atc", "show server_version", "postgres"]).strip()
        except BenchError:
            pg_version = "unknown"
    from importlib.metadata import version

    libs = ", ".join(f"{name} {version(name)}" for name in
                     ("Flask", "gunicorn", "pylti1p3next", "SQLAlchemy", "psycopg", "PyJWT", "requests"))
    return {
        "trees": {role: {"rev": t.rev, "commit": t.commit, "subject": t.subject(), "fingerprint": tree_fingerprint(t),
                         "courses": len(read_courses(t.path / "courses"))}
                  for role, t in trees.items()},
        "cores": os.cpu_count(),
        "cpu": cpu_model,
        "memory": f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
        "os": f"{pyplatform.system()} {pyplatform.release()}",
        "host": socket.gethostname(),
        "python": pyplatform.python_version(),
        "postgres": pg_version,
        "sqlite": sqlite3.sqlite_version,
        "libraries": libs,
    }


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _div(a: float, b: float) -> float | None:
    """a / b, or None when b rounds to nothing (CPU times come in clock ticks: tiny runs may show 0)."""
    return a / b if b > 0 else None


def _md(rows: list[tuple]) -> list[str]:
    return ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join("---" for _ in rows[0]) + " |",
            *("| " + " | ".join(row) + " |" for row in rows[1:])]


def absolute_table(run: DatabaseRun) -> list[str]:
    pg = run.database == "postgresql"
    rows = [("app", "flows/s", "server CPU ms/flow: login", "launch", "page", "**total**",
             "PostgreSQL CPU ms/flow", "server + PostgreSQL ms/flow", "driver CPU ms/flow", "page bytes",
             "JWKS fetches (warm-up + measured)")]
    for r in run.results:
        m = r.measured
        lti = "page" in m.steps
        pg_ms = r.per_flow_ms(m.total.pg_cpu)
        rows.append((
            r.target.label,
            _fmt(r.flows_per_second, 1),
            *(_fmt(r.cpu_ms(step)) if lti else "-" for step in STEPS),
            f"**{_fmt(r.cpu_ms())}**",
            _fmt(pg_ms) if pg else "n/a",
            _fmt(r.cpu_ms() + pg_ms) if pg else "n/a",
            _fmt(r.per_flow_ms(m.total.driver_cpu)),
            _fmt(r.page_bytes, 0) if lti else "-",
            f"{r.warmup.total.jwks_fetches} + {m.total.jwks_fetches}" if lti else "-",
        ))
    return _md(rows)


LOGIN_LAUNCH = ("login", "launch")  # the flow bench/ measured before the first page was part of it


def _round_range(numerator: Result, denominator: Result, steps: tuple[str, ...] | None = None) -> str:
    """The ratio in each round of the run, lowest and highest; a bare request's figure is its whole flow."""
    ratios = [_div(numerator.cpu_ms(steps, phase=a), denominator.cpu_ms(None if "page" not in b.steps else steps, phase=b))
              for a, b in zip(numerator.rounds, denominator.rounds, strict=True)]
    ratios = [r for r in ratios if r is not None]
    return f"{min(ratios):.2f}–{max(ratios):.2f}" if ratios else "n/a"


def ratio_rows(run: DatabaseRun) -> list[tuple[str, Result, Result]]:
    by = run.by_name()
    return [
        ("ours / floor", by["after"], by["floor"]),
        ("ours / minimal", by["after"], by["minimal"]),
        ("after / before", by["after"], by["before"]),
        ("before / floor", by["before"], by["floor"]),
        ("before / minimal", by["before"], by["minimal"]),
        ("minimal / floor", by["minimal"], by["floor"]),
    ]


def ratio_table(run: DatabaseRun) -> list[str]:
    by = run.by_name()
    rows = [("server CPU per flow", "login", "launch", "page", "login + launch", "**total**",
             "total, per round (min–max)", "login + launch, per round")]
    for name, a, b in ratio_rows(run):
        rows.append((name, *(_fmt(_div(a.cpu_ms(s), b.cpu_ms(s))) for s in STEPS),
                     _fmt(_div(a.cpu_ms(LOGIN_LAUNCH), b.cpu_ms(LOGIN_LAUNCH))), f"**{_fmt(_div(a.cpu_ms(), b.cpu_ms()))}**",
                     _round_range(a, b), _round_range(a, b, LOGIN_LAUNCH)))
    hello = by["hello"]
    bare = hello.cpu_ms()
    for key in ("minimal", "before", "after", "floor"):
        r = by[key]
        rows.append((f"{r.target.label.split(')')[0]}) / one bare request",
                     *(_fmt(_div(r.cpu_ms(s), bare), 1) for s in STEPS), _fmt(_div(r.cpu_ms(LOGIN_LAUNCH), bare), 1),
                     f"**{_fmt(_div(r.cpu_ms(), bare), 1)}**", _round_range(r, hello), ""))
    if run.database == "postgresql":
        for name, a, b in ratio_rows(run)[:3]:
            rows.append((f"server + PostgreSQL: {name}", "", "", "", "", f"**{_fmt(_div(_combined(a), _combined(b)))}**",
                         "", ""))
    return _md(rows)


def _combined(r: Result) -> float:
    return r.cpu_ms() + r.per_flow_ms(r.measured.total.pg_cpu)


def goals(runs: list[DatabaseRun]) -> tuple[list[str], bool]:
    header = ("goal (server CPU per flow, login + launch + page unless said)",
              *(DATABASE_LABELS[run.database] for run in runs), "target", "met")
    rows = [header]
    met_all = True
    specs = [
        ("ours / floor", "after", "floor", None, f"<= {GOAL_OURS_OVER_FLOOR:.2f}", lambda v: v <= GOAL_OURS_OVER_FLOOR),
        ("ours / minimal pylti1p3 tool", "after", "minimal", None, "< 1.00", lambda v: v < 1.0),
        ("after / before (no regression)", "after", "before", None, "<= 1.00", lambda v: v <= 1.0),
        ("after / before, login + launch only (the flow bench/ measured until now)", "after", "before",
         LOGIN_LAUNCH, "<= 1.00", lambda v: v <= 1.0),
    ]
    for name, a, b, steps, target, check in specs:
        values = [_div(run.by_name()[a].cpu_ms(steps), run.by_name()[b].cpu_ms(steps)) for run in runs]
        ok = all(v is not None and check(v) for v in values)
        met_all = met_all and ok
        rows.append((name, *(_fmt(v) for v in values), target, "yes" if ok else "**NO**"))
    return _md(rows), met_all


def _usages(items: list) -> list[Usage]:
    return [item.measured.total if isinstance(item, Result) else item.total for item in items]


def rest_of_host_share(items: list) -> float:
    """The host's CPU outside the benchmark's processes, in cores (1.0 = one core), over these timed steps."""
    used = _usages(items)
    rest = sum(u.host_cpu - u.server_cpu - u.pg_cpu - u.driver_cpu for u in used)
    return rest / sum(u.seconds for u in used)


def _rest_of_host(items: list) -> str:
    return f"{rest_of_host_share(items) * 100:.0f}%"


def _steal(items: list) -> str:
    used = _usages(items)
    return f"{sum(u.steal for u in used) / sum(u.seconds for u in used) * 100:.0f}%"


def database_section(run: DatabaseRun) -> list[str]:
    by = run.by_name()
    lines = [f"## {DATABASE_LABELS[run.database]}", "", *absolute_table(run), "", "Ratios, same run:", "",
             *ratio_table(run), ""]
    details = []
    for key in ("minimal", "before", "after", "floor"):
        r = by[key]
        busy = (r.measured.total.server_cpu + r.measured.total.pg_cpu + r.measured.total.driver_cpu)
        details.append(f"- {r.target.label}: server + database + driver CPU kept "
                       f"{busy / r.measured.total.seconds / (os.cpu_count() or 1) * 100:.0f}% of "
                       f"{os.cpu_count()} cores busy")
    details.append(f"- the rest of the host during the timed steps: {_rest_of_host(list(by.values()))} of one core "
                   "(CPU of every process on the host minus server, PostgreSQL and driver), per round "
                   + ", ".join(_rest_of_host([r.rounds[i] for r in by.values()])
                               for i in range(len(by["after"].rounds)))
                   + f"; the hypervisor's steal {_steal(list(by.values()))} of one core. Other work on the host "
                   "shares the cores and the PostgreSQL server (its backends count in PostgreSQL CPU): a run "
                   "on a quiet host has about 0% here."
                   + (f" {run.redone_rounds} round(s) measured again because other work ran meanwhile "
                      "(--max-rest); the figures are those of the rounds kept." if run.redone_rounds else ""))
    details.append(f"- the platform's RS256 signing, done between the timed steps: "
                   f"{by['after'].per_flow_ms(by['after'].measured.platform_cpu):.2f} ms CPU per flow "
                   "(not in any figure above)")
    return lines + details + [""]


NOTES = [
    "- A flow of (a) is one `GET /hello`. A flow of (b), (c0), (c) and (d) is what a trainee's browser "
    "does: the OIDC login (GET, 302 to the platform), the launch (POST id_token+state, 303) and the first "
    "page (GET of the 303's target with the cookies the browser holds after the launch, 200). Every page is "
    "checked: every course title, one card per course and the trainee's name.",
    "- The steps are timed apart: every login, then every launch, then every page. Between the login and "
    "the launch the platform signs each id token with the nonce its login sent; in production that happens "
    "on the platform's machine, so its CPU stays out of the timed windows (reported above).",
    "- server CPU: user+system of the gunicorn master and both workers over the timed steps; the database "
    "work of SQLite happens inside the workers and is part of it.",
    "- PostgreSQL CPU: all postgres processes (n/a on SQLite). Driver CPU: the client threads (http.client, "
    "one connection per request) plus the platform's JWKS server process.",
    "- page bytes: the first page's HTML. (b) and (d) render bench/templates/catalogue.html, ibm_lms's "
    "markup with the same courses, names and language menu, without the CSRF field ours carries.",
    "- JWKS fetches are counted at the platform's key-set endpoint (served with Cache-Control: "
    "max-age=3600). pylti1p3's defaults (b) keep no public-key cache.",
    "- All processes share the same cores, so flows/s is bounded by the sum of server, database and driver "
    "CPU; the CPU-per-flow figures, and their ratios, are the ones to compare across machines. Per-round "
    "ranges show how much a ratio moved between the rounds of this run.",
]


def write_results(path: Path, runs: list[DatabaseRun], info: dict, args, started: dt.datetime,
                  command: str) -> list[str]:
    goal_lines, met = goals(runs)
    before, after = info["trees"]["before"], info["trees"]["after"]
    lines = [
        "# Launch benchmark (login, launch, first page): results",
        "",
        f"One run of `bench/run.py` on {started.strftime('%Y-%m-%d %H:%M UTC')}, host `{info['host']}`: "
        f"{args.flows} measured flows per app and database after {args.warmup} warm-up flows, in "
        f"{args.rounds} rounds that alternate the apps, {args.clients} client threads, {args.users} "
        f"distinct users, gunicorn with {WORKERS} sync workers per app, "
        f"{' and '.join(DATABASE_LABELS[run.database] for run in runs)} on loopback.",
        "",
        f"- ours, after: `{after['rev']}` = {after['commit'][:10]} ({after['subject']}); "
        f"{after['courses']} courses",
        f"- ours, before: `{before['rev']}` = {before['commit'][:10]} ({before['subject']}); "
        f"{before['courses']} courses",
        "- the minimal tool and the floor show the after commit's courses.",
        "",
        "## Goals",
        "",
        *goal_lines,
        "",
        f"All goals met: **{'yes' if met else 'no'}**.",
        "",
    ]
    for run in runs:
        lines += database_section(run)
    lines += [
        "## Notes",
        "",
        *NOTES,
        "",
        "## Machine",
        "",
        f"- {info['cores']} cores: {info['cpu']}, {info['memory']} RAM, {info['os']}",
        f"- Python {info['python']}, PostgreSQL {info['postgres']}, SQLite {info['sqlite']}",
        f"- {info['libraries']}",
        f"- ibm_lms source fingerprints (sha256 of ibm_lms/**/*.py, *.html, *.mako): after "
        f"{after['fingerprint']}, before {before['fingerprint']}",
        "",
        "## Reproduce",
        "",
        "```sh",
        "scripts/setup bench   # from the repository root: gunicorn, psutil",
        command,
        "```",
        "",
        "Needs git, and for PostgreSQL a server on 127.0.0.1:5432 (user `postgres`, trust auth) with "
        f"`psql`, `createdb`, `dropdb` on PATH; the databases `{DB_PREFIX}*` are dropped and recreated on "
        f"every run. The script rewrites this file, keeping what follows `{KEPT_MARK}`.",
        "",
    ]
    path.write_text("\n".join(lines) + _kept_tail(path))
    return goal_lines


# What follows this line in the results (the other benchmarks' summary, a run's reading) outlives a rewrite.
KEPT_MARK = "<!-- kept when bench/run.py rewrites this file -->"


def _kept_tail(path: Path) -> str:
    if not path.exists():
        return ""
    # The mark on a line of its own: the reproduce section names it in its text too.
    found = re.search(f"^{re.escape(KEPT_MARK)}$", path.read_text(), re.MULTILINE)
    return "\n" + found.string[found.start():] if found else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("both", *DATABASES), default="both",
                        help="which database(s) the apps use (default both, PostgreSQL first)")
    parser.add_argument("--flows", type=int, default=2000, help="measured flows per app and database (default 2000)")
    parser.add_argument("--warmup", type=int, default=100, help="warm-up flows per app (default 100)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads (default 4)")
    parser.add_argument("--users", type=int, default=200, help="distinct platform users (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds alternating the apps (default 5)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds allowed per step (default 120)")
    parser.add_argument("--before", default="0c97074", help="commit of ours 'before' (default 0c97074)")
    parser.add_argument("--after", default="HEAD", help="commit of ours 'after' (default HEAD)")
    parser.add_argument("--worktrees", type=Path, default=Path(tempfile.gettempdir()),
                        help="where the worktrees ibm-lms-before and ibm-lms-after go (default /tmp)")
    parser.add_argument("--keep-worktrees", action="store_true", help="leave the worktrees this run created")
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--max-rest", type=float, default=None, metavar="PERCENT",
                        help="redo a round in which the rest of the host (other processes) took more than PERCENT "
                             "of one core, after waiting for a quiet host (default: off)")
    parser.add_argument("--quiet-wait", type=float, default=900.0,
                        help="--max-rest: seconds to wait for a quiet host before a round (default 900)")
    parser.add_argument("--round-tries", type=int, default=6,
                        help="--max-rest: attempts per round; then the least disturbed one is kept (default 6)")
    parser.add_argument("--pages", type=Path, default=BENCH / "out" / "pages",
                        help="where one page of each app is saved (default bench/out/pages)")
    args = parser.parse_args()
    if not (1 <= args.flows <= 100_000 and 0 <= args.warmup <= 10_000 and 1 <= args.clients <= 32
            and 1 <= args.users <= 100_000 and 1 <= args.rounds <= min(args.flows, 100)):
        parser.error("flows, warmup, clients, users or rounds out of range")
    databases = DATABASES if args.database == "both" else (args.database,)
    needed = ["git"] + (["dropdb", "createdb", "psql"] if "postgresql" in databases else [])
    for tool in needed:
        if shutil.which(tool) is None:
            parser.error(f"{tool} not found on PATH")

    started = dt.datetime.now(dt.UTC)
    trees: dict[str, Tree] = {}
    platform: PlatformProcess | None = None
    runs: list[DatabaseRun] = []
    try:
        for role, rev in (("before", args.before), ("after", args.after)):
            trees[role] = open_tree(role, rev, args.worktrees)
            print(f"ours, {role}: {rev} = {trees[role].short} in {trees[role].path}", flush=True)
        # The driver's platform and users come from the after worktree too, not from the checkout.
        sys.path.insert(0, str(trees["after"].path))
        sys.path.insert(1, str(BENCH))
        import ibm_lms

        if not Path(ibm_lms.__file__).resolve().is_relative_to(trees["after"].path):
            raise BenchError(f"the driver imported ibm_lms from {ibm_lms.__file__}")
        info = machine(trees, databases)
        courses = {role: read_courses(tree.path / "courses") for role, tree in trees.items()}
        users = bench_users(args.users)
        platform = PlatformProcess().start()
        print(f"platform (JWKS) at {platform.base_url}; {args.warmup} warm-up + {args.flows} measured flows per "
              f"app, {args.clients} clients, {args.rounds} rounds", flush=True)
        with tempfile.TemporaryDirectory(prefix="ibm-lms-bench-") as tmp:
            for database in databases:
                bench = Bench(database, Path(tmp), platform, users, trees, courses)
                runs.append(run_database(bench, args, args.pages))
        for tree in trees.values():
            _check_clean(tree)
            if tree_fingerprint(tree) != info["trees"][tree.role]["fingerprint"]:
                raise BenchError(f"ibm_lms in {tree.path} changed while the benchmark ran")
    except BenchError as error:
        print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        if platform is not None:
            platform.stop()
        if not args.keep_worktrees:
            for tree in trees.values():
                try:
                    close_tree(tree)
                except BenchError as error:
                    print(f"could not remove the worktree {tree.path}: {error}", file=sys.stderr)

    # The commits themselves: --after HEAD would name another commit tomorrow.
    command = ".venv/bin/python bench/run.py " + " ".join(
        [f"--database {args.database}", f"--flows {args.flows}", f"--warmup {args.warmup}",
         f"--clients {args.clients}", f"--rounds {args.rounds}", f"--before {trees['before'].short}",
         f"--after {trees['after'].short}"] + ([f"--max-rest {args.max_rest:g}"] if args.max_rest is not None else []))
    goal_lines = write_results(args.results, runs, info, args, started, command)
    for run in runs:
        print()
        print("\n".join(database_section(run)))
    print("\n".join(goal_lines))
    print(f"\nmachine: {info['cores']} cores, {info['cpu']}; written to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
