"""Plain records of the helpdesk: tickets, messages, customers, orders, cases and agents.

Times are timezone-aware UTC datetimes; the store keeps them as Unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from agentcli.domain.cases import CaseState, CaseType, check_transition
from agentcli.domain.vocabulary import (
    AuthorKind,
    Channel,
    MessageKind,
    Priority,
    Role,
    Status,
    Tier,
)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor-unit-free decimal with its ISO 4217 currency (CNY, TWD, UAH, USD)."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    name: str
    locale: str
    tier: Tier = Tier.REGULAR
    email: str | None = None
    phone: str | None = None
    handles: dict[str, str] = field(default_factory=dict)  # channel -> handle (WeChat id, ...)


@dataclass(frozen=True, slots=True)
class OrderItem:
    sku: str
    title: str
    quantity: int
    unit_price: Money


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    number: str  # the shop's order number as the customer sees it
    customer_id: int
    items: tuple[OrderItem, ...]
    total: Money
    placed_at: datetime
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AfterSaleCase:
    type: CaseType
    state: CaseState = CaseState.REQUESTED

    def advance(self, target: CaseState) -> AfterSaleCase:
        """The case in `target` state; raises InvalidTransition when not allowed."""
        check_transition(self.type, self.state, target)
        return AfterSaleCase(self.type, target)


@dataclass(frozen=True, slots=True)
class SlaDue:
    """When each SLA target falls due; None when met or not applicable."""

    first_reply: datetime | None = None
    next_reply: datetime | None = None
    resolution: datetime | None = None

    def earliest(self) -> datetime | None:
        dues = [d for d in (self.first_reply, self.next_reply, self.resolution) if d]
        return min(dues) if dues else None


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    subject: str
    status: Status
    priority: Priority
    channel: Channel
    queue: str
    requester_id: int
    language: str
    created_at: datetime
    updated_at: datetime
    assignee: str | None = None
    tags: tuple[str, ...] = ()
    order_id: int | None = None
    case: AfterSaleCase | None = None
    sla: SlaDue = SlaDue()
    snoozed_until: datetime | None = None
    version: int = 1

    @property
    def sla_due(self) -> datetime | None:
        """The due time that matters for sorting: the earliest, only while the clock runs."""
        return self.sla.earliest() if self.status.is_active else None


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    ticket_id: int
    kind: MessageKind
    author_kind: AuthorKind
    author: str
    channel: Channel
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Agent:
    login: str
    name: str
    role: Role
    languages: tuple[str, ...]
    capacity: int = 20
    queues: tuple[str, ...] = ()
    active: bool = True
