"""`ibm-lms i18n extract|update|compile|check`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ibm_lms.config import PACKAGE_DIR

from . import catalogs


class _CatalogGroup(AppGroup):
    """Every i18n command reports an unreadable catalog as one line with its file and line."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except catalogs.CatalogFileError as error:
            raise click.ClickException(str(error)) from error


group = _CatalogGroup("i18n", help="Translation catalogs.")


def _paths() -> tuple[Path, tuple[str, ...]]:
    translations = Path(current_app.config["TRANSLATIONS_DIR"])
    if not any(translations.glob("*/LC_MESSAGES/messages.po")):
        # An installed package carries only the compiled catalogs: nothing here to extract into, merge or check.
        raise click.ClickException(
            f"{translations} holds no source catalogs (.po): the i18n commands maintain a checkout's translations/ "
            "folder; run them in a checkout, or point IBM_LMS_TRANSLATIONS_DIR at one")
    return translations, tuple(current_app.config["LOCALES"])


@group.command("extract")
def extract_command():
    """Write translations/messages.pot from the package's sources and templates."""
    translations, _ = _paths()
    catalog = catalogs.extract(PACKAGE_DIR, translations)
    click.echo(f"{len(catalog)} messages -> {catalogs.template_path(translations)}")


@group.command("update")
def update_command():
    """Merge the template into every locale's catalog."""
    translations, locales = _paths()
    catalogs.update(translations, locales)
    click.echo(f"updated {len(locales)} catalogs")


@group.command("compile")
def compile_command():
    """Compile every .po catalog to .mo."""
    translations, locales = _paths()
    written = catalogs.compile_all(translations, locales)
    click.echo(f"compiled {len(written)} catalogs")


@group.command("check")
def check_command():
    """Fail when a catalog lacks a message or breaks a placeholder."""
    translations, locales = _paths()
    problems = catalogs.check(translations, locales)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} catalog problems")
    click.echo("all catalogs complete")
