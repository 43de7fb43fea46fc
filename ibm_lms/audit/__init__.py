"""The audit trail: decisions and administrative changes, appended to a hash chain that shows any edit,
deletion or reordering (`ibm-lms audit verify`)."""


def init_app(app) -> None:
    from . import models  # noqa: F401
    from .cli import audit_group

    app.cli.add_command(audit_group)
