"""Domain events and the in-transaction bus that hands them to subscribing rooms (standard library only)."""

from .bus import EventBus
from .catalogue import DomainEvent, LaunchCompleted

__all__ = ["DomainEvent", "EventBus", "LaunchCompleted"]
