"""What the floor (d) and the minimal tool (b) need to render the catalogue page, besides the courses.

The language menu's names and the trainee's role label, as ibm_lms shows them; the page's
markup is bench/templates/catalogue.html.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# The minimal tool's course table (bench/run.py fills it); title and summary hold JSON objects, one text per locale.
COURSES_TABLE_DDL = ("CREATE TABLE IF NOT EXISTS courses (slug VARCHAR(64) PRIMARY KEY, position INTEGER NOT NULL, "
                     "horizontal BOOLEAN NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL, "
                     "lessons INTEGER NOT NULL, minutes INTEGER NOT NULL)")
# A trainee's progress per course, as the catalogue shows it (floor and minimal tool; empty for the benchmark's
# trainees, who open no lesson, as ours has no progress rows for them either).
PROGRESS_TABLE_DDL = ("CREATE TABLE IF NOT EXISTS progress (user_sub VARCHAR(255) NOT NULL, course VARCHAR(64) NOT NULL, "
                      "started BOOLEAN NOT NULL, completed_lessons INTEGER NOT NULL, lessons INTEGER NOT NULL, "
                      "completed BOOLEAN NOT NULL, PRIMARY KEY (user_sub, course))")
PROGRESS_QUERY = "SELECT course, started, completed_lessons, lessons, completed FROM progress WHERE user_sub = {}"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LANGUAGES = (
    ("en", "English"), ("ru", "Русский"), ("uk", "Українська"), ("ka", "ქართული"),
    ("hy", "Հայերեն"), ("az", "Azərbaycan"), ("ro", "Română"), ("be", "Беларуская"),
)
LOCALES = frozenset(code for code, _ in LANGUAGES)
_INSTRUCTOR_ROLES = frozenset({
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
})


def role_of(claims: dict) -> tuple[str, str]:
    """(css suffix, label) for the page's identity line."""
    if _INSTRUCTOR_ROLES.intersection(claims.get(LTI + "roles") or ()):
        return "instructor", "Instructor"
    return "learner", "Trainee"


def locale_of(claims: dict) -> str:
    locale = ((claims.get(LTI + "launch_presentation") or {}).get("locale") or "en").split("-")[0].lower()
    return locale if locale in LOCALES else "en"


def context_title_of(claims: dict) -> str:
    return (claims.get(LTI + "context") or {}).get("title") or ""


def pick(texts: dict, locale: str) -> str:
    return texts.get(locale) or texts.get("en") or ""


def duration(minutes: int) -> str:
    """As ibm_lms shows a course's length in English."""
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def progress_by_course(rows) -> dict[str, dict]:
    return {row[0]: {"started": bool(row[1]), "completed_lessons": row[2], "lessons": row[3], "completed": bool(row[4])}
            for row in rows}


STATIC_FILES = ("css/app.css", "icon.svg")


def static_urls() -> dict[str, str]:
    """The page's stylesheet and icon URLs as ours writes them (ibm_lms/web.py, `static_fingerprint`): each
    names the first 12 hex digits of its file's SHA-256, read from BENCH_STATIC_DIR (bench/run.py points it at
    the after worktree's ibm_lms/static). Computed once per worker, as ours computes them once per app."""
    folder = os.environ.get("BENCH_STATIC_DIR")
    urls = {}
    for name in STATIC_FILES:
        try:
            digest = hashlib.sha256(Path(folder, name).read_bytes()).hexdigest()[:12] if folder else None
        except OSError:
            digest = None
        urls[name] = f"/static/{name}?v={digest}" if digest else f"/static/{name}"
    return urls
