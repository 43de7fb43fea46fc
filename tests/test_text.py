"""Numbers and structures from outside, checked the same way by every room."""

from __future__ import annotations

import pytest

from ibm_lms.text import MAX_ROW_ID, decimal_number, is_shallow, page_number, whole_number, whole_number_or_none


@pytest.mark.parametrize("value", ["0", "7", "0042", str(MAX_ROW_ID)])
def test_ascii_digits_up_to_the_largest_row_id_are_whole_numbers(value):
    assert whole_number(value) == int(value)


@pytest.mark.parametrize("value", [str(MAX_ROW_ID + 1), "9" * 400, "\u00b2", "\u0663", "-1", "+1", " 1", "1 ", "1.0",
                                   "", "1\n", None, 5])
def test_anything_else_is_refused(value):
    with pytest.raises(ValueError):
        whole_number(value)
    assert whole_number_or_none(value) is None


@pytest.mark.parametrize(("value", "number"), [("0", 0.0), ("82.5", 82.5), ("82,5", 82.5), ("007", 7.0),
                                               (".5", 0.5), ("100.", 100.0)])
def test_a_decimal_is_ascii_digits_with_a_point_or_a_comma(value, number):
    assert decimal_number(value) == number


@pytest.mark.parametrize("value", ["1_0", "\uff11\uff10\uff10", "\u0667\u0665", "1e2", "nan", "inf", "-1", "+1", " 1",
                                   "1.2.3", "1,2,3", "1.,5", ".", ",", "", "9" * 16, None, 5.0])
def test_anything_else_is_no_decimal(value):
    with pytest.raises(ValueError):
        decimal_number(value)


def test_a_maximum_and_the_page_bound():
    assert whole_number_or_none("100", maximum=99) is None and whole_number_or_none("99", maximum=99) == 99
    assert page_number("1000000") == 1_000_000
    with pytest.raises(ValueError):
        page_number("1000001")


def test_nesting_is_measured_without_recursion_at_any_depth():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert not is_shallow(deep)
    assert is_shallow({"a": [{"b": [1, 2, {"c": "d"}]}]}, limit=5)
    assert not is_shallow({"a": [{"b": [1, 2, {"c": []}]}]}, limit=5)
    assert is_shallow("text") and is_shallow(3) and is_shallow([])
