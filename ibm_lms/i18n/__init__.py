"""Locale negotiation and the translation catalogs, through Flask-Babel and Babel's API."""


def init_app(app) -> None:
    from ibm_lms.extensions import babel

    from . import service
    from .cli import group
    from .views import blueprint

    babel.init_app(app, locale_selector=service.select_locale)
    app.register_blueprint(blueprint)
    app.cli.add_command(group)

    @app.context_processor
    def language_menu():
        from flask_babel import get_locale

        return {
            "current_locale": str(get_locale()),
            "language_names": service.LANGUAGE_NAMES,
            "available_locales": service.supported_locales(),
        }
