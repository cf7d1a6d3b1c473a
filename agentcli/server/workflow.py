"""Server-side rules that ride along with every ticket change: SLA clock, auto-assignment,
outbound email. One object, configured by `agentcli serve`, used by mutations and channels.

`derive` runs *before* a mutation's update so SLA due times land in the same row version and
change-log entry as the change that moved them; `after` runs after it in the same transaction
(queueing a reply for the SMTP relay commits or rolls back together with the reply).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, RowMapping

from agentcli.domain.mutations import MutationType
from agentcli.domain.sla_policy import SlaConfig
from agentcli.server import assignment, sla

# (conn, ticket row after the update, message id) -> None; set when a relay is configured.
ReplyQueuer = Callable[[Connection, RowMapping, int], None]


@dataclass
class Workflow:
    sla: SlaConfig | None = None
    # Queues whose new tickets are auto-assigned; "*" means every queue.
    auto_assign: frozenset[str] = frozenset()
    queue_reply: ReplyQueuer | None = None
    assigned: list[str] = field(default_factory=list, repr=False)  # for logs and tests

    def new_ticket_fields(
        self, conn: Connection, *, queue: str, language: str, priority: str, tier: str, now: int
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if self.sla is not None:
            fields |= sla.on_create(self.sla, priority, tier, now)
        if "*" in self.auto_assign or queue in self.auto_assign:
            login = assignment.pick_assignee(conn, queue, language)
            if login is not None:
                assignment.record_turn(conn, login)
                fields["assignee"] = login
        return fields

    def customer_wrote(
        self, conn: Connection, ticket: RowMapping, changes: dict[str, Any], now: int
    ) -> dict[str, Any]:
        if self.sla is None:
            return {}
        return sla.on_change(self.sla, conn, ticket, changes, customer_wrote=True, now=now)

    # The mutations hook (agentcli.server.mutations.Hooks).
    def derive(
        self, conn: Connection, ticket: RowMapping, kind: MutationType, changes: dict[str, Any]
    ) -> dict[str, Any]:
        if self.sla is None:
            return {}
        replied = kind is MutationType.REPLY
        return sla.on_change(self.sla, conn, ticket, changes, agent_replied=replied)

    def after(
        self, conn: Connection, row: RowMapping, kind: MutationType, extra: dict[str, Any]
    ) -> None:
        is_email_reply = kind is MutationType.REPLY and row["channel"] == "email"
        if self.queue_reply is not None and is_email_reply:
            self.queue_reply(conn, row, int(extra["message_id"]))
