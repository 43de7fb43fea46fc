"""Login+launch benchmark: bare Flask, a pylti1p3-defaults tool, ours and the stack's floor, under gunicorn on PostgreSQL.

    .venv/bin/python bench/run.py [--flows 1000] [--warmup 50] [--clients 4]

One run measures, in rounds that alternate them, with the same driver and the same platform:
  (a) hello    bench/hello_app.py       one GET /hello per flow (the floor: a bare request)
  (b) minimal  bench/minimal_tool.py    pylti1p3's Flask example style, library defaults
  (c) ibm_lms  ibm_lms.wsgi:app         our tool, on a fresh PostgreSQL database
  (d) floor    bench/floor_tool.py      only the work no tool can skip, on the same stack

Each app runs as `gunicorn -w 2` (sync workers) on loopback. A flow is a full OIDC
login (GET, 302 to the platform) plus the launch (POST id_token+state); the platform's
authorisation step is played in the driver (it signs the id token with the nonce the
tool sent) between two timed steps, all logins then all launches, so only the tool's two
requests are timed. The platform's JWKS is served over HTTP by a separate process that
counts fetches.

Reported per app: flows/s (wall clock), server CPU per flow (user+system of the gunicorn
master and workers), PostgreSQL CPU per flow (all postgres processes), driver CPU per
flow, and JWKS fetches. Prints a table and writes bench/RESULTS.md. Exits non-zero if
any flow fails; every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import hashlib
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
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import psutil

from ibm_lms.demo.platform import MoodleEndpoints

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
if not (BIN / "gunicorn").exists():
    BIN = ROOT / ".venv" / "bin"

HOST = "127.0.0.1"  # loopback only, everywhere
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
DB_NAME = "ibm_lms_bench"
CLIENT_ID = "bench-client-1"
DEPLOYMENT_ID = "bench-deployment-1"
PROBE_COOKIE = "ibm_lms_cookies"
REQUEST_TIMEOUT = 15.0
START_TIMEOUT = 30.0
WORKERS = 2


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
    stop_event.wait(3600)  # bounded: the driver stops us long before
    server.shutdown()


class PlatformProcess(MoodleEndpoints):
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
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def process_cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


class Gunicorn:
    """One app under `gunicorn -w 2` (sync workers), started and stopped by us only."""

    def __init__(self, name: str, module: str, port: int, env: dict, cwd: Path, log_dir: Path):
        self.name, self.module, self.port, self.env, self.cwd = name, module, port, env, cwd
        self.log_path = log_dir / f"gunicorn-{name}.log"
        self.popen: subprocess.Popen | None = None

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


def driver_cpu(platform: PlatformProcess) -> float:
    total = process_cpu(psutil.Process())
    with contextlib.suppress(psutil.NoSuchProcess):
        total += process_cpu(psutil.Process(platform.process.pid))
    return total


# --------------------------------------------------------------------------- the targets


class FlowFailed(BenchError):
    pass


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    set_cookies: dict[str, str]
    text: str


def http_request(method: str, url: str, *, cookies: dict[str, str] | None = None,
                 form: dict[str, str] | None = None) -> Reply:
    """One request on a fresh connection, as gunicorn's sync workers close every connection anyway.

    http.client rather than requests: the driver shares the cores with the servers, and a
    lighter client leaves more of them to the apps being measured.
    """
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT)
    headers = {"User-Agent": "ibm-lms-bench", "Connection": "close"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form).encode("ascii")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers=headers)
        response = connection.getresponse()
        payload = response.read()
        set_cookies = {}
        for value in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = value.partition("=")
            set_cookies[name.strip()] = rest.split(";", 1)[0]
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, set_cookies,
                     payload.decode("utf-8", "replace"))
    finally:
        connection.close()


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


@dataclass
class PendingLaunch:
    """A flow between its login and its launch: the browser's cookies and what the platform needs."""

    index: int
    user: object
    state: str
    nonce: str
    cookies: dict[str, str]
    id_token: str = ""


@dataclass
class Target:
    """An app and its flow, split into the tool's steps (timed) and the platform's step between them (not)."""

    name: str
    label: str
    launches_per_flow: int = 0
    server: Gunicorn | None = None
    base_url: str = ""
    users: list = field(default_factory=list)
    platform: PlatformProcess | None = None

    def first_step(self, index: int):
        raise NotImplementedError

    def platform_step(self, pending) -> None:
        """Work the platform does between the tool's two requests; None when the flow has one request."""

    def second_step(self, pending) -> None:
        raise NotImplementedError


class HelloTarget(Target):
    def first_step(self, index):
        response = http_request("GET", self.base_url + "/hello")
        if response.status != 200 or response.text != "hello":
            raise _fail("hello", response, 200)

    second_step = None


class LtiTarget(Target):
    login_path = "/lti/login"
    launch_path = "/lti/launch"
    target_link_path = "/courses/"
    probe_cookie = False
    launch_status = 303

    def prepare(self) -> None:
        # Login URLs per user, built once: the driver's own work stays out of the way.
        self.login_urls = []
        for user in self.users:
            params = self.platform.sim.login_parameters(
                target_link_uri=self.base_url + self.target_link_path, login_hint=user.subject
            )
            self.login_urls.append(self.base_url + self.login_path + "?" + urlencode(params))
        self.launch_url = self.base_url + self.launch_path

    def first_step(self, index):
        user_index = index % len(self.users)
        # Every flow is a new browser: only the tool's cookie-check cookie is carried over (ours only).
        cookies = {PROBE_COOKIE: "1"} if self.probe_cookie else {}
        response = http_request("GET", self.login_urls[user_index], cookies=cookies)
        if response.status != 302:
            raise _fail("login", response, 302)
        state, nonce = _auth_request(response.headers.get("location", ""), self.platform, self.launch_url)
        if response.set_cookies.get(f"lti1p3-{state}") != state:
            raise FlowFailed(f"login did not set the state cookie lti1p3-{state}")
        cookies.update(response.set_cookies)
        return PendingLaunch(index, self.users[user_index], state, nonce, cookies)

    def platform_step(self, pending: PendingLaunch) -> None:
        sim = self.platform.sim
        claims = sim.launch_claims(
            nonce=pending.nonce, target_link_uri=self.base_url + self.target_link_path, user=pending.user,
            locale="en",
        )
        pending.id_token = sim.sign(claims)

    def second_step(self, pending: PendingLaunch) -> None:
        response = http_request("POST", self.launch_url, cookies=pending.cookies,
                                form={"id_token": pending.id_token, "state": pending.state})
        if response.status != self.launch_status:
            raise _fail("launch", response, self.launch_status)
        self.check_launch(response, pending.user)

    def check_launch(self, response: Reply, user) -> None:
        raise NotImplementedError


class MinimalTarget(LtiTarget):
    login_path = "/login"
    launch_path = "/launch"
    target_link_path = "/launch"
    launch_status = 200

    def check_launch(self, response, user):
        expected = html.escape(f"{user.given_name} {user.family_name}")
        if expected not in response.text:
            raise FlowFailed(f"launch page does not greet {expected}: {response.text[:200]}")


class OurTarget(LtiTarget):
    probe_cookie = True

    def check_launch(self, response, user):
        location = response.headers.get("location", "")
        if urlsplit(location).path != "/courses/":
            raise FlowFailed(f"launch redirected to {location!r}, expected /courses/")


class FloorTarget(OurTarget):
    probe_cookie = False


# --------------------------------------------------------------------------- running flows


@dataclass
class Phase:
    flows: int
    seconds: float
    server_cpu: float
    pg_cpu: float
    driver_cpu: float
    jwks_fetches: int
    platform_cpu: float = 0.0
    # Server CPU of the launches alone (the rest of server_cpu is the logins'), for two-step flows.
    launch_server_cpu: float = 0.0

    def __add__(self, other: Phase) -> Phase:
        return Phase(self.flows, self.seconds + other.seconds, self.server_cpu + other.server_cpu,
                     self.pg_cpu + other.pg_cpu, self.driver_cpu + other.driver_cpu,
                     self.jwks_fetches + other.jwks_fetches, self.platform_cpu + other.platform_cpu,
                     self.launch_server_cpu + other.launch_server_cpu)


def _run_step(target: Target, step, items: list, clients: int, time_limit: float) -> tuple[Phase, list]:
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
    started = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic() + REQUEST_TIMEOUT + 5))
    seconds = time.perf_counter() - started
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
    phase = Phase(len(items), seconds, cpu_after - cpu_before, pg_after - pg_before, driver_after - driver_before,
                  fetches)
    return phase, results


def run_flows(target: Target, count: int, clients: int, first_index: int, time_limit: float) -> Phase:
    """`count` flows: every first step, then the platform's step for all (not timed), then every second step.

    All processes share the machine's cores. In production the platform signs its id tokens on
    its own machine, so that CPU is kept out of the timed windows (and reported separately),
    and the figures measure what the tool needs per flow.
    """
    indices = list(range(first_index, first_index + count))
    phase, pending = _run_step(target, target.first_step, indices, clients, time_limit)
    if target.second_step is None:
        return phase
    before = process_cpu(psutil.Process())
    for item in pending:
        target.platform_step(item)
    platform_cpu = process_cpu(psutil.Process()) - before
    second, _ = _run_step(target, target.second_step, pending, clients, time_limit)
    total = phase + second
    total.platform_cpu = platform_cpu
    total.launch_server_cpu = second.server_cpu
    return total


@dataclass
class Result:
    target: Target
    warmup: Phase
    measured: Phase

    @property
    def flows_per_second(self) -> float:
        return self.measured.flows / self.measured.seconds

    def per_flow_ms(self, seconds: float) -> float:
        return seconds / self.measured.flows * 1000

    @property
    def jwks_per_100(self) -> float | None:
        launches = self.measured.flows * self.target.launches_per_flow
        return None if not launches else self.measured.jwks_fetches / launches * 100


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


def recreate_database() -> str:
    run_command(["dropdb", *pg_args(), "--if-exists", "--force", DB_NAME])
    run_command(["createdb", *pg_args(), DB_NAME])
    return f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{DB_NAME}"


def setup_hello(workdir: Path, platform: PlatformProcess, users: list) -> HelloTarget:
    port = free_port()
    server = Gunicorn("hello", "hello_app:app", port, base_env(), BENCH, workdir).start("/hello")
    return HelloTarget("hello", "(a) bare Flask hello", 0, server, f"http://{HOST}:{port}", users, platform)


def setup_minimal(workdir: Path, platform: PlatformProcess, users: list) -> MinimalTarget:
    from cryptography.hazmat.primitives import serialization

    from ibm_lms.demo.platform import new_private_key

    key_file = workdir / "minimal_tool_private.pem"
    key_file.write_bytes(new_private_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    env = base_env() | {
        "BENCH_ISSUER": platform.base_url,
        "BENCH_CLIENT_ID": CLIENT_ID,
        "BENCH_DEPLOYMENT_ID": DEPLOYMENT_ID,
        "BENCH_AUTH_LOGIN_URL": platform.auth_login_url,
        "BENCH_AUTH_TOKEN_URL": platform.token_url,
        "BENCH_KEYSET_URL": platform.keyset_url,
        "BENCH_TOOL_BASE_URL": base_url,
        "BENCH_SECRET_KEY": secrets.token_urlsafe(32),
        "BENCH_PRIVATE_KEY_FILE": str(key_file),
    }
    server = Gunicorn("minimal", "minimal_tool:app", port, env, BENCH, workdir).start("/")
    target = MinimalTarget("minimal", "(b) minimal pylti1p3 tool", 1, server, base_url, users, platform)
    target.prepare()
    return target


def setup_ours(workdir: Path, platform: PlatformProcess, users: list) -> OurTarget:
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    env = base_env() | {
        "IBM_LMS_DATABASE_URL": recreate_database(),
        "IBM_LMS_SECRET_KEY": secrets.token_urlsafe(48),
        "IBM_LMS_BASE_URL": base_url,
        "IBM_LMS_INSTANCE_PATH": str(workdir / "instance"),
    }
    cli = str(BIN / "ibm-lms")
    run_command([cli, "db", "upgrade"], env=env)
    run_command([cli, "platform", "add", "--issuer", platform.base_url, "--client-id", CLIENT_ID,
                 "--auth-login-url", platform.auth_login_url, "--auth-token-url", platform.token_url,
                 "--keyset-url", platform.keyset_url, "--deployment-id", DEPLOYMENT_ID, "--tenant", "bench"],
                env=env)
    server = Gunicorn("ibm_lms", "ibm_lms.wsgi:app", port, env, ROOT, workdir).start("/healthz")
    target = OurTarget("ibm_lms", "(c) ibm_lms (ours)", 1, server, base_url, users, platform)
    target.prepare()
    return target


def setup_floor(workdir: Path, platform: PlatformProcess, users: list) -> FloorTarget:
    from floor_tool import STATE_TABLE_DDL

    database_url = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{DB_NAME}"
    run_command(["psql", *pg_args(), "-q", "-c", STATE_TABLE_DDL, DB_NAME])
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    env = base_env() | {
        "BENCH_ISSUER": platform.base_url,
        "BENCH_CLIENT_ID": CLIENT_ID,
        "BENCH_AUTH_LOGIN_URL": platform.auth_login_url,
        "BENCH_KEYSET_URL": platform.keyset_url,
        "BENCH_TOOL_BASE_URL": base_url,
        "BENCH_SECRET_KEY": secrets.token_urlsafe(32),
        "BENCH_DATABASE_URL": database_url,
    }
    server = Gunicorn("floor", "floor_tool:app", port, env, BENCH, workdir).start("/")
    target = FloorTarget("floor", "(d) the stack's floor", 1, server, base_url, users, platform)
    target.prepare()
    return target


# --------------------------------------------------------------------------- report


def source_fingerprint() -> str:
    """Ties the figures to a state of ibm_lms without asking git."""
    digest = hashlib.sha256()
    for path in sorted(p for p in (ROOT / "ibm_lms").rglob("*") if p.suffix in {".py", ".html", ".mako"}):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def machine() -> dict:
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pg_version = run_command(["psql", *pg_args(), "-Atc", "show server_version", "postgres"]).strip()
    except BenchError:
        pg_version = "unknown"
    from importlib.metadata import version

    libs = ", ".join(f"{name} {version(name)}" for name in
                     ("Flask", "gunicorn", "pylti1p3next", "SQLAlchemy", "psycopg", "PyJWT", "requests"))
    return {
        "fingerprint": source_fingerprint(),
        "cores": os.cpu_count(),
        "cpu": cpu_model,
        "memory": f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
        "os": f"{pyplatform.system()} {pyplatform.release()}",
        "python": pyplatform.python_version(),
        "postgres": pg_version,
        "libraries": libs,
    }


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def table(results: list[Result]) -> list[str]:
    header = ("app", "flows", "wall s", "flows/s", "server CPU ms/flow", "PostgreSQL CPU ms/flow",
              "driver CPU ms/flow", "JWKS fetches (warm-up)", "JWKS fetches / 100 launches (measured)")
    rows = [header, tuple("---" for _ in header)]
    for r in results:
        m = r.measured
        has_launch = r.target.launches_per_flow > 0
        rows.append((
            r.target.label,
            str(m.flows),
            _fmt(m.seconds),
            _fmt(r.flows_per_second, 1),
            _fmt(r.per_flow_ms(m.server_cpu)),
            _fmt(r.per_flow_ms(m.pg_cpu)),
            _fmt(r.per_flow_ms(m.driver_cpu)),
            str(r.warmup.jwks_fetches) if has_launch else "n/a",
            _fmt(r.jwks_per_100, 1) if has_launch else "n/a",
        ))
    return ["| " + " | ".join(row) + " |" for row in rows]


def verdicts(results: list[Result]) -> tuple[list[str], bool]:
    by = {r.target.name: r for r in results}
    hello, minimal, ours, floor = by["hello"], by["minimal"], by["ibm_lms"], by["floor"]
    throughput_ratio = ours.flows_per_second / minimal.flows_per_second
    ours_cpu = ours.per_flow_ms(ours.measured.server_cpu)
    minimal_cpu = minimal.per_flow_ms(minimal.measured.server_cpu)
    floor_cpu = floor.per_flow_ms(floor.measured.server_cpu)
    hello_cpu = hello.per_flow_ms(hello.measured.server_cpu)
    total_fetches = ours.warmup.jwks_fetches + ours.measured.jwks_fetches
    # The reference run: the minimal tool 4.5 ms and a bare request 0.34 ms per flow, so its
    # 1.5 ms goal is a third of the minimal tool and 4.4 bare requests; restated as ratios of this run.
    reference_minimal_share = 1.5 / 4.5
    reference_bare_multiple = 1.5 / 0.34
    goals = [
        ("throughput ours / minimal", f"{throughput_ratio:.2f}x", ">= 2.00x", throughput_ratio >= 2.0),
        ("server CPU per flow, ours", f"{ours_cpu:.2f} ms", "<= 1.50 ms", ours_cpu <= 1.5),
        ("the same, as a share of the minimal tool's (1.5 / 4.5 in the issue's reference run)",
         f"{ours_cpu / minimal_cpu:.2f}", f"<= {reference_minimal_share:.2f}",
         ours_cpu / minimal_cpu <= reference_minimal_share),
        ("the same, in bare requests (1.5 / 0.34 in the issue's reference run)",
         f"{ours_cpu / hello_cpu:.1f}", f"<= {reference_bare_multiple:.1f}",
         ours_cpu / hello_cpu <= reference_bare_multiple),
        ("JWKS fetches, ours (warm-up + measured)",
         f"{ours.warmup.jwks_fetches} + {ours.measured.jwks_fetches}", "1 + 0",
         ours.measured.jwks_fetches == 0 and total_fetches <= 1),
    ]
    met = all(ok for *_, ok in goals)
    lines = ["| goal | measured | target | met |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {value} | {target} | {'yes' if ok else 'NO'} |" for name, value, target, ok in goals]
    lines += [
        "",
        f"All goals met: **{'yes' if met else 'no'}**.",
        "",
        "Other ratios from the same run:",
        "",
        f"- server CPU per flow, minimal / ours: {minimal_cpu / ours_cpu:.2f}x",
        f"- server CPU per flow, ours / one bare hello request: {ours_cpu / hello_cpu:.1f}x",
        f"- server CPU per flow, minimal / one bare hello request: {minimal_cpu / hello_cpu:.1f}x",
        f"- two bare hello requests (the floor for a two-request flow under gunicorn sync workers): "
        f"{2 * hello_cpu:.2f} ms server CPU",
        f"- server + PostgreSQL CPU per flow, ours: "
        f"{ours_cpu + ours.per_flow_ms(ours.measured.pg_cpu):.2f} ms",
        f"- throughput, hello requests/s / ours flows/s: {hello.flows_per_second / ours.flows_per_second:.1f}x",
        "",
        "The stack's floor (d) does only what no tool can skip (one INSERT, one RS256 check, one DELETE, "
        "the cookies and redirects) and validates nothing else. Measured against the same goals:",
        "",
        f"- server CPU per flow, floor: {floor_cpu:.2f} ms; ours / floor: {ours_cpu / floor_cpu:.2f}x "
        f"(ours spends {ours_cpu - floor_cpu:.2f} ms per flow on everything the floor skips)",
        f"- floor as a share of the minimal tool's: {floor_cpu / minimal_cpu:.2f} "
        f"(goal for ours <= {reference_minimal_share:.2f})",
        f"- floor in bare requests: {floor_cpu / hello_cpu:.1f} (goal for ours <= {reference_bare_multiple:.1f})",
        f"- throughput floor / minimal: {floor.flows_per_second / minimal.flows_per_second:.2f}x "
        "(goal for ours >= 2.00x)",
        "",
        "Reading the throughput ratio: all processes share the machine's cores, so flows/s is bounded by the "
        "CPU everything spends per flow.",
        "",
    ]
    cores = os.cpu_count() or 1
    for r in (minimal, ours):
        m = r.measured
        busy = (m.server_cpu + m.pg_cpu + m.driver_cpu) / m.seconds / cores * 100
        lines.append(f"- {r.target.label}: server + PostgreSQL + driver CPU kept {busy:.0f}% of {cores} cores busy")
    minimal_total = minimal.per_flow_ms(minimal.measured.server_cpu + minimal.measured.pg_cpu
                                        + minimal.measured.driver_cpu)
    ours_floor = ours.per_flow_ms(ours.measured.pg_cpu + ours.measured.driver_cpu)
    lines.append(
        f"- even with zero server CPU for ours, this driver and database would cap the ratio near "
        f"{minimal_total:.2f} / {ours_floor:.2f} = {minimal_total / ours_floor:.2f}x on this machine"
    )
    for r in (minimal, ours, floor):
        launch = r.per_flow_ms(r.measured.launch_server_cpu)
        login = r.per_flow_ms(r.measured.server_cpu) - launch
        lines.append(f"- {r.target.label}: server CPU per login {login:.2f} ms, per launch {launch:.2f} ms")
    lines.append(
        f"- the platform's RS256 signing, done between the timed steps: "
        f"{ours.per_flow_ms(ours.measured.platform_cpu):.2f} ms CPU per flow (not in any figure above)"
    )
    return lines, met


def write_results(path: Path, results: list[Result], info: dict, args, started: dt.datetime) -> list[str]:
    goal_lines, _ = verdicts(results)
    lines = [
        "# Login+launch benchmark: results",
        "",
        f"One run of `bench/run.py` on {started.strftime('%Y-%m-%d %H:%M UTC')}: "
        f"{args.flows} measured flows per app after {args.warmup} warm-up flows, in {args.rounds} rounds "
        f"that alternate the apps, {args.clients} client threads, gunicorn with {WORKERS} sync workers, "
        "PostgreSQL on loopback.",
        "",
        "## Goals",
        "",
        *goal_lines,
        "",
        "## Absolute numbers of this run",
        "",
        *table(results),
        "",
        "- A flow of (a) is one `GET /hello`; a flow of (b), (c) and (d) is the OIDC login (GET, 302) plus "
        "the launch (POST id_token+state; (b) answers 200 with a page, (c) and (d) answer 303 to /courses/).",
        "- Flows run in two timed steps: every login, then every launch. Between them the platform "
        "signs each id token with the nonce its login sent; in production that happens on the "
        "platform's machine, so its CPU stays out of the timed windows (reported above).",
        "- server CPU: user+system of the gunicorn master and both workers over the timed steps.",
        "- PostgreSQL CPU: all postgres processes (only (c) and (d) use the database). Driver CPU: the client "
        "threads (http.client, one connection per request) plus the platform's JWKS server process.",
        "- JWKS fetches are counted at the platform's key-set endpoint (served with Cache-Control: "
        "max-age=3600); the warm-up column includes the very first launch. pylti1p3's defaults (b) keep "
        "no public-key cache.",
        "- All processes share the same cores, so flows/s is bounded by the sum of server, database and "
        "driver CPU; the CPU-per-flow figures, and their ratios, are the ones to compare across machines.",
        "",
        "## Machine",
        "",
        f"- {info['cores']} cores: {info['cpu']}, {info['memory']} RAM, {info['os']}",
        f"- Python {info['python']}, PostgreSQL {info['postgres']}",
        f"- {info['libraries']}",
        f"- ibm_lms source fingerprint (sha256 of ibm_lms/**/*.py, *.html, *.mako): {info['fingerprint']}",
        "",
        "## Reproduce",
        "",
        "```sh",
        "scripts/setup test   # from the repository root",
        ".venv/bin/pip install -e '.[test,bench]'   # gunicorn, psutil",
        f".venv/bin/python bench/run.py --flows {args.flows} --warmup {args.warmup} --clients {args.clients} "
        f"--rounds {args.rounds}",
        "```",
        "",
        "Needs PostgreSQL on 127.0.0.1:5432 (user `postgres`, trust auth) and the `createdb`/`dropdb` "
        f"clients; the database `{DB_NAME}` is dropped and recreated on every run. The script rewrites "
        "this file.",
        "",
    ]
    path.write_text("\n".join(lines))
    return goal_lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=2000, help="measured flows per app (default 2000)")
    parser.add_argument("--warmup", type=int, default=100, help="warm-up flows per app (default 100)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads (default 4)")
    parser.add_argument("--users", type=int, default=200, help="distinct platform users (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds alternating the apps (default 5)")
    parser.add_argument("--time-limit", type=float, default=90.0, help="seconds allowed per phase (default 90)")
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    if not (1 <= args.flows <= 100_000 and 0 <= args.warmup <= 10_000 and 1 <= args.clients <= 32
            and 1 <= args.users <= 100_000 and 1 <= args.rounds <= min(args.flows, 100)):
        parser.error("flows, warmup, clients, users or rounds out of range")
    for tool in ("dropdb", "createdb", "psql"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} not found on PATH")

    started = dt.datetime.now(dt.UTC)
    info = machine()
    users = bench_users(args.users)
    results: list[Result] = []
    platform = PlatformProcess().start()
    print(f"platform (JWKS) at {platform.base_url}; {args.warmup} warm-up + {args.flows} measured flows, "
          f"{args.clients} clients", flush=True)
    targets: list[Target] = []
    try:
        with tempfile.TemporaryDirectory(prefix="ibm-lms-bench-") as tmp:
            workdir = Path(tmp)
            for setup in (setup_hello, setup_minimal, setup_ours, setup_floor):
                targets.append(setup(workdir, platform, users))
            warmups = {}
            for target in targets:
                print(f"{target.label}: warm-up ...", flush=True)
                warmups[target.name] = run_flows(target, args.warmup, args.clients, 0, args.time_limit)
            # Rounds alternate the apps, so a change in the machine's speed during the run (shared
            # hosts have them) weighs on all apps alike instead of on whichever ran at that moment.
            measured: dict[str, Phase] = {}
            per_round = [args.flows // args.rounds + (1 if r < args.flows % args.rounds else 0)
                         for r in range(args.rounds)]
            first = args.warmup
            for round_index, count in enumerate(per_round, start=1):
                for target in targets:
                    phase = run_flows(target, count, args.clients, first, args.time_limit)
                    measured[target.name] = measured[target.name] + phase if target.name in measured else phase
                first += count
                print(f"round {round_index}/{args.rounds} done", flush=True)
            for target in targets:
                total = measured[target.name]
                total.flows = args.flows
                results.append(Result(target, warmups[target.name], total))
                r = results[-1]
                print(f"{target.label}: {r.flows_per_second:.1f} flows/s, "
                      f"{r.per_flow_ms(total.server_cpu):.2f} ms server CPU/flow", flush=True)
    except BenchError as error:
        print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        for target in targets:
            target.server.stop()
        platform.stop()

    if source_fingerprint() != info["fingerprint"]:
        print("\nBENCHMARK INVALID: ibm_lms changed while the benchmark ran; run it again.", file=sys.stderr)
        return 1
    goal_lines = write_results(args.results, results, info, args, started)
    print()
    print("\n".join(table(results)))
    print()
    print("\n".join(goal_lines))
    print(f"\nmachine: {info['cores']} cores, {info['cpu']}; written to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
