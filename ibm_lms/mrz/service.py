"""The MRZ room's door: read and verify a machine-readable zone (ICAO Doc 9303)."""

from __future__ import annotations

from .data import MrzReport, NotAnMrz
from .icao9303 import check as check_mrz
from .icao9303 import check_digit, decode_date

__all__ = ["MrzReport", "NotAnMrz", "check_digit", "check_mrz", "decode_date"]
