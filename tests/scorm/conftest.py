"""Packages built once per test session (a build reads every course file): two languages, every format."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ibm_lms.extensions import db
from tests.conftest import ROOT, make_app

COURSE = "document-security"
LOCALES = ("en", "ka")


@pytest.fixture(scope="session")
def built_packages(migrated_database, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """{(locale, format): zip path} for COURSE."""
    from ibm_lms.scorm import service

    out = tmp_path_factory.mktemp("packages")
    app = make_app(*migrated_database)
    with app.app_context():
        built = service.build(ROOT / "courses", out, courses=[COURSE], locales=LOCALES)
        db.engine.dispose()
    return {(package.locale, package.flavour): package.path for package in built}


def unpacked(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        archive.extractall(into)
    return into
