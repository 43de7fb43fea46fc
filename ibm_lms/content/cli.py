"""`ibm-lms content check|load`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from . import service
from .errors import CourseFileError

group = AppGroup("content", help="Course content under courses/.")


def _courses_dir(path: str | None) -> Path:
    return Path(path or current_app.config["COURSES_DIR"])


@group.command("check")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Folder of courses.")
def check_command(directory):
    """Validate every course file and report each problem with its file."""
    courses, errors = service.check(_courses_dir(directory))
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        raise click.ClickException(f"{len(errors)} invalid course files")
    click.echo(f"{len(courses)} courses valid")


@group.command("load")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Folder of courses.")
def load_command(directory):
    """Validate all course files, then load them into the catalogue (all or nothing)."""
    try:
        report = service.load(_courses_dir(directory))
    except CourseFileError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"courses loaded: {report.created} new, {report.updated} updated")
