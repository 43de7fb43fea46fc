"""`ibm-lms quiz import FILE` and `ibm-lms quiz export`: a course's bank in GIFT, Moodle XML or QTI 3.0."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ibm_lms.locales import LOCALES
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Identity, Role

from . import service
from .errors import ImportRefused

quiz_group = AppGroup("quiz", help="Question banks: import and export.")


def _acting_for(tenant: str) -> Identity:
    # The command line acts as the academy's administrator (it already holds the server's secrets).
    return Identity(user_id=0, tenant_id=tenancy.get_tenant(tenant).id, role=Role.ADMINISTRATOR, context_id=None,
                    display_name="command line")


@quiz_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(service.IMPORT_FORMATS), required=True)
@click.option("--tenant", required=True, help="Slug of the academy whose bank receives the questions.")
@click.option("--course", required=True, help="The course whose bank it is, e.g. document-security.")
@click.option("--category", default="imported", show_default=True,
              help="Category of questions the file does not place in one.")
@click.option("--outcome", default=None,
              help="Course outcome for questions whose Moodle tags name none, e.g. DS-2.")
@click.option("--locale", type=click.Choice(LOCALES), default="ru", show_default=True,
              help="The language the file is written in.")
def import_command(file: Path, fmt: str, tenant: str, course: str, category: str, outcome: str | None,
                   locale: str) -> None:
    """Imports every question of FILE, or none: each problem is printed with its line or question."""
    try:
        if file.stat().st_size > service.MAX_IMPORT_BYTES:
            raise click.ClickException(f"{file}: larger than {service.MAX_IMPORT_BYTES // 1024 // 1024} MB; "
                                       "export the questions category by category")
        data = file.read_bytes()
    except OSError as error:
        raise click.ClickException(f"{file}: {error.strerror}") from error
    try:
        report = service.import_file(_acting_for(tenant), course, data, fmt, locale=locale, category=category,
                                    outcome=outcome)
    except ImportRefused as refused:
        for problem in refused.problems:
            click.echo(f"{file}: {problem}", err=True)
        click.echo(f"Error: {len(refused.problems)} problem(s); nothing was imported", err=True)
        sys.exit(1)
    for note in report.notes:
        click.echo(f"{file}: note: {note}")
    click.echo(f"{report.imported} questions imported into {tenant}'s bank of {course}")
    if report.replaced:
        click.echo(f"{len(report.replaced)} of them were in the bank already under the same id and got a new "
                   f"version: {', '.join(report.replaced)}")


@quiz_group.command("export")
@click.option("--format", "fmt", type=click.Choice(service.EXPORT_FORMATS), required=True)
@click.option("--course", required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--tenant", default=None, help="Include this academy's own questions (default: the shared bank).")
@click.option("--locale", type=click.Choice(LOCALES), default="ru", show_default=True)
def export_command(fmt: str, course: str, out: Path, tenant: str | None, locale: str) -> None:
    """Writes the course's questions in a format Moodle (GIFT, Moodle XML) or a QTI player reads."""
    exported = service.export_file(_acting_for(tenant) if tenant else None, course, fmt, locale)
    try:
        out.write_bytes(exported.data)
    except OSError as error:
        raise click.ClickException(f"{out}: {error.strerror}") from error
    click.echo(f"{out}: {len(exported.data)} bytes ({fmt}, {locale})")
