"""Quizzes: question banks with versions, quizzes drawing from them, attempts autosaved and graded, statistics."""


def init_app(app) -> None:
    from flask_babel import lazy_gettext

    from ibm_lms import outboxes, web
    from ibm_lms.content import service as content
    from ibm_lms.content.data import CoursePart
    from ibm_lms.items.service import correct_response

    from . import banks, images, models, service  # noqa: F401
    from .authoring_views import blueprint as authoring_pages
    from .cli import quiz_group
    from .grades_views import blueprint as grade_pages
    from .rendering import cloze_html, matching_answers, option_of, question_markdown
    from .views import blueprint

    app.register_blueprint(blueprint)
    app.register_blueprint(authoring_pages)
    app.register_blueprint(grade_pages)
    app.cli.add_command(quiz_group)
    for endpoint, size in (("authoring.upload_image", images.MAX_UPLOAD_BYTES + 64 * 1024),
                           ("authoring.new_question", 512 * 1024), ("authoring.edit_question", 512 * 1024),
                           ("authoring.translate_question", 512 * 1024),
                           ("authoring.import_questions", service.MAX_IMPORT_BYTES + 64 * 1024)):
        web.allow_larger_body(app, endpoint, size)
    content.register_part(app, CoursePart(name="quiz", read=banks.read, store=banks.store, endpoint="quiz.quizzes",
                                          label=lazy_gettext("Quizzes"), texts=banks.texts_of))
    app.jinja_env.filters["option_of"] = option_of
    app.jinja_env.filters["matching_answers"] = matching_answers
    app.jinja_env.globals["cloze_html"] = cloze_html
    app.jinja_env.globals["question_markdown"] = question_markdown
    app.jinja_env.globals["model_answer"] = correct_response
    # Attempts whose time ran out are closed by the worker, so their grades go out without the trainee.
    outboxes.register(app, outboxes.Outbox("quiz deadlines", service.close_due, service.attempts_by_tenant,
                                           ("in_progress", "finished")))
