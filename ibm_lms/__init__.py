"""IBM Training Suite: an LTI 1.3 tool for Integrated Border Management training."""

from __future__ import annotations

from pathlib import Path

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """Builds the app; rooms are imported here, never at package import time."""
    from . import config as settings
    from .errors import register_error_handlers
    from .extensions import csrf, db, migrate

    values = settings.build(config)
    app = Flask(__name__, instance_path=values["INSTANCE_PATH"], instance_relative_config=False)
    app.config.update(values)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True,
                     compare_type=True)
    from .web import install_body_limits, install_url_converters

    install_url_converters(app)
    install_body_limits(app)
    csrf.init_app(app)
    register_error_handlers(app)
    from . import observability

    # First, so that a request's time and log line cover everything the rooms do with it.
    observability.init_app(app)
    from . import ratelimits

    ratelimits.init_app(app)

    from . import (
        api,
        audit,
        certification,
        content,
        demo,
        deploy,
        i18n,
        lti,
        monitoring,
        mrz,
        quiz,
        scorm,
        tenancy,
        web,
        xapi,
    )

    for room in (audit, tenancy, i18n, mrz, content, quiz, lti, xapi, certification, api, scorm, monitoring, demo, deploy,
                 web):
        room.init_app(app)

    from .cli import register_commands

    register_commands(app)
    return app
