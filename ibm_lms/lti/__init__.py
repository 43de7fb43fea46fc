"""LTI 1.3: tool configuration from the database, keys, OIDC login, launch, dynamic registration."""


def init_app(app) -> None:
    from ibm_lms.web import add_frame_ancestor_source

    from . import models, platforms  # noqa: F401
    from .cli import keys_group, platform_group
    from .views import blueprint

    add_frame_ancestor_source(app, platforms.platform_origins)
    app.register_blueprint(blueprint)
    app.cli.add_command(platform_group)
    app.cli.add_command(keys_group)
