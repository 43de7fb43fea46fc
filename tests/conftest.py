"""Shared fixtures: the app on SQLite or PostgreSQL, a clean database per test, and a real test platform."""

from __future__ import annotations

import contextvars
import os
import re
import threading
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.support import Translations
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine

from ibm_lms import create_app
from ibm_lms.extensions import db
from ibm_lms.lti.data import LTI
from tests.platform import PlatformServer

ROOT = Path(__file__).resolve().parent.parent
TOOL_BASE_URL = "http://localhost"
# CI sets this to run the whole suite on PostgreSQL as well as on SQLite.
POSTGRES_URL = os.environ.get("IBM_LMS_TEST_DATABASE_URL")


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if POSTGRES_URL:
        _reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def make_app(database_url: str, instance: Path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance),
        "BASE_URL": TOOL_BASE_URL,
        "COURSES_DIR": str(ROOT / "courses"),
        # The test platforms listen on loopback, which registration refuses unless an administrator lists it.
        "REGISTRATION_ALLOWED_HOSTS": ("127.0.0.1",),
        # Every test that publishes a learning event checks the statements it makes.
        "XAPI_INVALID_STATEMENTS": "raise",
        # The suite launches hundreds of times from one address; tests/test_rate_limits.py switches limits on.
        "RATE_LIMITS": False,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def migrated_database(database_url, tmp_path_factory) -> tuple[str, Path]:
    """The schema, made once per session; the instance folder every test's app shares."""
    instance = tmp_path_factory.mktemp("instance")
    setup = make_app(database_url, instance)
    with setup.app_context():
        upgrade(directory=setup.extensions["migrate"].directory)
        db.engine.dispose()
    return database_url, instance


@pytest.fixture
def app(migrated_database):
    """A fresh app per test, as a fresh process would have: its caches and subscribers start empty."""
    app = make_app(*migrated_database)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def another_worker(migrated_database):
    """Makes apps on the same database, as further worker processes would be: nothing in memory shared."""
    started = []

    def start():
        started.append(make_app(*migrated_database))
        started[-1].test_client_class = IsolatedClient
        return started[-1]

    yield start
    for worker in started:
        with worker.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def clean_database(request):
    """Every test that uses the app starts with empty tables and leaves none behind, even when it fails; a test of
    pure code (no `app` among its fixtures) makes no app at all. The shipped courses' rows are the one exception:
    they stay for the next test that asks for `courses`, unless something wrote to their tables (see
    `_ShippedCourses`)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    context = app.app_context()
    context.push()
    if "courses" not in request.fixturenames:
        _shipped.remove()
    try:
        yield
    finally:
        db.session.rollback()
        _shipped.clear_around()
        db.session.remove()
        context.pop()


class IsolatedClient(FlaskClient):
    """Runs each request in an empty context, as a server would.

    The tests hold an app context open for direct database access; without this,
    requests would share its `g` (and Flask-Babel's cached locale) with each other.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


class _ShippedCourses:
    """The shipped courses' rows, kept in the database from one test to the next.

    A load takes seconds (most of it reading TOML), so only the session's first one runs: it records the rows it
    added. Putting those rows back for every test still cost seconds once the courses held eight languages, so
    they stay in place between tests that ask for `courses`, and only the other tables are emptied. Any INSERT,
    UPDATE or DELETE on a course table from this process (an app, a worker thread, a CLI runner) marks them
    changed, and a change in a table's row count catches one from elsewhere; either way the next test gets the
    recorded rows afresh. tests/content/test_catalogue.py checks that a load after such a copy finds nothing to
    change."""

    def __init__(self):
        self.rows: dict[str, list[dict]] = {}
        self.in_database = False
        self.changed = False
        self._writes = None

    def provide(self, app) -> None:
        from ibm_lms.content import service

        if self.in_database and not self.changed:
            return
        if self.rows:
            if self.in_database:
                _delete_rows_of(self._course_tables())
            for table in db.metadata.sorted_tables:
                if self.rows.get(table.name):
                    db.session.execute(table.insert(), self.rows[table.name])
            db.session.commit()
        else:
            before = _rows_by_table()
            service.load(Path(app.config["COURSES_DIR"]))
            after = _rows_by_table()
            for name, rows in after.items():
                self.rows[name] = [row for key, row in rows.items() if key not in before[name]]
            self._writes = re.compile(r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(?:"
                                      + "|".join(re.escape(name) for name in self.rows if self.rows[name])
                                      + r")\b", re.IGNORECASE)
        self.in_database, self.changed = True, False

    def notice(self, statement: str) -> None:
        if self._writes is not None and self._writes.match(statement):
            self.changed = True

    def remove(self) -> None:
        """Before a test that does not ask for the courses: it starts with every table empty."""
        if self.in_database:
            self._clear(everything=True)

    def clear_around(self) -> None:
        """After a test: every table emptied, the courses' tables kept when they hold just the recorded rows."""
        keep = self.in_database and not self.changed and all(
            db.session.execute(select(func.count()).select_from(table)).scalar_one()
            == len(self.rows.get(table.name) or ())
            for table in self._course_tables())
        self._clear(everything=not keep)

    def _course_tables(self):
        return [table for table in db.metadata.sorted_tables if self.rows.get(table.name)]

    def _clear(self, *, everything: bool) -> None:
        kept = () if everything else set(self._course_tables())
        _delete_rows_of([table for table in db.metadata.sorted_tables if table not in kept])
        db.session.commit()
        if everything:
            self.in_database = False
        self.changed = False


def _delete_rows_of(tables) -> None:
    """Empties the tables (given in dependency order), children before the tables they refer to."""
    for table in reversed(tables):
        db.session.execute(table.delete())


_shipped = _ShippedCourses()


@event.listens_for(Engine, "before_cursor_execute")
def _notice_course_writes(connection, cursor, statement, parameters, context, executemany):
    _shipped.notice(statement)


def _rows_by_table() -> dict[str, dict[tuple, dict]]:
    found = {}
    for table in db.metadata.sorted_tables:
        key = [column.name for column in table.primary_key.columns]
        found[table.name] = {tuple(row[k] for k in key): dict(row)
                             for row in db.session.execute(select(table)).mappings()}
    return found


@pytest.fixture
def courses(app):
    """The shipped courses, as `ibm-lms content load` stores them (kept between tests, see `_ShippedCourses`)."""
    _shipped.provide(app)


@pytest.fixture(scope="session")
def _running_platform_server():
    server = PlatformServer(tool_base_url=TOOL_BASE_URL).start()
    yield server
    server.stop()


@pytest.fixture
def platform_server(_running_platform_server):
    """The test platform's HTTP server, started once per session but as fresh as a new one in every test."""
    _running_platform_server.reset()
    return _running_platform_server


@pytest.fixture
def platform(app, platform_server):
    """The test platform, registered with the tool as an administrator would."""
    from ibm_lms.lti import service

    # The platform verifies the tool's token requests with the keys the tool publishes.
    platform_server.services.tool_jwks = lambda: app.test_client().get("/.well-known/jwks.json").get_json()
    service.add_platform(
        tenant_slug="ge-academy",
        issuer=platform_server.base_url,
        client_id=platform_server.sim.client_id,
        auth_login_url=platform_server.auth_login_url,
        auth_token_url=platform_server.token_url,
        keyset_url=platform_server.keyset_url,
        deployment_ids=[platform_server.sim.deployment_id],
    )
    return platform_server


class Launcher:
    """Drives login and launch through the tool's HTTP interface, forging whatever a test asks."""

    def __init__(self, client, platform: PlatformServer):
        self.client = client
        self.platform = platform
        self.sim = platform.sim

    def login(self, method: str = "GET", **overrides) -> tuple[dict, object]:
        params = self.sim.login_parameters(
            target_link_uri=TOOL_BASE_URL + "/courses/", login_hint=self.platform.user.subject
        )
        params.update(overrides)
        params = {k: v for k, v in params.items() if v is not None}
        if method == "GET":
            response = self.client.get("/lti/login", query_string=params)
        else:
            response = self.client.post("/lti/login", data=params)
        if response.status_code == 302:
            auth_url = response.headers["Location"]
        else:
            found = re.search(r'data-auth-url="([^"]+)"', response.get_data(as_text=True))
            if not found:
                return {}, response
            auth_url = unescape(found.group(1))
        query = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
        return query, response

    def claims(self, auth: dict, *, locale: str | None = "en", target: str = TOOL_BASE_URL + "/courses/",
               **overrides) -> dict:
        claims = self.sim.launch_claims(
            nonce=auth["nonce"], target_link_uri=target, user=self.platform.user, locale=locale,
        )
        claims.update(self.platform.services.claims("demo-link-1"))
        for name, value in overrides.items():
            claims[name] = value
        self.platform.services.enrol(claims.get("sub"), claims.get(LTI + "roles"))
        return claims

    def post(self, token: str, state: str):
        return self.client.post("/lti/launch", data={"id_token": token, "state": state})

    def launch(self, *, locale: str | None = "en", remove: tuple = (), sign=None,
               target: str = TOOL_BASE_URL + "/courses/", **overrides):
        """A login for `target`, then a launch with its claims, minus `remove`, plus `overrides`."""
        auth, _ = self.login(target_link_uri=target)
        claims = self.claims(auth, locale=locale, target=target, **overrides)
        for name in remove:
            claims.pop(name, None)
        token = sign(claims) if sign else self.sim.sign(claims)
        return self.post(token, auth["state"])


@pytest.fixture
def launcher(client, platform):
    return Launcher(client, platform)


def error_code(response) -> str | None:
    found = re.search(r'data-error-code="(\w+)"', response.get_data(as_text=True))
    return found.group(1) if found else None


def translated(locale: str, msgid: str) -> str:
    """The catalog's own translation, read without the app, to check what a page shows against."""
    return Translations.load(str(ROOT / "translations"), [locale]).gettext(msgid)


def course_count() -> int:
    """How many courses the repository ships (every folder under courses/ is one)."""
    return sum(1 for entry in (ROOT / "courses").iterdir() if entry.is_dir() and not entry.name.startswith("."))


def course_without_locale(source_slug: str, locale: str, into: Path, *, slug: str, order: int) -> Path:
    """A copy of a shipped course, under another slug (or its own, to replace it), with every text in `locale` taken
    out (see `take_out_locale`): a course not yet translated into that language, whatever the shipped courses are
    translated into by now. Returns the folder holding the copy."""
    import shutil

    target = into / slug
    shutil.copytree(ROOT / "courses" / source_slug, target)
    course = target / "course.toml"
    course.write_text(re.sub(r"(?m)^order = \d+$", f"order = {order}",
                             course.read_text().replace(f'slug = "{source_slug}"', f'slug = "{slug}"')))
    take_out_locale(target, locale)
    return into


def course_order(slug: str) -> int:
    """Where a shipped course stands in the catalogue (its course.toml's `order`)."""
    import tomllib

    return tomllib.loads((ROOT / "courses" / slug / "course.toml").read_text())["order"]


def take_out_locale(course_folder: Path, locale: str) -> None:
    """Takes every text in `locale` out of a course folder (lessons, exercises, glossary, bank, quizzes, status), the
    course's own titles aside."""
    import shutil

    shutil.rmtree(course_folder / "lessons" / locale, ignore_errors=True)
    course = course_folder / "course.toml"
    status = course_folder / "translations.toml"
    status.write_text(re.sub(rf"(?m)^\[{locale}\]\n(?:(?!\[).*\n?)*", "", status.read_text()))
    for path in course_folder.rglob("*.toml"):
        if path not in (course, status):
            path.write_text(_without_entries_in(path.read_text(), locale))


def _without_entries_in(toml_text: str, locale: str) -> str:
    """The TOML text without its `<locale> = …` entries: lines of their own (multi-line strings included) and
    entries inside one-line inline tables (`{ en = "…", <locale> = "…" }`, lists of answers too)."""
    string = r'"(?:[^"\\]|\\.)*"' + "|" + r"'[^']*'"
    answers = r"\[(?:" + string + r"|[^\]" + "\"'" + r"])*\]"
    inline = re.compile(r",\s*" + locale + r"\s*=\s*(?:" + string + "|" + answers + ")")
    kept, closing = [], None
    for line in toml_text.splitlines(keepends=True):
        if closing:
            closing = None if closing in line else closing
            continue
        if line.startswith(f"{locale} = "):
            value = line[len(locale) + 3:]
            for delimiter in ("'''", '"""'):
                if value.startswith(delimiter) and delimiter not in value[3:]:
                    closing = delimiter
            continue
        kept.append(inline.sub("", line))
    return "".join(kept)


def count_rows(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def csrf_token(page_html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_html).group(1)


def cookies_of(client) -> dict[str, str]:
    """The cookies a test client holds, to hand to another client acting as the same browser."""
    return {cookie.key: cookie.value for cookie in client._cookies.values()}


def race_launches(app, attempts: list[tuple[dict, dict]]) -> list[int]:
    """Posts every (form fields, cookies) attempt to /lti/launch at the same moment, each from its own
    browser on its own thread; returns the statuses in the order of `attempts`."""
    statuses: list[int | None] = [None] * len(attempts)
    barrier = threading.Barrier(len(attempts))

    def attempt(index: int, form: dict, cookies: dict) -> None:
        browser = app.test_client()
        for key, value in cookies.items():
            browser.set_cookie(key, value)
        barrier.wait()
        statuses[index] = browser.post("/lti/launch", data=form).status_code

    threads = [threading.Thread(target=attempt, args=(index, *item)) for index, item in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return statuses
