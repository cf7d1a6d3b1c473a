"""The fixed vocabularies of the helpdesk: statuses, priorities, channels, roles, languages."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on-hold"
    SOLVED = "solved"
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        """Active tickets wait on the shop: their SLA clock runs."""
        return self in (Status.NEW, Status.OPEN)

    @property
    def is_unresolved(self) -> bool:
        return self not in (Status.SOLVED, Status.CLOSED)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """Ordinal used for sorting and comparisons (`priority:>=high`)."""
        return _PRIORITY_RANK[self]

    @classmethod
    def from_rank(cls, rank: int) -> Priority:
        return _PRIORITY_BY_RANK[rank]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}
_PRIORITY_BY_RANK = {rank: priority for priority, rank in _PRIORITY_RANK.items()}


class Channel(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    SOCIAL = "social"
    MARKETPLACE = "marketplace"
    WEB = "web"


class MessageKind(StrEnum):
    PUBLIC = "public"  # a reply the customer sees
    NOTE = "note"  # an internal note between agents
    EVENT = "event"  # a system event (status changed, SLA breached, ...)


class AuthorKind(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Tier(StrEnum):
    """Customer membership tier (会员等级); SLA policies key on it."""

    REGULAR = "regular"
    SILVER = "silver"
    GOLD = "gold"
    VIP = "vip"


# Customer and UI languages. zh-TW customers get Traditional text, never Simplified.
LANGUAGES: tuple[str, ...] = ("zh-CN", "zh-TW", "en", "uk")
