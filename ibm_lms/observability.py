"""What an IT department watches: one JSON log line per request, Prometheus metrics, liveness and readiness checks.

A request's log line names its request id (taken from a well-formed `X-Request-ID`, else new, and sent back),
the academy of the signed-in user, the route's pattern (never the path or query, which may carry a launch token),
the status and the duration; nothing personal. `/metrics`, and the queue counts in `/healthz`, are for the
monitoring host only: loopback, or the bearer token in IBM_LMS_METRICS_TOKEN. Under gunicorn, set
PROMETHEUS_MULTIPROC_DIR to an empty folder so that every worker's counts add up in one scrape.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from .extensions import app_state, db

blueprint = Blueprint("observability", __name__)
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}\Z")
_LOG = logging.getLogger("ibm_lms.requests")
# The fields a log line may carry besides its message: anything else on a record is left out.
_FIELDS = ("request_id", "tenant", "method", "route", "status", "duration_ms", "outbox", "count")
# Metrics label a request by one of these methods or OTHER: a client may send any token as a method, and each
# new label value would be a new time series kept for the life of the process. The log line keeps what arrived.
_LABELLED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        line.update({name: getattr(record, name) for name in _FIELDS if hasattr(record, name)})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(log_format: str) -> None:
    """The process's log output (serve, worker, wsgi): JSON lines or plain text on standard error."""
    root = logging.getLogger("ibm_lms")
    if any(getattr(handler, "_ibm_lms", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._ibm_lms = True
    handler.setFormatter(JsonFormatter() if log_format == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("ibm_lms_requests", "HTTP requests answered", ["method", "route", "status"],
                                registry=self.registry)
        self.duration = Histogram("ibm_lms_request_duration_seconds", "Time to answer a request", ["route"],
                                  registry=self.registry,
                                  buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.gauges: list[tuple[str, str, list[str], Callable[[], dict[tuple, float]]]] = []
        self.registry.register(_Gauges(self))
        # Each label set's child, looked up once: `labels()` checks and converts its values on every call.
        self._answered: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def count(self, method: str, route: str, status: int, elapsed: float) -> None:
        children = self._answered.get((method, route, status))
        if children is None:
            children = self._answered[(method, route, status)] = (
                self.requests.labels(method, route, str(status)), self.duration.labels(route))
        children[0].inc()
        children[1].observe(elapsed)


class _Gauges:
    """Values read when scraped (queue depths), from the sources rooms register."""

    def __init__(self, metrics: _Metrics) -> None:
        self.metrics = metrics

    def describe(self):
        return []

    def collect(self):
        for name, help_text, labels, produce in self.metrics.gauges:
            family = GaugeMetricFamily(name, help_text, labels=labels)
            try:
                values = produce()
            except Exception:  # a scrape must not fail because one source cannot be read now
                _LOG.exception("metrics source %s failed", name)
                continue
            for label_values, value in values.items():
                family.add_metric([str(v) for v in label_values], value)
            yield family


def _metrics(app: Flask | None = None) -> _Metrics:
    return app_state("observability.metrics", _Metrics, app=app)


def add_gauges(app: Flask, name: str, help_text: str, labels: list[str],
               produce: Callable[[], dict[tuple, float]]) -> None:
    """A room's values read at scrape time (e.g. outbox depths by outbox and state). Needs an app context."""
    _metrics(app).gauges.append((name, help_text, labels, produce))


def _start() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex


def _finish(response: Response) -> Response:
    # Every request passes here: the context's objects are looked up once, not at each use.
    context = g._get_current_object()
    started = getattr(context, "request_started", None)
    if started is None:
        return response
    elapsed = time.perf_counter() - started
    answered = request._get_current_object()
    method, status = answered.method, response.status_code
    route = answered.url_rule.rule if answered.url_rule is not None else "(unmatched)"
    response.headers["X-Request-ID"] = context.request_id
    _metrics().count(method if method in _LABELLED_METHODS else "OTHER", route, status, elapsed)
    if _LOG.isEnabledFor(logging.INFO):
        identity = getattr(context, "identity", None)
        # Built and handed over directly: Logger.info would also walk the stack for a caller no line shows.
        _LOG.handle(_LOG.makeRecord(_LOG.name, logging.INFO, __file__, 0, "%s %s %s", (method, route, status), None,
                                    extra={"request_id": context.request_id,
                                           "tenant": getattr(identity, "tenant_id", None), "method": method,
                                           "route": route, "status": status,
                                           "duration_ms": round(elapsed * 1000, 2)}))
    return response


def add_health_section(app: Flask, name: str, produce: Callable[[], object]) -> None:
    """A part of /healthz another module reports (e.g. the outboxes' queues): shown to the monitoring host only,
    and it must name no academy."""
    app_state("observability.health", dict, app=app)[name] = produce


def _from_monitoring_host() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@blueprint.get("/metrics")
def metrics():
    if not _from_monitoring_host():
        return Response("metrics are read from the monitoring host (loopback) or with its token\n", status=403,
                        mimetype="text/plain")
    registry = _metrics().registry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_Gauges(_metrics()))
    # content_type, not mimetype: the type already names its charset, which mimetype would add again.
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


@blueprint.get("/healthz")
def healthz():
    """Alive and the database answers: for any prober. How much work is waiting is the monitoring host's to read."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:
        return jsonify({"status": "unhealthy", "database": type(error).__name__}), 503
    health = {"status": "ok", "database": "ok"}
    if _from_monitoring_host():
        health.update({name: produce() for name, produce in app_state("observability.health", dict).items()})
    return jsonify(health)


@blueprint.get("/readyz")
def readyz():
    """Ready for traffic: the database answers and its schema is the one this release expects."""
    try:
        db.session.execute(text("SELECT 1"))
        current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as error:
        db.session.rollback()
        return jsonify({"status": "not ready", "database": type(error).__name__}), 503
    expected = _head_revision()
    if current != expected:
        return jsonify({"status": "not ready", "schema": current, "expected": expected,
                        "fix": "ibm-lms db upgrade"}), 503
    return jsonify({"status": "ready", "schema": current})


def _head_revision() -> str | None:
    def find() -> str | None:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", current_app.extensions["migrate"].directory)
        return ScriptDirectory.from_config(config).get_current_head()
    return app_state("observability.head", find)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    if app.config.get("OBSERVABILITY", True):
        app.before_request(_start)
        app.after_request(_finish)
