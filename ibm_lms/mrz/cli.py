"""`ibm-lms mrz check LINE…`: decode a machine-readable zone and verify every check digit, as JSON."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from .data import NotAnMrz
from .icao9303 import check

group = AppGroup("mrz", help="Machine-readable zones of travel documents (ICAO Doc 9303).")

# Exit statuses: the zone verifies; a check digit (or a date) fails; the text is no MRZ at all.
VALID, INVALID, NOT_AN_MRZ = 0, 1, 2


@group.command("check")
@click.argument("lines", nargs=-1, required=True)
def check_command(lines):
    """Decode the two or three LINES of an MRZ and verify every check digit.

    Prints JSON: the format, the document type, the decoded fields, each check digit with the
    expected and found value, and "valid". Exit status 0 when valid, 1 when a check digit or a
    date fails, 2 when the lines are no MRZ (line count, length or characters). Quote each line:
    the filler character < means something to the shell.
    """
    try:
        report = check(list(lines))
    except NotAnMrz as error:
        click.echo(json.dumps({"valid": False, "error": "not an MRZ", "reason": error.reason}, ensure_ascii=False))
        sys.exit(NOT_AN_MRZ)
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    sys.exit(VALID if report.valid else INVALID)
