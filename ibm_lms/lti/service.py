"""The LTI room's door for other rooms: platform registrations and the tool's configuration document.

Within the room the work is split by what it does: `platforms` (registrations and the directory
launches read them from), `launch` (login, launch, content selection), `registration` (dynamic
registration by invitation) and `keys` (the tool's signing keys). Each opens its own unit of work.
"""

from __future__ import annotations

from .configuration import tool_configuration
from .keys import published_jwks
from .keys import rotate as rotate_keys
from .platforms import add_platform, list_platforms
from .registration import invite

__all__ = ["add_platform", "invite", "list_platforms", "published_jwks", "rotate_keys", "tool_configuration"]
