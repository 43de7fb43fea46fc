"""xAPI: every learning event becomes a checked statement in an outbox, delivered to the academy's LRS."""


def init_app(app) -> None:
    from ibm_lms import outboxes, sealed
    from ibm_lms.unit_of_work import event_bus

    from . import delivery, models, outbox, queue, settings  # noqa: F401
    from .cli import xapi_group
    from .views import blueprint

    bus = event_bus(app)
    for event_type, writer in outbox.WRITERS.items():
        bus.subscribe(event_type, queue.enqueue if event_type in outbox.QUEUED else writer)
    # Before the statements: a worker's pass writes the queued events' statements, then delivers them.
    outboxes.register(app, outboxes.Outbox("xapi events", queue.write_queued, queue.counts,
                                           (queue.PENDING, queue.FAILING)))
    outboxes.register(app, outboxes.Outbox("xapi statements", delivery.deliver_due, outbox.counts,
                                           (delivery.PENDING, delivery.DELIVERED, delivery.PARKED)))
    sealed.add_check(app, "LRS passwords and pseudonym keys", settings.unreadable_count)
    app.register_blueprint(blueprint)
    app.cli.add_command(xapi_group)
