"""SCORM 1.2: what most national Moodles play without a plug-in (the `API` object, cmi.core.*)."""

from ..manifest import scorm12_manifest
from .flavour import Flavour

SCORM12 = Flavour("scorm12", "imsmanifest.xml", scorm12_manifest, "scorm12.js")
