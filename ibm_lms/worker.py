"""`ibm-lms worker`: delivers every registered outbox (grades now, statements later) until stopped.

`--once` drains what is due and exits (cron, tests). Without it the worker sleeps briefly when
nothing is due and stops cleanly on SIGTERM or SIGINT, after the row it is delivering.
"""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from . import observability, outboxes, sealed
from .extensions import db

BATCH = 50
IDLE_SECONDS = 2.0
log = logging.getLogger(__name__)


def drain(app, *, batch: int = BATCH, stop: threading.Event | None = None) -> int:
    """Delivers every outbox until none has anything due; returns how many rows were handled."""
    handled = 0
    while stop is None or not stop.is_set():
        round_handled = 0
        for outbox in outboxes.registered(app).values():
            round_handled += outbox.deliver_due(batch)
            db.session.remove()
        handled += round_handled
        if round_handled == 0:
            break
    return handled


def deliver_in_background(app, *, stop: threading.Event | None = None,
                          idle_seconds: float = IDLE_SECONDS) -> threading.Thread:
    """The demo's worker: a thread of the server's own process delivers the outboxes, so that a score submitted in
    the demo reaches the demo platform's gradebook with nothing else to start. A deployment runs `ibm-lms worker`."""
    stop = stop or threading.Event()

    def deliver_until_stopped() -> None:
        while not stop.is_set():
            handled = 0
            with app.app_context():
                try:
                    handled = drain(app, stop=stop)
                except Exception:  # a failed round is logged and the next one tries again, as a worker process would
                    log.exception("outbox delivery failed; trying again")
                finally:
                    db.session.remove()
            if handled == 0:
                stop.wait(idle_seconds)

    thread = threading.Thread(target=deliver_until_stopped, name="outbox-delivery", daemon=True)
    thread.start()
    return thread


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (for cron and tests).")
@with_appcontext
def worker_command(once):
    """Deliver the outboxes: scores to platforms' gradebooks (and, as they come, statements to the LRS)."""
    app = current_app._get_current_object()
    sealed.require_readable(app)  # a changed secret key would fail every delivery that signs or logs in
    if once:
        click.echo(f"delivered or retried: {drain(app)}")
        return
    observability.configure_logging(app.config["LOG_FORMAT"])
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("worker running; SIGTERM stops it")
    while not stop.is_set():
        if drain(app, stop=stop) == 0:
            stop.wait(IDLE_SECONDS)
    click.echo("worker stopped")
