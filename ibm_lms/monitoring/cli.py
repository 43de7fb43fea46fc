"""`ibm-lms monitoring report|regional`: the training-impact figures for a script or a spreadsheet."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ibm_lms.errors import DomainError
from ibm_lms.locales import LOCALES
from ibm_lms.tenancy import service as tenancy

from . import service

group = AppGroup("monitoring", help="Training impact: questionnaires and indicators per course and academy.")


@group.command("report")
@click.option("--tenant", required=True, help="The academy (its slug).")
@click.option("--locale", type=click.Choice(LOCALES), default="en", show_default=True,
              help="The language of the course titles.")
def report_command(tenant, locale):
    """Per course: people who started and completed it, and per questionnaire the answers' summary, as JSON.
    Comments are left out: they are read on the academy's page or in its CSV export."""
    try:
        academy = tenancy.get_tenant(tenant)
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    rows = service.academy_report(academy.id, locale)
    for row in rows:
        for level in row["questionnaires"].values():
            level.pop("comments")
    click.echo(json.dumps(rows, ensure_ascii=False, indent=2))


@group.command("regional")
@click.option("--locale", type=click.Choice(LOCALES), default="en", show_default=True,
              help="The language of the course titles.")
def regional_command(locale):
    """Per academy and shared course, the figures the regional programme compares, as JSON: a figure made of
    fewer than five people is null."""
    click.echo(json.dumps(service.regional_report(locale), ensure_ascii=False, indent=2))
