"""What the MRZ checker hands out: the report of one machine-readable zone (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

FILLER = "<"


class NotAnMrz(ValueError):
    """The text cannot be a machine-readable zone (line count, length or characters); `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CheckDigit:
    field: str
    # What the digit covers and where it sits, as "line:first-last" with 1-based positions.
    covers: str
    at: str
    expected: str
    found: str

    @property
    def ok(self) -> bool:
        # An unused optional field may carry a filler or a zero as its digit (Doc 9303 Part 4, 4.2.2.2).
        return self.found == self.expected or (self.field == "optional_data" and self.expected == "0"
                                               and self.found == FILLER)

    def as_dict(self) -> dict:
        return {"field": self.field, "covers": self.covers, "at": self.at, "expected": self.expected,
                "found": self.found, "ok": self.ok}


@dataclass(frozen=True)
class MrzReport:
    format: str
    document_type: str
    fields: dict[str, str | None]
    check_digits: tuple[CheckDigit, ...]
    problems: tuple[str, ...] = field(default=())

    @property
    def check_digits_ok(self) -> bool:
        return all(digit.ok for digit in self.check_digits)

    @property
    def valid(self) -> bool:
        return self.check_digits_ok and not self.problems

    def as_dict(self) -> dict:
        return {"format": self.format, "document_type": self.document_type, "fields": self.fields,
                "check_digits": [digit.as_dict() for digit in self.check_digits],
                "problems": list(self.problems), "valid": self.valid}
