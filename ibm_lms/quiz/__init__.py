"""Quizzes: question banks with versions, quizzes drawing from them, attempts autosaved and graded, statistics."""


def init_app(app) -> None:
    from flask_babel import lazy_gettext

    from ibm_lms import outboxes
    from ibm_lms.content import service as content
    from ibm_lms.content.data import CoursePart

    from . import banks, models, service  # noqa: F401
    from .rendering import cloze_html, matching_answers, option_of
    from .views import blueprint

    app.register_blueprint(blueprint)
    content.register_part(app, CoursePart(name="quiz", read=banks.read, store=banks.store, endpoint="quiz.quizzes",
                                          label=lazy_gettext("Quizzes")))
    app.jinja_env.filters["option_of"] = option_of
    app.jinja_env.filters["matching_answers"] = matching_answers
    app.jinja_env.globals["cloze_html"] = cloze_html
    # Attempts whose time ran out are closed by the worker, so their grades go out without the trainee.
    outboxes.register(app, outboxes.Outbox("quiz deadlines", service.close_due, service.attempts_by_tenant))
