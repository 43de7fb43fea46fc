"""Ralph 5.1.0's LRS for the tests: the file-system backend, HTTP basic auth, served by uvicorn in this interpreter.

One server:

    python -m tests.xapi.ralph_server --port P --store DIR --auth FILE [--fd N] [--exit-with-stdin]

configures Ralph through its environment (RALPH_* variables, read when ``ralph.conf`` is first imported), patches
what settings cannot reach, and serves ``ralph.api:app`` (``ralph runserver`` would start uvicorn with
``reload=True``: a second interpreter and a file watcher). With ``--fd`` it listens on a socket its parent bound, so
no other process can take the port between the choice and the bind. With ``--exit-with-stdin`` it shuts down when
its standard input reaches end of file: its parent closed the pipe, or died, even by SIGKILL.

A fork server, for the fixture (tests/xapi/conftest.py):

    python -m tests.xapi.ralph_server --fork-server --control-fd N --scratch DIR   (stdin: a pipe from the parent)

imports Ralph once (about 0.75 s of CPU), then forks one server per request received on the control socket (a Unix
SOCK_SEQPACKET socket; each request is a JSON message and, for "start", the bound listening socket's descriptor):
a server is ready in a few milliseconds. It is the servers' parent: it stops them (SIGTERM, wait, SIGKILL after a
timeout) and reaps them on request, and stops them all when its stdin or its control socket reaches end of file.
Each forked server also shuts down by itself when that stdin pipe (inherited, never written to) closes, and on Linux
is killed by the kernel if the fork server dies (PR_SET_PDEATHSIG).

Work-arounds, checked against ralph-malph 5.1.0 (paths under site-packages/ralph/):

- backends/data/fs.py:77 ``default_operation_type = BaseOperationType.CREATE``, and backends/lrs/fs.py:61 passes no
  operation type, so backends/data/fs.py:338-345 refuses to write to the existing ``fs_lrs.jsonl``: every POST after
  the first one is a 500 ("Statements bulk indexation failed", api/routers/statements.py:226-231). No setting reaches
  it: ``FSLRSBackend.default_operation_type`` is set to APPEND here.
- backends/data/mixins.py:56-58: every read and write of the backend (data/fs.py:214, 227 and 364, so every GET and
  every POST, which reads the store to look for duplicates) rewrites the whole history file with one more entry; the
  LRS never reads it. No setting switches it off: ``append_to_history`` is a no-op on the fs backend here, and
  ``HISTORY_FILE`` points at a throw-away path anyway (by default it is ~/.config/ralph/history.json).
- backends/lrs/fs.py:84 and 103-113 read the whole ``fs_lrs.jsonl`` on every GET and POST: the fixture gives each
  test a fresh store directory.

Start-up, to keep it short (measured in tests/xapi/conftest.py):

- api/auth/basic.py:23 hashes an unused password with bcrypt's default cost (12 rounds, about 0.25 s) at import:
  ``bcrypt.gensalt`` defaults to 4 rounds during the import. The auth file's hashes are made with 4 rounds as well.
- backends/loader.py:91-95 imports every LRS backend listed in the entry points (es, mongo, clickhouse...), and
  api/__init__.py:7 imports sentry_sdk (about 0.13 s) only to call ``sentry_sdk.init`` when SENTRY_DSN is set, which
  it never is here: the loader is given the fs backend only, and sentry_sdk a stub that refuses to be initialised.

Ralph's own environment is not inherited: every RALPH_* variable of the caller is dropped, and the working directory
is the run directory, so no ``.env`` file of the repository or of the developer is read.

Ralph is lax (api/models.py ``LaxStatement``: only the actor, the id's format, ``verb.id`` and ``object.id`` are
checked): it stores verbs whose id is not an IRI, ``"timestamp": "yesterday"``, ``"result": {"score": {"scaled":
7}}``. Accepted by Ralph does not mean valid xAPI: our own validation must be stricter.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
import types
from pathlib import Path

RALPH_VERSION = "5.1.0"
BCRYPT_ROUNDS = 4
LRS_FILE = "fs_lrs.jsonl"
MAX_MESSAGE = 65536

logger = logging.getLogger("tests.xapi.ralph_server")


def hash_password(password: str) -> str:
    """A bcrypt hash as ``ralph auth`` writes it (api/auth/basic.py checks it), with the cheapest cost."""
    import bcrypt

    return bcrypt.hashpw(password.encode("utf8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


def write_auth_file(path: Path, username: str, password: str, home_page: str = "https://lrs.test.invalid") -> None:
    """The credentials file ``ralph auth --write-to-disk`` writes: a JSON list of users, each with a bcrypt hash,
    scopes, an agent (the statements' ``authority``) and a target (None: the store's default file)."""
    user = {
        "username": username,
        "hash": hash_password(password),
        "scopes": ["all"],
        "agent": {"objectType": "Agent", "account": {"homePage": home_page, "name": username}},
        "target": None,
    }
    path.write_text(json.dumps([user], indent=2), encoding="utf8")


def configure_environment(store: Path, auth: Path, history: Path) -> None:
    """Ralph's settings, as environment variables: ralph.conf reads them when first imported, backends when made."""
    for name in [name for name in os.environ if name.startswith("RALPH_")]:
        del os.environ[name]
    os.environ.update(
        {
            "RALPH_APP_DIR": str(auth.parent),
            "RALPH_AUTH_FILE": str(auth),
            "RALPH_HISTORY_FILE": str(history),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_RUNSERVER_AUTH_BACKENDS": "basic",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(store),
            "RALPH_BACKENDS__LRS__FS__DEFAULT_LRS_FILE": LRS_FILE,
        }
    )


def _stub_sentry() -> None:
    def init(*args, **kwargs):
        raise RuntimeError("sentry_sdk is stubbed out by tests/xapi/ralph_server.py")

    sys.modules.setdefault("sentry_sdk", types.ModuleType("sentry_sdk")).init = init


def _no_history(self, event) -> None:
    """The fs backend's history is never read by the LRS; written, it grows on every request."""


def load_app():
    """Import Ralph's LRS app with the work-arounds in place; the environment must be configured first."""
    import bcrypt

    _stub_sentry()
    from ralph import __version__
    from ralph.backends import loader
    from ralph.backends.data.base import BaseOperationType
    from ralph.backends.data.fs import FSDataBackend
    from ralph.backends.lrs.fs import FSLRSBackend

    if __version__ != RALPH_VERSION:
        logger.warning("written for Ralph %s, running %s", RALPH_VERSION, __version__)
    for owner, name in ((FSDataBackend, "default_operation_type"), (FSDataBackend, "append_to_history"),
                        (loader, "get_lrs_backends")):
        if not hasattr(owner, name):
            raise RuntimeError(f"Ralph {__version__} has no {owner.__name__}.{name}: the work-arounds need updating")

    FSLRSBackend.default_operation_type = BaseOperationType.APPEND
    FSDataBackend.append_to_history = _no_history
    loader.get_lrs_backends = lambda: {"fs": FSLRSBackend}

    gensalt = bcrypt.gensalt
    bcrypt.gensalt = lambda rounds=BCRYPT_ROUNDS, prefix=b"2b": gensalt(rounds, prefix)
    try:
        from ralph.api import app
    finally:
        bcrypt.gensalt = gensalt
    return app


def _point_app_at(store: Path, auth: Path, history: Path) -> None:
    """In a forked server: the store and the credentials the app read at import become this server's."""
    from ralph.api.routers import health, statements
    from ralph.backends.lrs.fs import FSLRSBackend
    from ralph.conf import settings

    configure_environment(store, auth, history)
    settings.AUTH_FILE, settings.HISTORY_FILE = auth, history
    statements.BACKEND_CLIENT = FSLRSBackend()  # its settings come from the environment
    health.BACKEND_CLIENT = FSLRSBackend()


def _exit_when_stdin_closes() -> None:
    """End of file on stdin (fd 0, read raw: no lock a fork could inherit held): shut down as on SIGTERM."""

    def watch():
        try:
            while os.read(0, 1024):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def _die_with(parent: int) -> None:
    """Linux: SIGKILL when the fork server dies, however it dies (elsewhere only stdin's end of file stops us)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def serve(app, sock: socket.socket, log_level: str) -> None:
    import uvicorn

    config = uvicorn.Config(app, log_config=None, log_level=log_level, access_log=False, lifespan="off",
                            timeout_graceful_shutdown=2)
    uvicorn.Server(config).run(sockets=[sock])


def _paths(store: Path, auth: Path, history: Path | None) -> tuple[Path, Path, Path]:
    store, auth = store.resolve(), auth.resolve()
    store.mkdir(parents=True, exist_ok=True)
    return store, auth, (history or auth.parent / "ralph-history.json").resolve()


def _run_one(args) -> None:
    store, auth, history = _paths(args.store, args.auth, args.history)
    if not auth.is_file():
        raise SystemExit(f"no credentials file at {auth}")
    configure_environment(store, auth, history)
    os.chdir(auth.parent)  # pydantic-settings reads ./.env
    if args.fd is not None:
        sock = socket.socket(fileno=args.fd)
    else:
        sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
    if args.exit_with_stdin:
        _exit_when_stdin_closes()
    app = load_app()
    logger.info("Ralph %s on %s with the store %s", RALPH_VERSION, sock.getsockname()[:2], store)
    serve(app, sock, args.log_level)


class ForkServer:
    """Imports Ralph once, then forks a server per "start" request; the servers' parent, which reaps them."""

    def __init__(self, control: socket.socket, scratch: Path, log_level: str) -> None:
        self.control = control
        self.scratch = scratch
        self.log_level = log_level
        self.app = load_app()
        import uvicorn

        uvicorn.Config(self.app, log_config=None, lifespan="off").load()  # imports the protocol classes once
        self.children: dict[int, int | None] = {}  # pid: exit code, None while it runs

    def run(self) -> None:
        orphan = False
        try:
            while True:
                readable, _, _ = select.select([self.control, 0], [], [], 0.5)
                self._reap()
                if 0 in readable and not os.read(0, 1024):
                    orphan = True  # our parent died, or closed the pipe: nobody else will clean up
                    return
                if self.control in readable:
                    message, fds, _, _ = socket.recv_fds(self.control, MAX_MESSAGE, 1)
                    if not message:
                        return
                    try:
                        reply = self._handle(json.loads(message), fds)
                    except Exception as error:  # reported to the parent, which raises
                        reply = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
                    finally:
                        for fd in fds:
                            os.close(fd)
                    self.control.send(json.dumps(reply).encode())
        finally:
            for pid in [pid for pid, code in self.children.items() if code is None]:
                self._stop(pid, timeout=5.0)
            if orphan:
                shutil.rmtree(self.scratch, ignore_errors=True)

    def _handle(self, request: dict, fds: list[int]) -> dict:
        command = request["command"]
        if command == "ping":
            return {"pid": os.getpid()}
        if command == "start":
            return {"pid": self._fork(request, fds[0])}
        if command == "poll":
            self._reap()
            return {"returncode": self.children.get(request["pid"])}
        if command == "stop":
            return {"returncode": self._stop(request["pid"], request.get("timeout", 5.0))}
        raise ValueError(f"unknown command {command!r}")

    def _fork(self, request: dict, fd: int) -> int:
        store, auth, history = _paths(Path(request["store"]), Path(request["auth"]), Path(request["history"]))
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid:
            os.close(log)
            self.children[pid] = None
            return pid
        code = 1
        try:  # the server: never back into the fork server's loop
            _die_with(parent)
            self.control.close()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(log)
            os.chdir(auth.parent)
            _point_app_at(store, auth, history)
            _exit_when_stdin_closes()
            sock = socket.socket(fileno=fd)
            logger.info("Ralph %s on %s with the store %s", RALPH_VERSION, sock.getsockname()[:2], store)
            serve(self.app, sock, self.log_level)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _reap(self) -> None:
        for pid, code in self.children.items():
            if code is None:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    self.children[pid] = os.waitstatus_to_exitcode(status)

    def _stop(self, pid: int, timeout: float) -> int | None:
        if pid not in self.children:
            raise ValueError(f"{pid} is not a server of this fork server")
        if self.children[pid] is None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.005)
            else:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
            self.children[pid] = os.waitstatus_to_exitcode(status)
        return self.children.pop(pid)


def _run_fork_server(args) -> None:
    scratch = args.scratch.resolve()
    store, auth, history = _paths(scratch / "store", scratch / "auth.json", None)
    configure_environment(store, auth, history)  # the servers each get their own before serving
    os.chdir(scratch)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))  # through run()'s finally: stop the servers
    ForkServer(socket.socket(fileno=args.control_fd), scratch, args.log_level).run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.xapi.ralph_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="ignored with --fd")
    parser.add_argument("--fd", type=int, help="an inherited socket, bound, to listen on")
    parser.add_argument("--store", type=Path, help="the directory of fs_lrs.jsonl")
    parser.add_argument("--auth", type=Path, help="the credentials file (see write_auth_file)")
    parser.add_argument("--history", type=Path, help="never written; by default next to the credentials file")
    parser.add_argument("--exit-with-stdin", action="store_true", help="shut down when stdin reaches end of file")
    parser.add_argument("--fork-server", action="store_true", help="fork servers on request (see above)")
    parser.add_argument("--control-fd", type=int, help="the fork server's control socket (AF_UNIX, SOCK_SEQPACKET)")
    parser.add_argument("--scratch", type=Path, help="the fork server's own directory")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if args.fork_server and (args.control_fd is None or args.scratch is None):
        parser.error("--fork-server needs --control-fd and --scratch")
    if not args.fork_server and (args.store is None or args.auth is None):
        parser.error("--store and --auth are required")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.fork_server:
        _run_fork_server(args)
    else:
        _run_one(args)


if __name__ == "__main__":
    main()
