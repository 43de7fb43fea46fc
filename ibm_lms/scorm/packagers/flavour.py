"""What a package flavour is: its manifest and the runtime adapter that speaks its player's API (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..data import PackagePlan


@dataclass(frozen=True)
class Flavour:
    name: str
    manifest_name: str
    manifest: Callable[[PackagePlan], bytes]
    # The runtime adapter (scorm/runtime/<adapter>) that speaks this flavour's API to the player.
    adapter: str
