"""A Phrase is its English text wherever a str goes, and says its msgid and values in another language when read."""

from __future__ import annotations

from ibm_lms.markers import N_, Phrase, read, used_by

FRENCH = {"line %(number)d": "ligne %(number)d", "%(where)s: %(problem)s": "%(where)s : %(problem)s",
          "answer %(number)d is empty": "la réponse %(number)d est vide"}


def french(msgid: str, values: dict) -> str:
    found = FRENCH.get(msgid, msgid)
    return found % values if values else found


def test_a_phrase_is_its_english_text_and_reads_nested_phrases_in_another_language():
    said = Phrase(N_("%(where)s: %(problem)s"), where=Phrase(N_("line %(number)d"), number=4),
                  problem=Phrase(N_("answer %(number)d is empty"), number=3))
    assert said == "line 4: answer 3 is empty" and isinstance(said, str) and "answer 3" in said
    assert said.read(french) == "ligne 4 : la réponse 3 est vide"
    assert read(said, french) == said.read(french) and read("plain text", french) == "plain text"
    # A value is put in as it is: a "%" a file's author typed is not a placeholder.
    assert Phrase(N_("the tag %(tag)s is long"), tag="50%(x)s") == "the tag 50%(x)s is long"


def test_a_fix_takes_only_the_values_its_placeholders_name():
    values = {"number": 2, "weight": "'%fifty%'"}
    assert used_by("write weights as %50% or %-33.33333%, right after = or ~", values) == {}
    assert used_by("answer %(number)d is empty", values) == {"number": 2}
    assert Phrase("use a weight from %-100% to %100%", **used_by("use a weight from %-100% to %100%", values)) == \
        "use a weight from %-100% to %100%"
