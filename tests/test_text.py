"""Numbers and structures from outside, checked the same way by every room."""

from __future__ import annotations

import pytest

from ibm_lms.text import MAX_ROW_ID, is_shallow, page_number, whole_number, whole_number_or_none


@pytest.mark.parametrize("value", ["0", "7", "0042", str(MAX_ROW_ID)])
def test_ascii_digits_up_to_the_largest_row_id_are_whole_numbers(value):
    assert whole_number(value) == int(value)


@pytest.mark.parametrize("value", [str(MAX_ROW_ID + 1), "9" * 400, "\u00b2", "\u0663", "-1", "+1", " 1", "1 ", "1.0",
                                   "", "1\n", None, 5])
def test_anything_else_is_refused(value):
    with pytest.raises(ValueError):
        whole_number(value)
    assert whole_number_or_none(value) is None


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
