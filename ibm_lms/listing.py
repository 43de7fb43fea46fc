"""How a `list` command prints: for people, a header line and one tab-separated line per row (times as
`YYYY-MM-DD HH:MM`, UTC; nothing as `-`); with `--json`, for programs, one JSON object per line (times as ISO 8601
with Z)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import click

from .clock import iso_utc
from .text import MAX_ROW_ID

# A row's number as commands take it: a number no row can have is refused by click, not by the database driver.
ROW_ID = click.IntRange(1, MAX_ROW_ID)


def echo_rows(rows: Sequence[dict], *, as_json: bool, empty: str) -> None:
    """Prints `rows` (dicts with the same keys, in column order); `empty` when there are none (text only)."""
    if as_json:
        for row in rows:
            click.echo(json.dumps({key: iso_utc(value) if isinstance(value, datetime) else value
                                   for key, value in row.items()}, ensure_ascii=False))
        return
    if not rows:
        click.echo(empty)
        return
    click.echo("\t".join(rows[0]))
    for row in rows:
        click.echo("\t".join(_text(value) for value in row.values()))


def _text(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value)
