"""Reading and verifying a machine-readable zone as ICAO Doc 9303 defines it (pure).

Part 3 gives the characters, their values and the check digit (weights 7, 3, 1, sum modulo 10);
Part 4 the TD3 passport (2 × 44), Part 5 the TD1 card (3 × 30), Part 6 the TD2 card (2 × 36) and
Part 7 the machine-readable visas (MRV-A 2 × 44, MRV-B 2 × 36), which carry no composite digit.
Every field is decoded, every check digit is recomputed and compared with the one printed.
"""

from __future__ import annotations

import re
from datetime import date

from .data import FILLER, CheckDigit, MrzReport, NotAnMrz

_ALPHABET = re.compile(r"[A-Z0-9<]*")
_WEIGHTS = (7, 3, 1)
FORMATS = {(2, 44): "TD3", (2, 36): "TD2", (3, 30): "TD1"}


def character_value(character: str) -> int:
    if character.isdigit():
        return int(character)
    if "A" <= character <= "Z":
        return ord(character) - ord("A") + 10
    if character == FILLER:
        return 0
    raise ValueError(f"{character!r} is not an MRZ character")


def check_digit(data: str) -> str:
    """The check digit of `data`: each character's value times 7, 3, 1, … summed, modulo 10."""
    return str(sum(character_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(data)) % 10)


def _document_type(code: str) -> str:
    first = code[:1]
    return {"P": "passport", "V": "visa", "I": "identity card", "A": "identity card", "C": "identity card"}.get(
        first, "travel document")


def _text(value: str) -> str:
    return value.replace(FILLER, " ").strip()


def _names(value: str) -> tuple[str, str]:
    """Primary identifier (surname) and secondary identifiers (given names): '<<' separates them, '<' is a space."""
    primary, _, secondary = value.partition("<<")
    return _text(primary), _text(secondary)


def decode_date(value: str, *, kind: str, today: date | None = None) -> str | None:
    """YYMMDD as an ISO date, or None when it is no calendar date (or unknown: '<' or 'X' fillers).

    The MRZ holds two digits of the year: a date of birth is taken in the last hundred years, an
    expiry date in this century."""
    if not value.isdigit():
        return None
    today = today or date.today()
    year, month, day = int(value[:2]), int(value[2:4]), int(value[4:6])
    century = 2000 if kind == "expiry" or 2000 + year <= today.year else 1900
    try:
        return date(century + year, month, day).isoformat()
    except ValueError:
        return None


def _digit(name: str, data: str, covers: str, found: str, at: str) -> CheckDigit:
    return CheckDigit(field=name, covers=covers, at=at, expected=check_digit(data), found=found)


def _span(line: int, first: int, last: int) -> str:
    return f"{line}:{first}-{last}"


def _split_long_number(number: str, digit: str, optional: str) -> tuple[str, str, str, str]:
    """A document number longer than nine characters (TD1, TD2): its first nine, a filler in the digit's
    place, then the rest and the real check digit at the start of the optional data (Doc 9303 Part 5,
    4.2.4). Returns (number, digit, optional data left, where the digit sits in the optional data)."""
    if digit != FILLER:
        return number, digit, optional, ""
    rest = optional.split(FILLER, 1)[0]
    if len(rest) < 2:
        return number, digit, optional, ""
    return number + rest[:-1], rest[-1], optional[len(rest):], rest


def normalise_lines(lines: list[str]) -> list[str]:
    """Upper case, surrounding spaces gone; checks line count, lengths and characters."""
    cleaned = [line.strip().upper() for line in lines if line.strip()]
    shape = (len(cleaned), len(cleaned[0]) if cleaned else 0)
    if len(cleaned) not in (2, 3):
        raise NotAnMrz(f"an MRZ has 2 or 3 lines, got {len(cleaned)}")
    if any(len(line) != shape[1] for line in cleaned):
        raise NotAnMrz("the lines are not all the same length: " + ", ".join(str(len(li)) for li in cleaned))
    if shape not in FORMATS:
        raise NotAnMrz(f"{shape[0]} lines of {shape[1]} characters is no ICAO format "
                       "(TD1: 3 × 30, TD2: 2 × 36, TD3: 2 × 44)")
    for number, line in enumerate(cleaned, start=1):
        bad = sorted({c for c in line if not _ALPHABET.fullmatch(c)})
        if bad:
            raise NotAnMrz(f"line {number} holds characters an MRZ never has: {' '.join(map(repr, bad))} "
                           "(only A–Z, 0–9 and <)")
    return cleaned


def check(lines: list[str], *, today: date | None = None) -> MrzReport:
    """Decodes every field and verifies every check digit; raises NotAnMrz for text that is no MRZ."""
    cleaned = normalise_lines(lines)
    kind = FORMATS[(len(cleaned), len(cleaned[0]))]
    if kind == "TD1":
        return _td1(cleaned, today)
    if cleaned[0].startswith("V"):
        return _visa(cleaned, "MRV-A" if kind == "TD3" else "MRV-B", today)
    return _two_line(cleaned, kind, today)


def _dates(fields: dict, birth: str, expiry: str, today: date | None) -> list[str]:
    problems = []
    fields["birth_date"] = decode_date(birth, kind="birth", today=today)
    fields["expiry_date"] = decode_date(expiry, kind="expiry", today=today)
    if fields["birth_date"] is None:
        problems.append(f"date of birth {birth} is not a calendar date")
    if fields["expiry_date"] is None:
        problems.append(f"date of expiry {expiry} is not a calendar date")
    return problems


def _sex(value: str, problems: list[str]) -> str:
    if value not in ("M", "F", "X", FILLER):
        problems.append(f"sex {value!r} is none of M, F, X or <")
    return "X" if value == FILLER else value


def _two_line(lines: list[str], kind: str, today: date | None) -> MrzReport:
    upper, lower = lines
    width = len(lower)
    optional_end = width - 2  # the last position is the composite digit, the one before it the optional data's digit (TD3)
    surname, given = _names(upper[5:])
    number, number_digit, optional = lower[0:9], lower[9], lower[28:optional_end + (0 if kind == "TD3" else 1)]
    long_digit_source = ""
    if kind == "TD2":
        number, number_digit, optional, long_digit_source = _split_long_number(number, number_digit, optional)
    fields = {
        "document_code": _text(upper[0:2]),
        "issuing_state": _text(upper[2:5]),
        "surname": surname,
        "given_names": given,
        "document_number": _text(number),
        "nationality": _text(lower[10:13]),
        "sex": None,
        "optional_data": _text(optional) or None,
    }
    problems = _dates(fields, lower[13:19], lower[21:27], today)
    fields["sex"] = _sex(lower[20], problems)
    number_covers = _span(2, 1, 9) + (f"+2:29-{28 + len(long_digit_source) - 1}" if long_digit_source else "")
    number_at = f"2:{28 + len(long_digit_source)}" if long_digit_source else "2:10"
    digits = [
        _digit("document_number", number, number_covers, number_digit, number_at),
        _digit("birth_date", lower[13:19], _span(2, 14, 19), lower[19], "2:20"),
        _digit("expiry_date", lower[21:27], _span(2, 22, 27), lower[27], "2:28"),
    ]
    if kind == "TD3":
        digits.append(_digit("optional_data", lower[28:42], _span(2, 29, 42), lower[42], "2:43"))
        composite_data = lower[0:10] + lower[13:20] + lower[21:43]
        composite_covers = "2:1-10,14-20,22-43"
    else:
        composite_data = lower[0:10] + lower[13:20] + lower[21:35]
        composite_covers = "2:1-10,14-20,22-35"
    digits.append(_digit("composite", composite_data, composite_covers, lower[-1], f"2:{width}"))
    return MrzReport(format=kind, document_type=_document_type(upper[:2]), fields=fields,
                     check_digits=tuple(digits), problems=tuple(problems))


def _visa(lines: list[str], kind: str, today: date | None) -> MrzReport:
    upper, lower = lines
    surname, given = _names(upper[5:])
    fields = {
        "document_code": _text(upper[0:2]),
        "issuing_state": _text(upper[2:5]),
        "surname": surname,
        "given_names": given,
        "document_number": _text(lower[0:9]),
        "nationality": _text(lower[10:13]),
        "sex": None,
        "optional_data": _text(lower[28:]) or None,
    }
    problems = _dates(fields, lower[13:19], lower[21:27], today)
    fields["sex"] = _sex(lower[20], problems)
    digits = (
        _digit("document_number", lower[0:9], _span(2, 1, 9), lower[9], "2:10"),
        _digit("birth_date", lower[13:19], _span(2, 14, 19), lower[19], "2:20"),
        _digit("expiry_date", lower[21:27], _span(2, 22, 27), lower[27], "2:28"),
    )
    return MrzReport(format=kind, document_type="visa", fields=fields, check_digits=digits, problems=tuple(problems))


def _td1(lines: list[str], today: date | None) -> MrzReport:
    first, second, third = lines
    number, number_digit, optional, long_digit_source = _split_long_number(first[5:14], first[14], first[15:30])
    surname, given = _names(third)
    fields = {
        "document_code": _text(first[0:2]),
        "issuing_state": _text(first[2:5]),
        "surname": surname,
        "given_names": given,
        "document_number": _text(number),
        "nationality": _text(second[15:18]),
        "sex": None,
        "optional_data": " ".join(part for part in (_text(optional), _text(second[18:29])) if part) or None,
    }
    problems = _dates(fields, second[0:6], second[8:14], today)
    fields["sex"] = _sex(second[7], problems)
    number_covers = _span(1, 6, 14) + (f"+1:16-{15 + len(long_digit_source) - 1}" if long_digit_source else "")
    number_at = f"1:{15 + len(long_digit_source)}" if long_digit_source else "1:15"
    digits = (
        _digit("document_number", number, number_covers, number_digit, number_at),
        _digit("birth_date", second[0:6], _span(2, 1, 6), second[6], "2:7"),
        _digit("expiry_date", second[8:14], _span(2, 9, 14), second[14], "2:15"),
        _digit("composite", first[5:30] + second[0:7] + second[8:15] + second[18:29],
               "1:6-30+2:1-7,9-15,19-29", second[29], "2:30"),
    )
    return MrzReport(format="TD1", document_type=_document_type(first[:2]), fields=fields, check_digits=digits,
                     problems=tuple(problems))
