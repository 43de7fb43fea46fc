"""Locale negotiation, the language menu, and the completeness of every catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from ibm_lms.config import LOCALES, PACKAGE_DIR
from ibm_lms.i18n import catalogs
from ibm_lms.i18n.negotiation import choose_locale, normalise, parse_accept_language
from tests.conftest import csrf_token

TRANSLATIONS = PACKAGE_DIR.parent / "translations"


@pytest.mark.parametrize(("tag", "expected"), [("uk-UA", "uk"), ("ka_GE", "ka"), ("RU", "ru"), ("de", None),
                                               ("", None), (None, None)])
def test_normalise(tag, expected):
    assert normalise(tag, LOCALES) == expected


def test_accept_language_order_and_zero_quality():
    assert parse_accept_language("de;q=0.9, hy, ru;q=0.5, en;q=0") == ["hy", "de", "ru"]
    assert parse_accept_language("x;q=abc") == []


def test_priority_launch_then_choice_then_browser():
    assert choose_locale(LOCALES, launch_locale="az-AZ", chosen_locale="ro", accept_language=["be"]) == "az"
    assert choose_locale(LOCALES, launch_locale="fr", chosen_locale="ro", accept_language=["be"]) == "ro"
    assert choose_locale(LOCALES, accept_language=["fr", "be-BY"]) == "be"
    assert choose_locale(LOCALES, accept_language=["fr"]) == "en"


def test_every_catalog_is_complete_with_matching_placeholders():
    problems = catalogs.check(TRANSLATIONS, LOCALES)
    assert problems == [], "\n".join(map(str, problems[:30]))


def test_catalog_template_is_up_to_date(tmp_path):
    fresh = catalogs.extract(PACKAGE_DIR, tmp_path)
    with catalogs.template_path(TRANSLATIONS).open("rb") as handle:
        from babel.messages.pofile import read_po

        committed = read_po(handle)
    missing = sorted(str(m.id) for m in fresh if m.id and committed.get(m.id) is None)
    assert missing == [], f"run `ibm-lms i18n extract` and `update`: {missing[:10]}"


def test_check_finds_a_broken_placeholder_and_a_missing_message(tmp_path):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    template = Catalog()
    template.add("Hello %(name)s")
    template.add("Bye")
    with catalogs.template_path(tmp_path).open("wb") as handle:
        write_po(handle, template)
    broken = Catalog(locale="uk")
    broken.add("Hello %(name)s", "Привіт %(nme)s")
    path = catalogs.po_path(tmp_path, "uk")
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        write_po(handle, broken)
    reasons = sorted(p.reason for p in catalogs.check(tmp_path, ("uk",)))
    assert reasons == ["message missing", "placeholders differ"]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_page_renders_in_every_locale(launcher, client, courses, locale):
    # Before a launch: the login check and an error page follow the browser's language.
    _, login_page = launcher.login(lti_message_hint=locale)
    headers = {"Accept-Language": locale}
    for response in (client.get("/nowhere", headers=headers), client.get("/courses/", headers=headers)):
        assert f'<html lang="{locale}">' in response.get_data(as_text=True)
    # The front door, for someone who never launched: what the tool is, in their language, and how to reach it.
    home = client.get("/", headers=headers)
    assert home.status_code == 200 and f'<html lang="{locale}">' in home.get_data(as_text=True)
    assert "Moodle" in home.get_data(as_text=True) and 'id="demo-link"' not in home.get_data(as_text=True)
    if locale != "en":
        assert "Open it from your academy" not in home.get_data(as_text=True)
    assert login_page.status_code == 200
    launcher.launch(locale=locale, **{"https://purl.imsglobal.org/spec/lti/claim/roles": [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]})
    for path in ("/courses/", "/courses/anti-corruption"):
        page = client.get(path)
        assert page.status_code == 200
        assert f'<html lang="{locale}">' in page.get_data(as_text=True)
    # Signed in, the front door is the catalogue.
    assert client.get("/").headers["Location"].startswith("/courses/")


def test_language_menu_switches_and_remembers(launcher, client, courses):
    from sqlalchemy import select

    from ibm_lms.extensions import db
    from ibm_lms.tenancy.models import User

    launcher.launch(locale="en")
    token = csrf_token(client.get("/courses/").get_data(as_text=True))
    response = client.post("/i18n/locale", data={"locale": "ka", "next": "/courses/", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/courses/"
    assert '<html lang="ka">' in client.get("/courses/").get_data(as_text=True)
    assert db.session.execute(select(User.preferred_locale)).scalar_one() == "ka"
    # A launch without a locale keeps the user's own choice.
    launcher.launch(locale=None)
    assert '<html lang="ka">' in client.get("/courses/").get_data(as_text=True)


def test_language_form_needs_csrf_and_a_known_locale(launcher, client):
    launcher.launch()
    assert client.post("/i18n/locale", data={"locale": "ka"}).status_code == 400
    token = csrf_token(client.get("/courses/").get_data(as_text=True))
    response = client.post("/i18n/locale", data={"locale": "xx", "csrf_token": token})
    assert response.status_code == 400
    assert "not available" in response.get_data(as_text=True)
    offsite = client.post("/i18n/locale", data={"locale": "ro", "csrf_token": token, "next": "//evil.example/"})
    assert offsite.headers["Location"] == "/courses/"


@pytest.mark.parametrize("target", ["/courses/a\nb?", "/x\r\nSet-Cookie: a=b", "/\t/evil.example/"])
def test_a_return_path_with_control_characters_goes_to_the_catalogue(launcher, client, target):
    # A page's own path can hold a decoded line break (the 404 page of /courses/a%0ab), and a
    # Location header cannot.
    launcher.launch()
    token = csrf_token(client.get("/courses/").get_data(as_text=True))
    response = client.post("/i18n/locale", data={"locale": "ro", "csrf_token": token, "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/courses/"


def test_catalog_files_exist_for_every_locale():
    for locale in LOCALES:
        assert Path(catalogs.po_path(TRANSLATIONS, locale)).exists()


def test_a_choice_made_through_another_worker_applies_to_the_next_launch_without_a_locale(launcher, client, courses):
    from sqlalchemy import update

    from ibm_lms.extensions import db
    from ibm_lms.tenancy.models import User

    launcher.launch(locale="en")  # this process now remembers the user's row
    # Another worker records the user's choice of Armenian.
    db.session.execute(update(User).values(preferred_locale="hy"))
    db.session.commit()
    launcher.launch(locale=None)
    assert '<html lang="hy">' in client.get("/courses/").get_data(as_text=True)
    # A launch that names a language of ours still decides.
    launcher.launch(locale="ro")
    assert '<html lang="ro">' in client.get("/courses/").get_data(as_text=True)


def _translations_copy(tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, target, ignore=shutil.ignore_patterns("*.mo"))
    return target


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda text: text.replace("msgstr", "msgtsr", 3), "line "),
        (lambda text: text.replace('msgstr "', 'msgstr "\udcff', 1), "not UTF-8 text"),
    ],
    ids=["misspelt-keyword", "not-utf-8"],
)
def test_a_broken_catalog_stops_every_command_and_keeps_its_translations(tmp_path, app, cli, monkeypatch, damage,
                                                                         reason):
    translations = _translations_copy(tmp_path)
    path = catalogs.po_path(translations, "ru")
    path.write_bytes(damage(path.read_text(encoding="utf-8")).encode("utf-8", "surrogateescape"))
    before = path.read_bytes()
    monkeypatch.setitem(app.config, "TRANSLATIONS_DIR", str(translations))
    for command in ("update", "check", "compile"):
        result = cli.invoke(args=["i18n", command])
        assert result.exit_code == 1, (command, result.output)
        assert f"{path}, line" in result.output and reason in result.output, (command, result.output)
    assert path.read_bytes() == before


def test_a_missing_template_is_named(tmp_path, app, cli, monkeypatch):
    translations = _translations_copy(tmp_path)
    catalogs.template_path(translations).unlink()
    monkeypatch.setitem(app.config, "TRANSLATIONS_DIR", str(translations))
    result = cli.invoke(args=["i18n", "update"])
    assert result.exit_code == 1 and "messages.pot: cannot be read" in result.output


def test_an_installation_with_only_compiled_catalogs_is_told_where_the_commands_work(tmp_path, app, cli, monkeypatch):
    compiled = tmp_path / "bundled"
    for path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo"):
        target = compiled / path.relative_to(TRANSLATIONS)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    assert len(list(compiled.glob("*/LC_MESSAGES/messages.mo"))) == 8
    monkeypatch.setitem(app.config, "TRANSLATIONS_DIR", str(compiled))
    for command in ("extract", "update", "compile", "check"):
        result = cli.invoke(args=["i18n", command])
        assert result.exit_code == 1 and "holds no source catalogs (.po)" in result.output, (command, result.output)
    assert not (compiled / "messages.pot").exists()  # nothing written into the installation
