"""Settings: defaults, then IBM_LMS_* environment variables, then the mapping a caller hands to create_app."""

from __future__ import annotations

import importlib.util
import ipaddress
import math
import os
from pathlib import Path
from urllib.parse import urlsplit

from .locales import LOCALES

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
# A checkout keeps catalogs and courses beside the package; an installed wheel carries them in ibm_lms/bundled/
# (compiled at build time, see setup.py) and keeps its instance folder where the service runs.
CHECKOUT = (PROJECT_DIR / "setup.cfg").is_file() and (PROJECT_DIR / "translations").is_dir()
BUNDLED_DIR = PACKAGE_DIR / "bundled"

ENV_PREFIX = "IBM_LMS_"

# Environment names, without the prefix, mapped to Flask config keys.
_ENVIRONMENT_KEYS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "BASE_URL": "BASE_URL",
    "INSTANCE_PATH": "INSTANCE_PATH",
    "LRS_ENDPOINT": "LRS_ENDPOINT",
    "LRS_USERNAME": "LRS_USERNAME",
    "LRS_PASSWORD": "LRS_PASSWORD",
    "COURSES_DIR": "COURSES_DIR",
    "SCORM_PACKAGES_DIR": "SCORM_PACKAGES_DIR",
    "DEMO": "DEMO_MODE",
    "DEBUG": "DEBUG",
    "REGISTRATION_ALLOWED_HOSTS": "REGISTRATION_ALLOWED_HOSTS",
    "RECENT_WRITE_SECONDS": "RECENT_WRITE_SECONDS",
    "OUTBOX_COUNT_SECONDS": "OUTBOX_COUNT_SECONDS",
    "LOG_FORMAT": "LOG_FORMAT",
    "METRICS_TOKEN": "METRICS_TOKEN",
    "OBSERVABILITY": "OBSERVABILITY",
    "RATE_LIMITS": "RATE_LIMITS",
    "RATE_LIMIT_LAUNCH": "RATE_LIMIT_LAUNCH",
    "RATE_LIMIT_PUBLIC": "RATE_LIMIT_PUBLIC",
    "RATE_LIMIT_STORAGE": "RATE_LIMIT_STORAGE",
    "FORWARDED_ALLOW_IPS": "FORWARDED_ALLOW_IPS",
}

_BOOLEAN_KEYS = {"DEMO_MODE", "DEBUG", "TESTING", "OBSERVABILITY", "RATE_LIMITS"}


class ConfigurationError(RuntimeError):
    """Start-up stops with this when a setting is missing or unusable."""


def _as_bool(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    return value.strip().lower() in {"1", "true", "yes", "on"}


def defaults() -> dict:
    return {
        "BASE_URL": "http://127.0.0.1:5000",
        "INSTANCE_PATH": str((PROJECT_DIR if CHECKOUT else Path.cwd()) / "instance"),
        "COURSES_DIR": str((PROJECT_DIR if CHECKOUT else BUNDLED_DIR) / "courses"),
        "TRANSLATIONS_DIR": str((PROJECT_DIR if CHECKOUT else BUNDLED_DIR) / "translations"),
        # Installed from a wheel, packages are written where the command runs, never into site-packages.
        "SCORM_PACKAGES_DIR": str((PROJECT_DIR if CHECKOUT else Path.cwd()) / "scorm_packages"),
        "SQLALCHEMY_DATABASE_URI": None,
        # Recycling instead of a ping per checkout: a ping is a round trip on every request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800},
        "SECRET_KEY": None,
        "DEBUG": False,
        "TESTING": False,
        "DEMO_MODE": False,
        "LRS_ENDPOINT": None,
        "LRS_USERNAME": None,
        "LRS_PASSWORD": None,
        # A statement the tool builds invalid is parked for an administrator ("park") or, in the test suite,
        # refused with the request that caused it ("raise"), so that a wrong statement fails loudly.
        "XAPI_INVALID_STATEMENTS": "park",
        # Request logs as JSON lines ("json") or plain text ("text"); metrics and request ids on (OBSERVABILITY);
        # /metrics answers loopback, or a scraper presenting this bearer token.
        "LOG_FORMAT": "json",
        "OBSERVABILITY": True,
        "METRICS_TOKEN": None,
        # /healthz and /metrics reuse the outboxes' row counts this long (0: count at every probe): a count reads
        # every row the outboxes keep, and they keep delivered rows for ever.
        "OUTBOX_COUNT_SECONDS": 15,
        # Per client address on the anonymous endpoints: LTI login and launch (a classroom behind one NAT address
        # launches at once), and registration and certificate verification. Limits-library syntax.
        "RATE_LIMITS": True,
        "RATE_LIMIT_LAUNCH": "300 per minute",
        "RATE_LIMIT_PUBLIC": "60 per minute",
        "RATE_LIMIT_STORAGE": "memory://",
        # The reverse proxy whose X-Forwarded-* headers count (gunicorn's forwarded_allow_ips, same syntax).
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "LOCALES": LOCALES,
        "BABEL_DEFAULT_LOCALE": "en",
        # Id tokens and forms above this size are refused with 413 before any parsing.
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "MAX_FORM_MEMORY_SIZE": 64 * 1024,
        # How long a login's state and nonce wait for the launch that finishes it.
        "LTI_STATE_TTL_SECONDS": 600,
        # How long an instructor may take to pick content after a deep-linking launch.
        "LTI_DEEP_LINK_TTL_SECONDS": 3600,
        # Clock skew tolerated between platform and tool when checking exp and iat.
        "LTI_CLOCK_SKEW_SECONDS": 60,
        # An id token older than this is refused even if its exp is far away.
        "LTI_MAX_TOKEN_AGE_SECONDS": 3600,
        "LTI_JWKS_TIMEOUT_SECONDS": 5.0,
        # Each call to a platform's services (tokens, grades, rosters) gives up after twice this.
        "LTI_SERVICE_TIMEOUT_SECONDS": 10.0,
        # How long a process reuses a platform registration before reading it again.
        "LTI_PLATFORM_CACHE_SECONDS": 30,
        # Used when the platform's JWKS response carries no usable Cache-Control.
        "LTI_JWKS_DEFAULT_TTL_SECONDS": 3600,
        # An unknown kid triggers at most one refetch per key set in this window.
        "LTI_JWKS_MIN_REFETCH_SECONDS": 30,
        # A rotated-out tool key stays published this long (longer than any token it signed lives).
        "LTI_KEY_GRACE_SECONDS": 24 * 3600,
        # A worker notices courses another process loaded within this many seconds (its catalogue cache).
        "CONTENT_RECHECK_SECONDS": 5,
        # A launch rewrites unchanged user, context, enrolment and link rows at most this often (0: always).
        "RECENT_WRITE_SECONDS": 60,
        "WTF_CSRF_TIME_LIMIT": None,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        # The session is signed and sent again only when it changes (a launch, a language choice), not on
        # every page: a session lives PERMANENT_SESSION_LIFETIME from the launch that made it.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # A session carried in URLs (browsers without our cookies) is a bearer token: it lives shorter.
        "SESSION_TOKEN_MAX_AGE_SECONDS": 2 * 3600,
    }


def from_environment(environ: dict | None = None) -> dict:
    environ = os.environ if environ is None else environ
    found = {}
    for name, key in _ENVIRONMENT_KEYS.items():
        value = environ.get(ENV_PREFIX + name)
        if value is not None and value != "":
            found[key] = value
    return found


def cookie_policy(base_url: str) -> dict:
    """Cookie flags follow the public scheme.

    Over https the tool lives in Moodle's cross-site iframe, so every cookie must be
    SameSite=None; Secure; Partitioned (CHIPS) to survive third-party cookie blocking.
    Plain http is only for loopback demos and tests, where Secure cannot be set.
    """
    secure = urlsplit(base_url).scheme == "https"
    return {
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_SAMESITE": "None" if secure else "Lax",
        "SESSION_COOKIE_PARTITIONED": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_NAME": "ibm_lms_session",
    }


def build(overrides: dict | None = None, environ: dict | None = None) -> dict:
    config = defaults()
    given = from_environment(environ)
    config["BASE_URL_GIVEN"] = "BASE_URL" in given or "BASE_URL" in (overrides or {})
    config.update(given)
    config.update(overrides or {})
    for key in _BOOLEAN_KEYS:
        config[key] = _as_bool(config.get(key, False))
    config["BASE_URL"] = str(config["BASE_URL"]).rstrip("/")
    hosts = config.get("REGISTRATION_ALLOWED_HOSTS") or ()
    if isinstance(hosts, str):
        hosts = tuple(h.strip().lower() for h in hosts.split(",") if h.strip())
    config["REGISTRATION_ALLOWED_HOSTS"] = tuple(hosts)
    for key in ("RECENT_WRITE_SECONDS", "OUTBOX_COUNT_SECONDS"):
        config[key] = _seconds(key, config[key])
    _check_rate_limits(config)
    config["FORWARDED_ALLOW_IPS"] = trusted_proxies(config["FORWARDED_ALLOW_IPS"])
    _check_base_url(config["BASE_URL"])
    instance = _usable_folder(Path(config["INSTANCE_PATH"]).resolve())
    config["INSTANCE_PATH"] = str(instance)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'ibm_lms.sqlite3'}"
    config["SQLALCHEMY_DATABASE_URI"] = _database_url(config["SQLALCHEMY_DATABASE_URI"])
    for key in ("COURSES_DIR", "TRANSLATIONS_DIR", "SCORM_PACKAGES_DIR"):
        config[key] = str(Path(config[key]).resolve())
    # Flask-Babel resolves relative directories against the package; ours sit beside it.
    config["BABEL_TRANSLATION_DIRECTORIES"] = config["TRANSLATIONS_DIR"]
    if not config.get("SECRET_KEY"):
        if not (config["DEBUG"] or config["TESTING"] or config["DEMO_MODE"]):
            raise ConfigurationError(
                "IBM_LMS_SECRET_KEY is not set. Set it to a long random value "
                "(for example: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'). A command run on "
                "the demo's instance needs IBM_LMS_DEMO=1 instead: the demo keeps its own key there."
            )
        config["SECRET_KEY"] = _instance_secret(instance)
    for key, value in cookie_policy(config["BASE_URL"]).items():
        config.setdefault(key, value)
    return config


def require_public_address(config) -> None:
    """For what outlives a request (a served tool's links, a signed credential's issuer): outside demos, debugging
    and tests, the address must be the one set, never the loopback default."""
    if config.get("BASE_URL_GIVEN") or config.get("DEBUG") or config.get("TESTING") or config.get("DEMO_MODE"):
        return
    raise ConfigurationError(
        "IBM_LMS_BASE_URL is not set. Set it to the tool's public address (e.g. https://lms.academy.example): "
        f"every link, the LTI configuration and the issuer in signed certificates are built on it, and "
        f"{config.get('BASE_URL')} would be wrong for all of them.")


def _seconds(key: str, value) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"IBM_LMS_{key} must be a number of seconds, got {value!r}.") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise ConfigurationError(f"IBM_LMS_{key} must be zero or more seconds, got {value!r}.")
    return seconds


def trusted_proxies(value) -> tuple[str, ...]:
    """IBM_LMS_FORWARDED_ALLOW_IPS as a tuple of addresses or networks, or ("*",) for every peer."""
    if isinstance(value, tuple | list):
        value = ",".join(value)
    entries = tuple(entry.strip() for entry in str(value).split(",") if entry.strip())
    if entries == ("*",):
        return entries
    for entry in entries:
        try:
            # Strict, as gunicorn reads the same setting: 10.0.0.5/24 is refused there, so it is here, at once.
            ipaddress.ip_network(entry)
        except ValueError:
            raise ConfigurationError(
                "IBM_LMS_FORWARDED_ALLOW_IPS must list the proxy's addresses or networks separated by commas "
                f"(a network by its first address, as 10.0.0.0/24; or '*' for any peer), got {entry[:60]!r}."
            ) from None
    return entries


def _check_rate_limits(config: dict) -> None:
    """A limit the limiter cannot read would leave its routes unlimited without a word."""
    from limits import parse_many
    from limits.storage import SCHEMES

    for key in ("RATE_LIMIT_LAUNCH", "RATE_LIMIT_PUBLIC"):
        try:
            parse_many(str(config[key]))
        except ValueError:
            raise ConfigurationError(f"IBM_LMS_{key} must be a rate such as '300 per minute' (several separated "
                                     f"by ';'), got {str(config[key])[:60]!r}.") from None
    storage = str(config["RATE_LIMIT_STORAGE"])
    scheme = storage.split("://", 1)[0] if "://" in storage else ""
    if scheme not in SCHEMES or scheme.startswith("async+"):
        # Only the scheme is repeated: the rest of the URL may hold a password.
        raise ConfigurationError("IBM_LMS_RATE_LIMIT_STORAGE must be memory:// or a shared store such as "
                                 f"redis://127.0.0.1:6379, got {scheme[:20] + '://' if scheme else 'no URL'}.")


def _check_base_url(url: str) -> None:
    """The tool's public address: every link, cookie flag and registration value is built on it."""
    refusal = ConfigurationError(
        f"IBM_LMS_BASE_URL must be the tool's absolute http(s) address (https://host[:port][/path], with no "
        f"query or fragment), got {url!r}."
    )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise refusal from None
    host = parts.hostname or ""
    if (parts.scheme not in {"http", "https"} or not host or parts.query or parts.fragment
            or "@" in parts.netloc or (port is not None and not 0 < port < 65536)
            or not all(c.isalnum() or c in ".-:[]" for c in host)):
        raise refusal


def _usable_folder(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(
            f"IBM_LMS_INSTANCE_PATH {str(path)!r} cannot be used as a folder: {error.strerror or error}."
        ) from None
    return path


# The databases the tool is built and tested for.
_DATABASE_SCHEMES = ("sqlite", "postgresql")


def _database_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    # psycopg 3 is the driver we ship; plain postgresql:// URLs would ask for psycopg2.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        backend = None
    if backend not in _DATABASE_SCHEMES:
        raise ConfigurationError(
            "IBM_LMS_DATABASE_URL must be a postgresql://user@host/database or sqlite:///path URL; "
            f"got one starting {url.split(':', 1)[0][:20]!r}."
        )
    if backend == "postgresql" and importlib.util.find_spec("psycopg") is None:
        raise ConfigurationError("IBM_LMS_DATABASE_URL names a PostgreSQL database, and its driver is not "
                                 "installed: install the tool with its postgres extra (pip install "
                                 "'ibm_lms-<version>.whl[postgres]').")
    return url


def _instance_secret(instance: Path) -> str:
    """Debug, demo and test runs keep a random key in the instance folder, never in the repository."""
    import secrets

    path = instance / "secret_key"
    try:
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
    except OSError as error:
        raise ConfigurationError(f"The instance folder's secret key {str(path)!r} cannot be kept: "
                                 f"{error.strerror or error}.") from None
