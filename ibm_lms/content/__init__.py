"""Course content: the loader from courses/, the catalogue, and lesson pages."""


def init_app(app) -> None:
    from . import models  # noqa: F401
    from .cli import group
    from .views import blueprint

    app.register_blueprint(blueprint)
    app.cli.add_command(group)
