"""LTI 1.3: tool configuration from the database, keys, OIDC login, launch, dynamic registration."""


def init_app(app) -> None:
    from ibm_lms import outboxes, sealed
    from ibm_lms.events import CourseCompleted, LessonCompleted, QuizAttemptSubmitted, QuizGradeOverridden
    from ibm_lms.unit_of_work import event_bus
    from ibm_lms.web import add_frame_ancestor_source, checks_its_own_query

    from . import keys, models, platforms  # noqa: F401
    from .ags import delivery, outbox
    from .cli import grades_group, keys_group, platform_group, roster_group
    from .connections_views import blueprint as connections_blueprint
    from .views import blueprint

    add_frame_ancestor_source(app, platforms.platform_origins)
    # Scores are written in the transaction of the result they report; the worker sends them.
    event_bus(app).subscribe(CourseCompleted, outbox.on_course_completed)
    event_bus(app).subscribe(LessonCompleted, outbox.on_lesson_completed)
    event_bus(app).subscribe(QuizAttemptSubmitted, outbox.on_quiz_submitted)
    event_bus(app).subscribe(QuizGradeOverridden, outbox.on_grade_overridden)
    sealed.add_check(app, "the tool's signing key", keys.unreadable_count)
    outboxes.register(app, outboxes.Outbox("grades", lambda limit: len(delivery.deliver_due(limit).ids),
                                           delivery.status_counts, delivery.STATES))
    app.cli.add_command(grades_group)
    app.cli.add_command(roster_group)
    app.register_blueprint(blueprint)
    app.register_blueprint(connections_blueprint)
    from ibm_lms import ratelimits

    for endpoint in ("lti.oidc_login", "lti.launch"):
        ratelimits.limit(app, endpoint, "launch")
        # A platform's malformed login is answered as a refused login (login.py checks every parameter).
        checks_its_own_query(app, endpoint)
    ratelimits.limit(app, "lti.dynamic_registration", "public")
    app.cli.add_command(platform_group)
    app.cli.add_command(keys_group)
