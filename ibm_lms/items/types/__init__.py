"""Each module registers one item type; importing this package registers them all."""

from . import choice, mrz, ordering, rating  # noqa: F401
