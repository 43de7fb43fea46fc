"""The REST API under /api/v1: the question bank, quizzes, import and export, item statistics (OpenAPI at
/api/v1/openapi.json). A request signs in with an academy's API token (Bearer) or with the session
of a launched instructor, whose unsafe requests then carry the CSRF token in X-CSRFToken."""


def init_app(app) -> None:
    from ibm_lms import web
    from ibm_lms.quiz import service as quiz

    from . import models, views  # noqa: F401
    from .cli import api_group

    app.register_blueprint(views.blueprint)
    app.cli.add_command(api_group)
    web.allow_larger_body(app, "api.upload_image", quiz.MAX_IMAGE_BYTES + 64 * 1024)
    web.allow_larger_body(app, "api.put_question", views.MAX_JSON_BYTES)
    web.allow_larger_body(app, "api.put_quiz", views.MAX_JSON_BYTES)
    web.allow_larger_body(app, "api.import_questions", quiz.MAX_IMPORT_BYTES + 64 * 1024)
