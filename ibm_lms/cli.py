"""The `ibm-lms` command: serve, demo, db, and each room's sub-groups."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import DBAPIError, ProgrammingError

from .config import ConfigurationError
from .errors import DomainError

# Commands that read only files or their arguments: they sign nothing and touch no stored key.
_NEED_NO_SECRET = {("mrz", "check"), ("content", "check"), ("content", "coverage"), ("i18n", "check"),
                   ("i18n", "extract"), ("i18n", "update"), ("i18n", "compile"),
                   ("cert", "verify"), ("backup", "create"), ("backup", "restore"),
                   ("deploy", "nginx"), ("deploy", "systemd")}


def _needs_no_secret(argv: list[str]) -> bool:
    return len(argv) <= 1 or "--help" in argv[1:] or tuple(argv[1:3]) in _NEED_NO_SECRET


def _create_app():
    from . import create_app

    try:
        try:
            return create_app()
        except ConfigurationError:
            if not _needs_no_secret(sys.argv):
                raise
            # Help runs no command, and these commands read only files: a throwaway key lets a newcomer
            # use them before configuring. Any other setting still has to be valid.
            import secrets

            return create_app({"SECRET_KEY": secrets.token_urlsafe(32)})
    except ConfigurationError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)


# Flask-Migrate's commands an operator uses; the others (init, migrate, revision, edit, merge, stamp...) write
# migrations or rewrite history and are for developers (IBM_LMS_DEVELOPER=1 shows them).
_OPERATOR_DB_COMMANDS = {"upgrade", "current", "history", "heads", "show", "check", "downgrade"}


def _developer() -> bool:
    return os.environ.get("IBM_LMS_DEVELOPER", "") not in ("", "0")


def register_commands(app) -> None:
    from flask_migrate.cli import db as db_group

    from .backup import backup_group
    from .worker import worker_command

    app.cli.add_command(backup_group)
    app.cli.add_command(serve_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(worker_command)
    for name, command in db_group.commands.items():
        command.hidden = name not in _OPERATOR_DB_COMMANDS and not _developer()


def _tls_files(certfile: str | None, keyfile: str | None) -> tuple[str, str] | None:
    """Both or neither, and a pair that belongs together: checked here, in one line, not by a worker's crash."""
    if not certfile and not keyfile:
        return None
    if not (certfile and keyfile):
        raise click.UsageError("give --certfile and --keyfile together")
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, OSError) as error:
        raise click.ClickException(f"{certfile} and {keyfile} cannot serve https: {error.strerror or error}") from error
    return certfile, keyfile


def _port_is_free(host: str, port: int) -> None:
    """One line naming the port, instead of gunicorn retrying five times and stopping without a hint."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigurationError(f"cannot listen on {host}:{port} ({error.strerror}): another program uses the "
                                     "port; stop it or choose another with --port.") from None


def _run_gunicorn(load_app, *, host: str, port: int, workers: int, threads: int,
                  tls: tuple[str, str] | None = None, trusted_proxies: tuple[str, ...] = ("127.0.0.1",)) -> None:
    """Serves with gunicorn; each worker builds its own app (no database connection crosses a fork)."""
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("forwarded_allow_ips", ",".join(trusted_proxies))
            # Nothing here drives gunicorn through its control socket, which would live in $HOME.
            self.cfg.set("control_socket_disable", True)
            # No access log of gunicorn's own: the tool writes one line per request (ibm_lms.observability), by
            # route and without the query, where a cookieless session travels as ?ltik=….
            self.cfg.set("accesslog", None)
            if tls:
                self.cfg.set("certfile", tls[0])
                self.cfg.set("keyfile", tls[1])

        def load(self):
            return load_app()

    _Server().run()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Serve https with this certificate (PEM, with its chain) when no proxy ends TLS.")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The certificate's private key (PEM).")
def serve_command(host, port, workers, threads, certfile, keyfile):
    """Serve the tool with gunicorn."""
    from . import create_app, sealed

    tls = _tls_files(certfile, keyfile)
    _port_is_free(host, port)
    # Checked once before any worker starts: a changed secret key fails here, not at a trainee's launch.
    checked = create_app()
    with checked.app_context():
        sealed.require_readable(checked)
        from .i18n import service as i18n

        missing = i18n.missing_catalogs()
        if missing:
            raise click.ClickException(
                f"the compiled translation catalogs for {', '.join(missing)} are missing from "
                f"{checked.config['TRANSLATIONS_DIR']}: run 'ibm-lms i18n compile' in a checkout, or reinstall the "
                "package (its build compiles them)")
        from .config import require_public_address

        require_public_address(checked.config)
        from .extensions import db

        db.engine.dispose()

    def load_app():
        from .wsgi import app

        return app

    _run_gunicorn(load_app, host=host, port=port, workers=workers, threads=threads, tls=tls,
                  trusted_proxies=checked.config["FORWARDED_ALLOW_IPS"])


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Set up only.")
def demo_command(host, port, no_serve):
    """Set up the embedded default (SQLite), load the courses, register the demo platform, serve."""
    from flask_migrate import upgrade

    from . import create_app
    from .content import service as content
    from .demo.service import DEMO_TENANT, register_demo_platform

    if not no_serve:
        _port_is_free(host, port)  # before the set-up, so a busy port is said at once
    overrides = {"DEMO_MODE": True}
    if not os.environ.get("IBM_LMS_LOG_FORMAT"):
        overrides["LOG_FORMAT"] = "text"  # a newcomer's terminal, not a log collector
    if not os.environ.get("IBM_LMS_BASE_URL"):
        overrides["BASE_URL"] = f"http://{host}:{port}"
    app = create_app(overrides)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        report = content.load(Path(app.config["COURSES_DIR"]))
        click.echo(f"courses: {report.created} new, {report.updated} updated, {report.unchanged} unchanged")
        record = register_demo_platform()
        click.echo(f"demo platform registered: {record.issuer} (tenant {DEMO_TENANT})")
    if no_serve:
        return
    click.echo(f"\n  Open {app.config['BASE_URL']}/demo/ and press \"Launch as trainee\".\n")
    # Threads: the tool fetches the demo platform's keys from this same server. One worker: SQLite.
    def load_demo():
        from . import observability, worker

        demo = create_app(overrides)
        observability.configure_logging(demo.config["LOG_FORMAT"])
        worker.deliver_in_background(demo)  # scores reach the demo's gradebook without a worker process
        return demo

    _run_gunicorn(load_demo, host=host, port=port, workers=1, threads=4)


def main() -> None:
    # The demo runs without a configured secret key (it keeps a random one in the instance folder).
    if len(sys.argv) > 1 and sys.argv[1] == "demo":
        os.environ.setdefault("IBM_LMS_DEMO", "1")
    if sys.argv[1:] == ["--version"]:
        from importlib.metadata import PackageNotFoundError, version

        try:
            click.echo(f"ibm-lms {version('ibm-lms')}")
        except PackageNotFoundError:
            click.echo("ibm-lms (not installed as a package)")
        return
    # Flask's own commands (run, shell, routes) are for developers: IBM_LMS_DEVELOPER=1 shows them.
    cli = FlaskGroup(create_app=_create_app, add_default_commands=_developer(), add_version_option=False,
                     help="IBM Training Suite: an LTI 1.3 tool for Integrated Border Management training. "
                          "--version prints the version.")
    if not _developer():
        for option in cli.params:
            option.hidden = option.name in ("env_file", "app", "debug")
    try:
        cli.main(prog_name="ibm-lms")
    except (DomainError, ConfigurationError) as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    except DBAPIError as error:
        click.echo(f"Error: {_database_problem(error)}", err=True)
        sys.exit(1)


def _database_problem(error: DBAPIError) -> str:
    """One line an administrator can act on, instead of the driver's traceback."""
    reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__
    if isinstance(error, ProgrammingError) or "no such table" in reason:
        return (f"the database is not set up for this version ({reason}). "
                "Run 'ibm-lms db upgrade' with the same IBM_LMS_DATABASE_URL.")
    if "readonly database" in reason:
        return (f"the database could not be written ({reason}). Give the service's account write access to the "
                "database file and its folder (SQLite writes a journal beside it).")
    if "database is locked" in reason:
        return (f"the database is busy ({reason}). Another process holds a long write, or a backup or restore is "
                "running: try again when it has finished.")
    return f"the database could not be used ({reason}). Check IBM_LMS_DATABASE_URL and that the server is running."
