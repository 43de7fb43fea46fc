"""A built-in demo platform, served only in demo mode, so a newcomer can try a launch."""


def init_app(app) -> None:
    if not app.config["DEMO_MODE"]:
        return
    from .views import blueprint

    app.register_blueprint(blueprint)
