"""Deployment files for an academy's server: the nginx site in front of `ibm-lms serve`, and the systemd units
of the server, the delivery worker and the nightly recomputation, written for this installation's own paths
(`ibm-lms deploy nginx|systemd`). The room reads no database and needs no secret key."""


def init_app(app) -> None:
    from .cli import deploy_group

    app.cli.add_command(deploy_group)
