"""Each module registers item types; importing this package registers them all."""

from . import answers, choice, composite, mrz, ordering, rating  # noqa: F401
