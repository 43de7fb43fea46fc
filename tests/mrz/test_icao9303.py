"""The ICAO Doc 9303 checker against the specimens Doc 9303 publishes, and against altered copies of them."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ibm_lms.mrz.service import NotAnMrz, check_digit, check_mrz

TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
TD2 = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"]
TD1 = ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]
TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(("data", "digit"), [("L898902C3", "6"), ("740812", "2"), ("120415", "9"),
                                             ("ZE184226B<<<<<", "1"), ("520727", "3"), ("AB2134<<<", "5")])
def test_check_digits_of_the_doc_9303_examples(data, digit):
    assert check_digit(data) == digit


@pytest.mark.parametrize(("lines", "kind", "digits"), [(TD3, "TD3", 5), (TD2, "TD2", 4), (TD1, "TD1", 4)])
def test_the_icao_specimens_verify(lines, kind, digits):
    report = check_mrz(lines, today=TODAY)
    assert report.valid and report.format == kind and len(report.check_digits) == digits
    assert report.fields["surname"] == "ERIKSSON" and report.fields["given_names"] == "ANNA MARIA"
    assert report.fields["birth_date"] == "1974-08-12" and report.fields["expiry_date"] == "2012-04-15"
    assert report.fields["sex"] == "F" and report.fields["nationality"] == "UTO"


def test_td3_fields_and_the_composite():
    report = check_mrz(TD3, today=TODAY)
    assert report.fields["document_number"] == "L898902C3" and report.fields["optional_data"] == "ZE184226B"
    composite = report.check_digits[-1]
    assert (composite.field, composite.expected, composite.found, composite.covers) == (
        "composite", "0", "0", "2:1-10,14-20,22-43")


def test_an_altered_date_of_birth_fails_its_digit_and_the_composite():
    altered = [TD3[0], TD3[1].replace("7408122", "7508122")]
    report = check_mrz(altered, today=TODAY)
    failed = {d.field: (d.expected, d.found) for d in report.check_digits if not d.ok}
    # The 4 to 5 sits under weight 1 in the composite: its sum goes up by one.
    assert failed == {"birth_date": ("5", "2"), "composite": ("1", "0")}
    assert not report.valid


def test_a_recomputed_field_digit_can_pass_the_composite():
    """The content brief's warning: the composite does not catch every recomputed alteration."""
    forged = [TD3[0], TD3[1].replace("7408122", "7508125")]
    assert check_mrz(forged, today=TODAY).valid


def test_a_long_td1_document_number_continues_in_the_optional_data():
    first = "I<UTOD23145890<AB12<<<<<<<<<<"
    number = "D23145890AB1"
    lines = [first[:15] + "AB1" + check_digit(number) + "<" * 11, TD1[1], TD1[2]]
    body = lines[0][5:30] + lines[1][0:7] + lines[1][8:15] + lines[1][18:29]
    lines[1] = lines[1][:29] + check_digit(body)
    report = check_mrz(lines, today=TODAY)
    assert report.fields["document_number"] == number
    assert report.check_digits[0].expected == check_digit(number) and report.valid


def test_a_visa_has_no_composite():
    visa = ["V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L8988901C4XXX4009078F96121096ZE184226B<<<<<<"]
    report = check_mrz(visa, today=TODAY)
    assert report.format == "MRV-A" and [d.field for d in report.check_digits] == [
        "document_number", "birth_date", "expiry_date"]


@pytest.mark.parametrize(("lines", "reason"), [
    (["P<UTO"], "2 or 3 lines"),
    ([TD3[0], TD3[1][:-1]], "not all the same length"),
    (["A" * 40, "B" * 40], "no ICAO format"),
    ([TD3[0], TD3[1].replace("<", "-", 1)], "characters an MRZ never has"),
])
def test_text_that_is_no_mrz_says_why(lines, reason):
    with pytest.raises(NotAnMrz) as refused:
        check_mrz(lines)
    assert reason in refused.value.reason


def test_an_impossible_date_makes_the_zone_invalid_even_with_right_digits():
    lines = [TD3[0], TD3[1]]
    line = lines[1][:13] + "741332" + check_digit("741332") + lines[1][20:]
    body = line[0:10] + line[13:20] + line[21:43]
    report = check_mrz([lines[0], line[:43] + check_digit(body)], today=TODAY)
    assert report.check_digits_ok and not report.valid
    assert any("741332 is not a calendar date" in p for p in report.problems)


def test_the_cli_prints_json_and_exits_by_the_result(cli):
    valid = cli.invoke(args=["mrz", "check", *TD3])
    assert valid.exit_code == 0 and json.loads(valid.output)["valid"] is True
    altered = cli.invoke(args=["mrz", "check", TD3[0], TD3[1].replace("7408122", "7508122")])
    body = json.loads(altered.output)
    assert altered.exit_code == 1 and body["valid"] is False
    assert {"field": "birth_date", "covers": "2:14-19", "at": "2:20", "expected": "5", "found": "2",
            "ok": False} in body["check_digits"]
    broken = cli.invoke(args=["mrz", "check", "P<UTO"])
    assert broken.exit_code == 2 and json.loads(broken.output)["reason"] == "an MRZ has 2 or 3 lines, got 1"
