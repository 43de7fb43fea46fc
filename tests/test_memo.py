import threading

import pytest

from ibm_lms.memo import Memo


def test_a_full_memo_lets_its_oldest_entry_go_first():
    memo = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c"), len(memo)) == (None, 2, 3, 2)


def test_a_value_is_made_once_and_then_remembered():
    memo = Memo(4)
    made = []

    def make():
        made.append(1)
        return "value"

    assert memo.get_or_make("key", make) == memo.get_or_make("key", make) == "value"
    assert made == [1]


def test_a_remembered_none_is_a_value_not_a_miss():
    memo = Memo(4)
    calls = []
    assert memo.get_or_make("key", lambda: calls.append(1)) is None
    assert memo.get_or_make("key", lambda: calls.append(1)) is None
    assert calls == [1]


def test_threads_storing_at_once_never_overfill_it():
    memo = Memo(100)

    def fill(start):
        for number in range(start, start + 1000):
            memo.put(number, number)

    threads = [threading.Thread(target=fill, args=(n * 1000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(memo) == 100


def test_a_memo_holds_at_least_one_entry():
    with pytest.raises(ValueError):
        Memo(0)
