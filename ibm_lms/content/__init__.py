"""Course content: the loader from courses/, the versioned catalogue, lesson pages, exercises and progress."""


def init_app(app) -> None:
    import random

    from ibm_lms.tenancy import service as tenancy

    from . import models  # noqa: F401
    from .cli import group
    from .views import blueprint, figure, init_templates

    app.register_blueprint(blueprint)
    app.cli.add_command(group)
    init_templates(app)
    # A figure is the same for every reader: its URL never carries a session.
    tenancy.sessionless(figure)
    # Steps to order are offered in a new random order on every page.
    app.jinja_env.filters["shuffled"] = lambda entries: random.sample(list(entries), len(entries))
