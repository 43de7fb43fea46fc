"""The outboxes a worker delivers: each room that writes one registers its delivery here (no room knowledge)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from .extensions import app_state


@dataclass(frozen=True)
class Outbox:
    name: str
    # Delivers what is due (at most `limit` rows) and returns how many rows it handled.
    deliver_due: Callable[[int], int]
    # Per tenant id, how many rows are in each state: for status commands and health checks.
    counts: Callable[[], dict[int, dict[str, int]]]


def register(app: Flask, outbox: Outbox) -> None:
    app_state("outboxes", dict, app=app)[outbox.name] = outbox


def registered(app: Flask) -> dict[str, Outbox]:
    return dict(app_state("outboxes", dict, app=app))
