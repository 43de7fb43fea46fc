"""Records the package room hands out: what a package holds, and what a build wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PackagePlan:
    """One course in one language as a single launchable unit (a SCO, or a cmi5 AU), in a flavour's terms.

    `files` are the package's paths in the order a manifest lists them, the launch page first."""

    identifier: str  # the manifest's identifier: letters, digits, dots and hyphens
    course_iri: str  # cmi5: the course structure's id
    unit_iri: str  # cmi5: the AU's id, which its statements name as their object
    title: str
    description: str
    language: str  # BCP 47, as a langstring's lang
    launch: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class BuiltPackage:
    course: str
    locale: str
    flavour: str
    path: Path
    files: int
    bytes: int


class PackageError(ValueError):
    """A build that cannot be done as asked (an unknown course, course files with problems): said as it is."""
