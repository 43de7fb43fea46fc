"""`ibm-lms scorm build`: course packages for learning platforms that play them without this tool."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ibm_lms.config import ConfigurationError, require_public_address
from ibm_lms.locales import LOCALES

from . import service
from .data import PackageError

group = AppGroup("scorm", help="SCORM 1.2, SCORM 2004 and cmi5 packages of the courses.")


@group.command("build")
@click.option("--course", "course", metavar="SLUG", help="One course (its folder's name under courses/).")
@click.option("--all", "every_course", is_flag=True, help="Every course (the default).")
@click.option("--locale", "locale", type=click.Choice(("all", *LOCALES)), default="all", show_default=True,
              help="The package's language; all: one package per language.")
@click.option("--format", "package_format", type=click.Choice(("all", *service.flavours())), default="all",
              show_default=True, help="scorm12 for most Moodles, scorm2004, or cmi5.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the .zip files to (default: scorm_packages/).")
@click.option("--dir", "courses_dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of courses.")
def build_command(course, every_course, locale, package_format, out_dir, courses_dir):
    """Write one .zip per course, language and format: upload it to Moodle as a SCORM package (or a cmi5
    activity). Lessons are pages of one unit, complete when every lesson is; exercises are self-checks."""
    if course and every_course:
        raise click.UsageError("give --course SLUG or --all, not both")
    out_dir = out_dir or Path(current_app.config["SCORM_PACKAGES_DIR"])
    try:
        # cmi5 packages name the tool's address in their IRIs, and a package outlives the command.
        require_public_address(current_app.config)
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from error
    try:
        built = service.build(Path(courses_dir or current_app.config["COURSES_DIR"]), out_dir,
                              courses=[course] if course else None,
                              locales=None if locale == "all" else [locale],
                              formats=None if package_format == "all" else [package_format])
    except PackageError as error:
        raise click.ClickException(str(error)) from error
    except OSError as error:
        raise click.ClickException(f"cannot write to {out_dir}: {error.strerror or error}") from error
    for package in built:
        click.echo(f"{package.path}  ({package.files} files, {package.bytes // 1024 + 1} KiB)")
    click.echo(f"{len(built)} packages written to {out_dir}")
