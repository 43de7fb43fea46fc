"""A page's text callables, bound to its locale once: the same output as Jinja's new-style gettext."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import refresh

from tests.conftest import translated


def render(app, source: str, language: str = "ru", **values) -> str:
    with app.test_request_context("/", headers={"Accept-Language": language}):
        refresh()  # the test's application context outlives each request: no locale cached from the one before
        return render_template_string(source, **values)


def test_a_message_is_translated_and_its_values_escaped_but_not_its_markup(app):
    page = render(app, '{{ _("Question %(number)s", number=value) }}|{{ _("Delivered") }}', value="<b>2</b>")
    assert page == translated("ru", "Question %(number)s").replace("%(number)s", "&lt;b&gt;2&lt;/b&gt;") + "|" + \
        translated("ru", "Delivered")


def test_a_plural_picks_the_locales_form_and_names_the_count_num(app):
    source = '{{ ngettext("%(num)d statement queued again.", "%(num)d statements queued again.", n) }}'
    few, many = render(app, source, n=3), render(app, source, n=5)
    assert few.startswith("3 ") and many.startswith("5 ") and few[2:] != many[2:]  # Russian: 3 and 5 differ
    assert render(app, source, "en", n=1) == "1 statement queued again."


def test_a_text_in_another_language_carries_its_language_and_is_escaped(app):
    source = "{{ text(shown(texts)) }}"
    assert render(app, source, "ka", texts={"ru": "<i>Граница</i>", "en": "Border"}) == \
        '<span lang="ru">&lt;i&gt;Граница&lt;/i&gt;</span>'
    assert render(app, source, "en", texts={"ru": "Граница", "en": "Border & customs"}) == "Border &amp; customs"


def test_trans_blocks_use_the_pages_catalog_too(app):
    assert render(app, "{% trans %}Delivered{% endtrans %}") == translated("ru", "Delivered")
    assert render(app, "{% trans %}Delivered{% endtrans %}", "uk") == translated("uk", "Delivered")


def test_the_language_menu_built_once_per_locale_selects_the_readers_language(app):
    source = "{{ language_options }}"
    for language in ("uk", "ka", "uk"):
        menu = render(app, source, language)
        assert menu.count("<option ") == 8 and menu.count(" selected") == 1
        assert f'<option value="{language}" lang="{language}" selected>' in menu
    assert '<option value="ka" lang="ka">ქართული</option>' in menu
