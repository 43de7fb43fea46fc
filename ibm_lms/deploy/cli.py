"""`ibm-lms deploy nginx|systemd`: the shipped deployment files, written for this installation."""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import click
from flask.cli import AppGroup

import ibm_lms

from . import files

deploy_group = AppGroup("deploy", help="Write the nginx site and the systemd units for this installation.")


def _release() -> str:
    try:
        return version("ibm-lms")
    except PackageNotFoundError:
        return "unknown"


def _checked(render):
    try:
        return render()
    except files.DeployValueError as error:
        raise click.UsageError(str(error)) from error


@deploy_group.command("nginx")
@click.option("--server-name", required=True, help="The tool's public host name (that of IBM_LMS_BASE_URL).")
@click.option("--certificate", required=True, help="The TLS certificate with its chain (PEM), e.g. fullchain.pem.")
@click.option("--certificate-key", required=True, help="The certificate's private key (PEM).")
@click.option("--upstream", default="127.0.0.1:5000", show_default=True,
              help="Where `ibm-lms serve` listens (host:port, or unix:/path).")
@click.option("--https-port", default=443, show_default=True, type=click.IntRange(1, 65535))
@click.option("--http-port", default=80, show_default=True, type=click.IntRange(1, 65535),
              help="Plain http, which only redirects to https.")
@click.option("--static-root", default=None,
              help="The tool's static files, served by nginx itself. [default: the installed package's]")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the site here (e.g. /etc/nginx/sites-available/ibm-lms) instead of printing it.")
def nginx_command(server_name, certificate, certificate_key, upstream, https_port, http_port, static_root, out):
    """The nginx site: TLS, the redirect from http, static files, and one trusted proxy hop."""
    site = files.NginxSite(server_name=server_name, certificate=certificate, certificate_key=certificate_key,
                           static_root=static_root or str(Path(ibm_lms.__file__).resolve().parent / "static"),
                           upstream=upstream, https_port=https_port, http_port=http_port)
    text = _checked(lambda: files.nginx_site(site, _release()))
    for option, path in (("--certificate", certificate), ("--certificate-key", certificate_key)):
        if not Path(path).is_file():
            click.echo(f"note: {option} {path} does not exist yet; nginx will not start until it does", err=True)
    if out is None:
        click.echo(text, nl=False)
        return
    _write(Path(out).parent, {Path(out).name: text})
    click.echo(f"nginx site written to {out}; check it with `nginx -t`, then reload nginx")


def _write(folder: Path, texts: dict[str, str]) -> None:
    """Writes each text as a file of `folder` (made if missing); a folder that cannot take them is a message,
    not a trace."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (folder / name).write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"{error.filename or folder}: cannot be written ({error.strerror or error})") \
            from None


def _command_path() -> str:
    console_script = Path(sys.executable).parent / "ibm-lms"
    if console_script.is_file():
        return str(console_script)
    return f"{sys.executable} -m ibm_lms"


@deploy_group.command("systemd")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="The folder for the unit files, e.g. /etc/systemd/system.")
@click.option("--instance-path", default="/var/lib/ibm-lms", show_default=True,
              help="The service's own folder (the SQLite database by default, and its working directory).")
@click.option("--environment-file", default="/etc/ibm-lms/ibm-lms.env", show_default=True,
              help="The settings: IBM_LMS_SECRET_KEY, IBM_LMS_BASE_URL, IBM_LMS_DATABASE_URL, ...")
@click.option("--user", default="ibm-lms", show_default=True, help="The system account the services run as.")
@click.option("--group", default=None, help="Its group. [default: the same name as --user]")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="Where `ibm-lms serve` listens on the loopback address.")
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="Server processes. [default: one per core, at least 2; see README, 'Sizing']")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--replace", is_flag=True, help="Overwrite unit files that differ.")
def systemd_command(out, instance_path, environment_file, user, group, port, workers, threads, replace):
    """The units of the server, the delivery worker and the nightly recomputation (with its timer)."""
    units = files.SystemdUnits(command=_command_path(), instance_path=instance_path,
                               environment_file=environment_file, user=user, group=group or user, port=port,
                               workers=workers or max(2, os.cpu_count() or 1), threads=threads)
    rendered = _checked(lambda: files.systemd_units(units, _release()))
    folder = Path(out)
    differing = [name for name, text in rendered.items()
                 if (folder / name).is_file() and (folder / name).read_text(encoding="utf-8") != text]
    if differing and not replace:
        raise click.ClickException(f"{', '.join(differing)} in {folder} differ from what would be written; "
                                   "add --replace to overwrite them")
    _write(folder, rendered)
    click.echo(f"written to {folder}: {', '.join(rendered)}")
    if not Path(environment_file).is_file():
        click.echo(f"note: {environment_file} does not exist yet; it must hold at least IBM_LMS_SECRET_KEY and "
                   "IBM_LMS_BASE_URL (README, 'Deploying'), readable by root only (chmod 600)", err=True)
    click.echo("then: systemctl daemon-reload && systemctl enable --now ibm-lms ibm-lms-worker ibm-lms-nightly.timer")
