"""Locale negotiation and the translation catalogs, through Flask-Babel and Babel's API."""


def init_app(app) -> None:
    from ibm_lms.extensions import babel

    from . import service, templating
    from .cli import group
    from .views import blueprint

    babel.init_app(app, locale_selector=service.select_locale)
    app.register_blueprint(blueprint)
    app.cli.add_command(group)

    # The locale, the language menu and the text callables, bound once per page (templating.py).
    app.context_processor(templating.page_language)
    # Figures as the reader's language writes them (6,19 in Russian; 13,6 % in Romanian).
    app.jinja_env.filters["decimal"] = templating.decimal
    app.jinja_env.filters["percent"] = templating.percent
