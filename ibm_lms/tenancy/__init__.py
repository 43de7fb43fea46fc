"""Tenants, users keyed by (issuer, sub), roles, and the identity of the current request."""


def init_app(app) -> None:
    from flask_babel import gettext

    # Models must be imported for Alembic and the metadata to see them.
    from . import models, session_transport  # noqa: F401
    from .cli import coordinator_group, operator_group, tenant_group
    from .data import Role

    session_transport.init_app(app)
    app.cli.add_command(tenant_group)
    app.cli.add_command(operator_group)
    app.cli.add_command(coordinator_group)

    from ibm_lms.markers import N_

    labels = {Role.LEARNER: N_("Trainee"), Role.INSTRUCTOR: N_("Instructor"), Role.ADMINISTRATOR: N_("Administrator")}

    def role_label(role: Role) -> str:
        return gettext(labels[role])

    app.jinja_env.globals["role_label"] = role_label
