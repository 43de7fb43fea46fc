"""SCORM 2004 4th Edition: completion and success tracked apart (the `API_1484_11` object, cmi.*)."""

from ..manifest import scorm2004_manifest
from .flavour import Flavour

SCORM2004 = Flavour("scorm2004", "imsmanifest.xml", scorm2004_manifest, "scorm2004.js")
