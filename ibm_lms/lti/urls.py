"""URL facts the LTI room relies on (pure)."""

from __future__ import annotations

from urllib.parse import urlsplit


def within_tool(uri: str, base_url: str) -> bool:
    """Whether `uri` is a page of the tool published at `base_url` (same scheme, host and path prefix)."""
    try:
        target, base = urlsplit(uri), urlsplit(base_url)
    except ValueError:
        return False
    return (
        target.scheme == base.scheme
        and target.netloc.lower() == base.netloc.lower()
        and (target.path + "/").startswith(base.path.rstrip("/") + "/")
    )


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of an absolute http(s) URL, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"
