"""Quizzes: question banks with versions, quizzes drawing from them, attempts autosaved and graded, statistics."""


def init_app(app) -> None:
    from flask_babel import lazy_gettext

    from ibm_lms import outboxes, web
    from ibm_lms.content import service as content
    from ibm_lms.content.data import CoursePart
    from ibm_lms.items.service import correct_response

    from . import banks, images, models, service  # noqa: F401
    from .authoring_views import MAX_DEFINITION_CHARS
    from .authoring_views import blueprint as authoring_pages
    from .cli import quiz_group
    from .grades_views import blueprint as grade_pages
    from .rendering import cloze_html, matching_answers, option_of, question_markdown
    from .views import blueprint

    app.register_blueprint(blueprint)
    app.register_blueprint(authoring_pages)
    app.register_blueprint(grade_pages)
    app.cli.add_command(quiz_group)
    # A definition is posted URL-encoded: a Georgian or Armenian letter of 3 bytes travels as 9. The body may be
    # that large, so that the editor's own limits (MAX_DEFINITION_CHARS, each text's) answer, with the text kept.
    definition_body = 9 * MAX_DEFINITION_CHARS + 64 * 1024
    for endpoint, size in (("authoring.upload_image", images.MAX_UPLOAD_BYTES + 64 * 1024),
                           ("authoring.new_question", definition_body), ("authoring.edit_question", definition_body),
                           ("authoring.translate_question", definition_body),
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
