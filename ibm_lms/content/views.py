"""Pages of the content room: catalogue, course overview, lesson with its exercises, glossary, figures."""

from __future__ import annotations

import re
import secrets

from flask import Blueprint, abort, current_app, get_template_attribute, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext, ngettext
from markupsafe import Markup

from ibm_lms.extensions import app_state
from ibm_lms.items.service import MRZ_FIELD_LABELS
from ibm_lms.memo import Memo
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Role
from ibm_lms.text import whole_number_or_none

from . import service
from .rendering import course_html, markdown

blueprint = Blueprint("content", __name__)

# Course card heads kept per app (the oldest leave first): eight courses in eight locales and a few catalogue
# versions fit many times over.
MAX_KEPT_CARD_HEADS = 2000
# Figures never change under their address (it is their SHA-256): browsers keep them for a year.
IMMUTABLE = "public, max-age=31536000, immutable"


def _locale() -> str:
    return str(get_locale())


def init_templates(app) -> None:
    app.jinja_env.globals["course_html"] = course_html
    app.jinja_env.globals["exercise_markdown"] = markdown
    app.jinja_env.globals["answer_token"] = lambda: secrets.token_urlsafe(18)
    app.jinja_env.globals["mrz_field_labels"] = MRZ_FIELD_LABELS


def duration_text(minutes: int) -> str:
    if minutes >= 60:
        return gettext("%(hours)s h %(minutes)s min", hours=minutes // 60, minutes=minutes % 60)
    return gettext("%(minutes)s min", minutes=minutes)


def _card_meta(lessons: int, minutes: int) -> str:
    """"6 lessons · 3 h 30 min" in the reader's language."""
    return ngettext("%(num)d lesson", "%(num)d lessons", lessons) + " · " + duration_text(minutes)


def _card_heads(courses, locale: str) -> dict[str, Markup]:
    """Each course card's head: its link, title, tag, summary and length. Unless the session rides in the links,
    it is the same for every reader of a locale: rendered once per course version, locale and mount point
    rather than on every catalogue page (the trainee's progress below it is rendered per page)."""
    card_head = get_template_attribute("content/_course_card.html", "card_head")

    def render(course) -> Markup:
        return card_head(course, url_for("content.course", slug=course.slug), _card_meta(course.lessons, course.minutes),
                         locale)

    if tenancy.travels_in_urls():
        return {course.slug: render(course) for course in courses}
    known = app_state("content.card_heads", lambda: Memo(MAX_KEPT_CARD_HEADS))
    return {course.slug: known.get_or_make((request.script_root, locale, course), lambda course=course: render(course))
            for course in courses}


@blueprint.get("/")
def home():
    """A signed-in trainee goes to the catalogue; anyone else learns what the tool is and how to reach it."""
    if tenancy.current_identity() is not None:
        return redirect(url_for("content.catalogue"))
    return render_template("content/home.html", demo=current_app.config["DEMO_MODE"])


@blueprint.get("/courses/")
@tenancy.login_required
def catalogue():
    identity = tenancy.require_identity()
    locale = _locale()
    courses = service.catalogue(locale, identity.tenant_id)
    return render_template(
        "content/catalogue.html", identity=identity, courses=courses, progress=service.course_progress(identity),
        heads=_card_heads(courses, locale),
    )


@blueprint.get("/courses/<slug>")
@tenancy.login_required
def course(slug: str):
    identity = tenancy.require_identity()
    page = service.course_page(slug, identity, _locale())
    sections = service.course_sections()
    waiting = {section.endpoint for section in sections if page["completed"]
               and getattr(section, "waiting", None) and section.waiting(identity, slug)}
    return render_template("content/course.html", identity=identity, page=page, sections=sections, waiting=waiting,
                           instructor=identity.role.rank >= Role.INSTRUCTOR.rank)


@blueprint.get("/courses/<slug>/continue")
@tenancy.login_required
def resume(slug: str):
    lesson = service.resume_lesson(slug, tenancy.require_identity())
    target = url_for("content.lesson", slug=slug, lesson=lesson) if lesson else url_for("content.course", slug=slug)
    return redirect(target, code=303)


@blueprint.get("/courses/<slug>/lessons/<lesson>")
@tenancy.login_required
def lesson(slug: str, lesson: str):
    identity = tenancy.require_identity()
    page = service.lesson_page(slug, lesson, identity, _locale())
    return render_template("content/lesson.html", identity=identity, page=page)


@blueprint.post("/courses/<slug>/lessons/<lesson>/exercises/<exercise>")
@tenancy.login_required
def answer(slug: str, lesson: str, exercise: str):
    identity = tenancy.require_identity()
    version = whole_number_or_none(request.form.get("version", ""))
    if version is None:
        abort(400)
    form = {key: request.form.getlist(key) for key in request.form if key not in ("csrf_token", "version", "token")}
    service.answer_exercise(slug, lesson, exercise, version_id=version, token=request.form.get("token", ""),
                            form=form, identity=identity, locale=_locale())
    return redirect(url_for("content.lesson", slug=slug, lesson=lesson) + f"#exercise-{exercise}", code=303)


@blueprint.post("/courses/<slug>/lessons/<lesson>/complete")
@tenancy.login_required
def complete(slug: str, lesson: str):
    identity = tenancy.require_identity()
    service.complete_lesson(slug, lesson, identity, _locale())
    following = request.form.get("next", "")
    if following and re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", following):
        return redirect(url_for("content.lesson", slug=slug, lesson=following), code=303)
    return redirect(url_for("content.course", slug=slug), code=303)


@blueprint.get("/courses/<slug>/glossary")
@tenancy.login_required
def glossary(slug: str):
    identity = tenancy.require_identity()
    return render_template("content/glossary.html", identity=identity,
                           page=service.glossary_page(slug, identity, _locale()))


@blueprint.get("/content/figures/<digest>.svg")
def figure(digest: str):
    svg = service.figure(digest)
    return svg, 200, {
        "Content-Type": "image/svg+xml; charset=utf-8",
        "Cache-Control": IMMUTABLE,
        # A drawing is shown as an image; should it be opened alone, nothing in it may run or load.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    }
