"""`ibm-lms content check|load|coverage`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ibm_lms.locales import LOCALES

from . import service
from .errors import CourseFileError

group = AppGroup("content", help="Course content under courses/ (see docs/course-format.md).")


def _courses_dir(path: str | None) -> Path:
    return Path(path or current_app.config["COURSES_DIR"])


@group.command("check")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Folder of courses.")
def check_command(directory):
    """Check every course file; print each problem as file:line: what — how to fix it."""
    courses, problems = service.check(_courses_dir(directory))
    for problem in problems:
        click.echo(str(problem), err=True)
    errors = [p for p in problems if not p.warning]
    if errors:
        raise click.ClickException(f"{len(errors)} problems in the course files (checked only: nothing is loaded "
                                   "until they are fixed)")
    lessons = sum(len(c.lessons) for c in courses)
    exercises = sum(len(c.exercises) for c in courses)
    click.echo(f"{len(courses)} courses valid ({lessons} lessons, {exercises} exercises)"
               + (f", {len(problems)} warnings" if problems else ""))


@group.command("load")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Folder of courses.")
@click.option("--tenant", default=None, help="Load the folder as this academy's own courses (not shared).")
@click.option("--withdraw-missing", is_flag=True,
              help="Withdraw the catalogue's courses this folder does not hold (trainees' records are kept).")
def load_command(directory, tenant, withdraw_missing):
    """Check all course files, then load them into the catalogue (all or nothing; unchanged courses stay)."""
    try:
        report = service.load(_courses_dir(directory), tenant_slug=tenant, withdraw_missing=withdraw_missing)
    except CourseFileError as error:
        for line in str(error.params["reason"]).splitlines():
            click.echo(line, err=True)
        raise click.ClickException("the course files have problems; nothing was loaded") from error
    for warning in report.warnings:
        click.echo(str(warning), err=True)
    click.echo(f"courses loaded: {report.created} new, {report.updated} updated, {report.unchanged} unchanged"
               + (f", {report.withdrawn} withdrawn" if report.withdrawn else ""))
    if report.kept:
        click.echo(f"still offered, though this folder does not hold them: {', '.join(report.kept)} "
                   "(add --withdraw-missing to withdraw them)")


@group.command("coverage")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Folder of courses.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def coverage_command(directory, as_json):
    """Per course and locale: the share of the text that is translated, and the translation's status."""
    rows, problems = service.coverage(_courses_dir(directory))
    errors = [p for p in problems if not p.warning]
    for problem in errors:
        click.echo(str(problem), err=True)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        width = max([len(r["slug"]) for r in rows] + [len(f"  + {name}") for r in rows for name in r["parts"]] + [6])
        click.echo("course".ljust(width) + "".join(f"  {locale:>14}" for locale in LOCALES))
        for row in rows:
            cells = "".join(f"  {row['share'][locale] * 100:5.1f}% {row['status'][locale]:>7}" for locale in LOCALES)
            click.echo(row["slug"].ljust(width) + cells)
            # What other rooms keep in the folder (the quiz bank) is translated on its own: a line of its own.
            for name, share in row["parts"].items():
                click.echo((f"  + {name}".ljust(width) + "".join(f"  {share[locale] * 100:5.1f}%        "
                                                                for locale in LOCALES)).rstrip())
    if errors:
        raise click.ClickException(f"{len(errors)} problems in the course files")
