"""Course packages (SCORM 1.2, SCORM 2004 4th Edition, cmi5) for platforms that play a course themselves."""


def init_app(app) -> None:
    from .cli import group

    app.cli.add_command(group)
