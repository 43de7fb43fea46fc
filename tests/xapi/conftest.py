"""A real Learning Record Store for the xAPI tests: Ralph 5.1.0, one server and one fresh store per test.

``lrs`` starts Ralph's LRS app (file-system backend, HTTP basic auth, the work-arounds described in ralph_server.py)
on a free loopback port, waits until ``/__heartbeat__`` answers and gives the test an ``Lrs``: the endpoint an xAPI
client appends ``statements`` to, the credentials, helpers that read the statements back through the xAPI API
(``GET /xAPI/statements``, following ``more`` links, with ``X-Experience-API-Version: 1.0.3``), and ``stop()`` and
``start()`` to simulate an outage. Teardown stops the server (SIGTERM, then SIGKILL after 5 s) whatever the test
did. The store, the credentials file and the server's log are in ``tmp_path / "ralph"``.

How a server is started (``IBM_LMS_TEST_RALPH_LAUNCHER``):

- ``fork``, the default on Linux: one fork server per pytest process (``python -m tests.xapi.ralph_server
  --fork-server``) imports Ralph once and forks a server per test. No server outlives pytest: the fork server stops
  its servers when its stdin pipe from pytest closes (pytest exited or died), the servers exit on that end of file
  too, and the kernel kills them if the fork server dies (PR_SET_PDEATHSIG).
- ``spawn``: ``python -m tests.xapi.ralph_server --fd N`` per server, a child of pytest, which exits when its stdin
  pipe from pytest closes.

In both, pytest binds the port and passes the socket: no other process can take it between the choice and the bind;
``start()`` after ``stop()`` binds the same port again.

Start-up, measured on this machine (2 CPUs shared with other jobs, load average 2.5), from the request to the first
answer of ``/__heartbeat__``:

- fork: 0.03 to 0.09 s a server (median 0.044 s, over 15), after 1.0 to 1.1 s once per pytest process for the fork
  server (0.85 s of CPU importing FastAPI, uvicorn and Ralph's pydantic models; a bare interpreter takes 0.03 s).
- spawn: 1.2 to 2.0 s a server (median 1.6 s; 0.87 s on an idle machine).
- Ralph's imports take 0.85 s of CPU with the trims of ralph_server.py (bcrypt's cost at import, sentry_sdk, the
  unused backends), 1.15 s without.
- Stopping takes 0.2 s either way: uvicorn's graceful shutdown (a 0.1 s tick, then a 0.1 s pause).

What Ralph 5.1.0 answers, measured by test_ralph_fixture.py (the delivery worker must handle all of it):

- POST of new statements: 200 and the list of their ids, lower-case (an upper-case id is stored lower-case, and a
  GET by the upper-case id then finds nothing).
- POST of a statement whose id is stored already, equivalent: 204 with no body, nothing stored. "Equivalent" is
  ralph/utils.py:167 ``statements_are_equivalent``: actor, verb, object, id, result, context, attachments, and the
  timestamp and version when both have them, compared as JSON values: a verb display that differs, or the same
  instant written "…00.000Z" instead of "…00Z", is a different statement.
- POST of a statement whose id is stored already, different: 409 {"detail": "Differing statements already exist
  with the same ID: <id>"}.
- A statement sent without a timestamp gets the time of that POST as timestamp: sent again, it is a 409, not a 204.
- POST of a batch holding one equivalent duplicate among new statements: 200 listing only the new ids; a batch
  of only equivalent duplicates: 204. A batch holding one differing duplicate: 409 and none of the batch is
  stored. The same id twice in one batch: 400. An empty batch: 400. An invalid actor or id: 422 (not 400).
- Ralph is lax: it stores verbs whose id is no IRI, ``"timestamp": "yesterday"``, ``"scaled": 7``. Our own
  validation must be stricter: accepted by Ralph is not valid xAPI.
- Wrong password, unknown user or no credentials: 401 with ``WWW-Authenticate: Basic``.
- It neither requires nor sends ``X-Experience-API-Version`` (the helpers send it all the same).
- ``GET ?statementId=`` answers a StatementResult ``{"statements": [...]}``, empty for an unknown id (200, not
  404). The fs backend lists statements oldest first (xAPI says newest first), in pages of 100; ``more`` is a path
  from the server's root, also when the last page is exactly full (then an empty page follows); ``ascending=true``
  reverses each page only; ``since`` and ``until`` compare the statements' timestamp, not ``stored``.
- A stored statement is the statement as sent (same JSON values, timestamp string untouched) plus ``stored`` and
  ``authority`` (the credentials' agent), and ``timestamp`` when it had none.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.xapi.ralph_server import write_auth_file

ROOT = Path(__file__).resolve().parents[2]
XAPI_VERSION = "1.0.3"
XAPI_HEADERS = {"X-Experience-API-Version": XAPI_VERSION}
HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
REQUEST_TIMEOUT = 10.0
MAX_PAGES = 10_000

_running: set[RalphServer] = set()


class SpawnLauncher:
    """One interpreter per server: ``python -m tests.xapi.ralph_server --fd N``, a child of this process."""

    name = "spawn"

    def __init__(self) -> None:
        self.processes: dict[int, subprocess.Popen] = {}

    def launch(self, server: RalphServer, sock: socket.socket) -> int:
        command = [*_python_module(), "--fd", str(sock.fileno()), "--store", str(server.store),
                   "--auth", str(server.auth_file), "--history", str(server.history_file), "--exit-with-stdin"]
        with server.log_file.open("ab") as log:
            process = subprocess.Popen(command, cwd=server.directory, env=_environment(), stdin=subprocess.PIPE,
                                       stdout=log, stderr=subprocess.STDOUT, pass_fds=(sock.fileno(),))
        self.processes[process.pid] = process
        return process.pid

    def returncode(self, pid: int) -> int | None:
        return self.processes[pid].poll()

    def stop(self, pid: int) -> int | None:
        process = self.processes.pop(pid)
        try:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        finally:
            with suppress(OSError):
                process.stdin.close()
        return process.returncode


class ForkLauncher:
    """One interpreter for all the servers: ralph_server.py's fork server imports Ralph once (0.85 s of CPU, once per
    pytest process instead of once per test) and forks each server. Started on first use, stopped at exit; it stops
    and reaps the servers (SIGTERM, wait, SIGKILL after STOP_TIMEOUT), and stops them all when its stdin pipe from
    this process closes; on Linux the kernel kills its servers if it dies."""

    name = "fork"

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.scratch: Path | None = None

    def _started(self) -> socket.socket:
        if self.process is not None and self.process.poll() is None:
            return self.control
        self.close()
        self.scratch = Path(tempfile.mkdtemp(prefix="ralph-fork-server-"))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            command = [*_python_module(), "--fork-server", "--control-fd", str(theirs.fileno()),
                       "--scratch", str(self.scratch)]
            with (self.scratch / "fork-server.log").open("ab") as log:
                self.process = subprocess.Popen(command, cwd=self.scratch, env=_environment(), stdin=subprocess.PIPE,
                                                stdout=log, stderr=subprocess.STDOUT, pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        self.control = ours
        self._request({"command": "ping"}, timeout=START_TIMEOUT)
        return self.control

    def _request(self, request: dict, fds: tuple[int, ...] = (), timeout: float = STOP_TIMEOUT + 5) -> dict:
        control = self.control
        control.settimeout(timeout)
        try:
            socket.send_fds(control, [json.dumps(request).encode()], list(fds))
            reply = control.recv(65536)
        except OSError:  # TimeoutError, BrokenPipeError...
            reply = b""
        if not reply:
            log = self.log()
            self.close()
            raise RuntimeError(f"Ralph's fork server did not answer {request['command']!r}:\n{log}")
        reply = json.loads(reply)
        if "error" in reply:
            raise RuntimeError(f"Ralph's fork server: {reply['error']}\n{reply.get('traceback', '')}")
        return reply

    def launch(self, server: RalphServer, sock: socket.socket) -> int:
        self._started()
        paths = {"store": server.store, "auth": server.auth_file, "history": server.history_file, "log": server.log_file}
        return self._request({"command": "start", **{k: str(v) for k, v in paths.items()}}, (sock.fileno(),))["pid"]

    def returncode(self, pid: int) -> int | None:
        return self._request({"command": "poll", "pid": pid})["returncode"]

    def stop(self, pid: int) -> int | None:
        if self.control is None:  # the fork server is gone, and its servers with it
            return None
        return self._request({"command": "stop", "pid": pid, "timeout": STOP_TIMEOUT})["returncode"]

    def log(self) -> str:
        try:
            return (self.scratch / "fork-server.log").read_text(errors="replace")[-4000:]
        except (OSError, TypeError):
            return ""

    def close(self) -> None:
        """Stop the fork server, which stops its servers first."""
        process, control, self.process, self.control = self.process, self.control, None, None
        if control is not None:
            control.close()
        if process is not None:
            with suppress(OSError):
                process.stdin.close()
            try:
                process.wait(STOP_TIMEOUT + 5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback: no proxy from the environment
    return session


def _python_module() -> list[str]:
    return [sys.executable, "-m", "tests.xapi.ralph_server"]


def _environment() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("RALPH_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


LAUNCHERS = {"spawn": SpawnLauncher(), "fork": ForkLauncher()}
# fork needs os.fork, socket.send_fds and AF_UNIX SOCK_SEQPACKET: Linux; IBM_LMS_TEST_RALPH_LAUNCHER=spawn to compare.
DEFAULT_LAUNCHER = os.environ.get("IBM_LMS_TEST_RALPH_LAUNCHER") or ("fork" if sys.platform == "linux" else "spawn")


class RalphServer:
    """One Ralph at a time, on a port, a store and credentials that survive a stop() and start()."""

    def __init__(self, directory: Path, username: str, password: str, launcher: str = DEFAULT_LAUNCHER) -> None:
        self.directory = directory
        self.store = directory / "store"
        self.auth_file = directory / "auth.json"
        self.log_file = directory / "server.log"
        self.history_file = directory / "ralph-history.json"
        self.launcher = LAUNCHERS[launcher]
        self.port = 0
        self.pid: int | None = None
        self.startup_seconds: float | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self.store.mkdir(exist_ok=True)
        write_auth_file(self.auth_file, username, password)

    @property
    def root(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def start(self) -> None:
        if self.pid is not None:
            raise RuntimeError(f"Ralph is running already (pid {self.pid})")
        started = time.perf_counter()
        # This process binds, the server listens: no other process can take the port between the two.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((HOST, self.port))
            self.port = sock.getsockname()[1]
            self.pid = self.launcher.launch(self, sock)
        finally:
            sock.close()
        _running.add(self)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        with _session() as session:
            while True:
                with suppress(requests.ConnectionError, requests.Timeout):
                    if session.get(self.root + "__heartbeat__", timeout=1).status_code == 200:
                        return
                returncode = self.launcher.returncode(self.pid)
                if returncode is not None:
                    raise RuntimeError(f"Ralph exited with {returncode} before answering:\n{self.log()}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Ralph did not answer on {self.root} within {START_TIMEOUT} s:\n{self.log()}")
                time.sleep(0.005)

    def stop(self) -> None:
        pid, self.pid = self.pid, None
        if pid is None:
            return
        try:
            self.launcher.stop(pid)
        finally:
            _running.discard(self)

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""


@atexit.register
def _stop_all() -> None:
    for server in list(_running):
        with suppress(Exception):
            server.stop()
    LAUNCHERS["fork"].close()


@dataclass
class Lrs:
    """A running Ralph, as an xAPI client sees it, and the test's ways to look inside and to cut it off."""

    endpoint: str  # the base URL an xAPI client appends "statements" to
    username: str
    password: str
    server: RalphServer = field(repr=False, compare=False)

    @property
    def auth(self) -> tuple[str, str]:
        return self.username, self.password

    @property
    def headers(self) -> dict[str, str]:
        return dict(XAPI_HEADERS)

    @property
    def pid(self) -> int | None:
        """The server's process id, None while it is stopped."""
        return self.server.pid

    @property
    def store(self) -> Path:
        """The directory of Ralph's fs_lrs.jsonl."""
        return self.server.store

    def statements(self) -> list[dict]:
        """Every stored statement, in Ralph's order (oldest first), through GET /xAPI/statements and its more links."""
        url, seen, found = self.endpoint + "statements", set(), []
        with _session() as session:
            for _ in range(MAX_PAGES):
                body = self._get(session, url)
                found.extend(body["statements"])
                if not body.get("more"):
                    return found
                url = urljoin(self.endpoint, body["more"])
                if url in seen:
                    raise AssertionError(f"Ralph's more links go round in circles at {url}")
                seen.add(url)
        raise AssertionError(f"more than {MAX_PAGES} pages of statements")

    def statement(self, statement_id: str) -> dict | None:
        """The stored statement with this id (in any case: Ralph stores ids lower-case), or None."""
        with suppress(ValueError):
            statement_id = str(uuid.UUID(statement_id))
        with _session() as session:
            body = self._get(session, self.endpoint + "statements", {"statementId": statement_id}, missing_ok=True)
        if body is None or "statements" not in body:  # xAPI's answers; Ralph 5.1.0 answers a StatementResult
            return body
        return next((s for s in body["statements"] if s.get("id") == statement_id), None)

    def _get(self, session: requests.Session, url: str, params: dict | None = None, *, missing_ok: bool = False):
        response = session.get(url, params=params, auth=self.auth, headers=XAPI_HEADERS, timeout=REQUEST_TIMEOUT)
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code != 200:
            raise AssertionError(f"GET {response.url}: {response.status_code} {response.text[:1000]}")
        return response.json()

    def stop(self) -> None:
        """Stop the server, as in an outage: connections are refused; the store stays."""
        self.server.stop()

    def start(self) -> None:
        """Start the server again, on the same port, with the same store and credentials."""
        self.server.start()


@contextmanager
def running_lrs(directory: Path, launcher: str = DEFAULT_LAUNCHER) -> Iterator[Lrs]:
    """A Ralph serving a fresh store in ``directory``, stopped on the way out whatever happened."""
    username, password = "ibm-lms-test", secrets.token_urlsafe(16)
    server = RalphServer(directory, username, password, launcher)
    try:
        server.start()
        yield Lrs(endpoint=server.root + "xAPI/", username=username, password=password, server=server)
    finally:
        server.stop()


@pytest.fixture
def lrs(tmp_path) -> Iterator[Lrs]:
    with running_lrs(tmp_path / "ralph") as running:
        yield running
