"""Training impact: the trainees' questionnaires (Kirkpatrick levels 1 and 3), the academy's indicators, and the
regional programme's comparison of academies in anonymised figures."""


def init_app(app) -> None:
    from flask_babel import lazy_gettext

    from ibm_lms.content import service as content
    from ibm_lms.content.data import CourseSection

    from . import models, service, views  # noqa: F401
    from .cli import group

    app.register_blueprint(views.blueprint)
    app.cli.add_command(group)
    content.register_section(app, CourseSection("monitoring.questionnaires", lazy_gettext("Questionnaires"),
                                                waiting=service.waiting_for))
