"""Machine-readable zones of travel documents: the ICAO Doc 9303 checker, for exercises and instructors."""


def init_app(app) -> None:
    from .cli import group

    app.cli.add_command(group)
