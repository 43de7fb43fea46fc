"""Trainer certification: programmes as data, a status engine fed by learning events and evidence, four-eyes
decisions, Open Badges 3.0 credentials signed per academy, and public verification."""


def init_app(app) -> None:
    from ibm_lms import sealed
    from ibm_lms.unit_of_work import event_bus

    from . import facts, keys, models, public_views, views  # noqa: F401
    from .cli import cert_group

    bus = event_bus(app)
    for event_type, subscriber in facts.SUBSCRIBERS.items():
        bus.subscribe(event_type, subscriber)
    sealed.add_check(app, "credential signing keys", keys.unreadable_count)
    from ibm_lms import ratelimits

    app.register_blueprint(public_views.blueprint)
    for endpoint in ("certification.verify", "certification.verify_any"):
        ratelimits.limit(app, endpoint, "public")
    views.init_app(app)
    app.cli.add_command(cert_group)
