"""cmi5: the unit talks xAPI to the platform's LRS itself, with the token and launch data the platform gives."""

from ..manifest import cmi5_course_structure
from .flavour import Flavour

CMI5 = Flavour("cmi5", "cmi5.xml", cmi5_course_structure, "cmi5.js")
