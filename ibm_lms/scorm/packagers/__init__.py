"""Package flavours by the name `scorm build --format` takes, in the order it lists them (pure)."""

from __future__ import annotations

from .cmi5 import CMI5
from .flavour import Flavour
from .scorm12 import SCORM12
from .scorm2004 import SCORM2004

FLAVOURS: dict[str, Flavour] = {flavour.name: flavour for flavour in (SCORM12, SCORM2004, CMI5)}
