"""URL facts the LTI room relies on (pure)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit


def platform_schemes(base_url: str) -> tuple[str, ...]:
    """Platforms are reached over https only, unless the tool itself runs on plain http (loopback demo, tests)."""
    return ("http", "https") if urlsplit(base_url).scheme == "http" else ("https",)


def is_loopback_host(host: str | None) -> bool:
    """localhost, 127.0.0.0/8 or ::1: a platform on the tool's own machine."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_platform_url(url: object, base_url: str) -> bool:
    """An absolute URL with a real host, in a scheme the tool may use to reach a platform.

    Plain http is for a platform on the tool's own machine (an academy trying a local Moodle against
    its real tool), or for a tool that itself runs on plain http (the loopback demo and tests)."""
    if not isinstance(url, str) or origin_of(url) is None:
        return False
    parts = urlsplit(url)
    return parts.scheme in platform_schemes(base_url) or (parts.scheme == "http" and is_loopback_host(parts.hostname))


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


_DNS_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host(hostname: str) -> str | None:
    """The host as browsers serialise it in an origin, or None unless it is a DNS name or an IP address."""
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        address = None
    if address is not None:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        ascii_name = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    return ascii_name if _DNS_NAME.fullmatch(ascii_name) else None


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of an absolute http(s) URL, serialised as browsers do, or None.

    Origins go into Content-Security-Policy sources and postMessage targets, so only a real
    host name or address may come out: `*`, spaces, quotes or `;` in a registered URL would
    otherwise widen or rewrite the policy every page gets."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except (ValueError, TypeError):
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    host = _host(parts.hostname)
    if host is None:
        return None
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"
