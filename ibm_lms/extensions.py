"""Unbound Flask extensions, bound to an app in create_app, and state that belongs to one app; imports no room."""

import threading
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app
from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Model)
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()

T = TypeVar("T")
_creating = threading.Lock()


def app_state(name: str, factory: Callable[[], T], *, app: Flask | None = None) -> T:
    """State that belongs to one application object (a cache, a registry, a counter), made on first use.

    Kept on the app rather than in a module, so two apps in one process (tests, a worker beside a
    server) never see each other's caches."""
    extensions = (app or current_app).extensions
    key = "ibm_lms." + name
    found = extensions.get(key)
    if found is None:
        with _creating:
            found = extensions.get(key)
            if found is None:
                found = extensions[key] = factory()
    return found
