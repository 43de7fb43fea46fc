"""How long a fetched key set may be reused, from its Cache-Control header (pure)."""

from __future__ import annotations


def max_age_seconds(header: str | None, default: int, *, floor: int = 60, ceiling: int = 86400) -> int:
    """max-age (or s-maxage) clamped to [floor, ceiling]; no-store/no-cache count as the floor.

    The floor stops a platform that forbids caching from making every launch wait on
    a fetch; the ceiling makes sure a rotated platform key is noticed within a day.
    """
    if not header:
        return max(floor, min(default, ceiling))
    directives: dict[str, str | None] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name:
            directives[name.strip().lower()] = value.strip().strip('"') or None
    if "no-store" in directives or "no-cache" in directives:
        return floor
    for name in ("s-maxage", "max-age"):
        value = directives.get(name)
        if value is not None:
            try:
                return max(floor, min(int(value), ceiling))
            except ValueError:
                break
    return max(floor, min(default, ceiling))
