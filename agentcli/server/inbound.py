"""A customer's message arriving on any channel (webhook or SMTP): thread it or open a ticket.

One path for every channel so dedupe, threading, reopening, the SLA clock and auto-assignment
behave the same whether the message came by HTTP or by mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from agentcli.domain.clock import now_epoch
from agentcli.domain.vocabulary import AuthorKind, Channel, MessageKind, Priority, Status
from agentcli.server.audit import (
    AUTO_ASSIGN_CLIENT,
    CUSTOMER,
    SYSTEM,
    inbound_client,
    record_changes,
    record_event,
)
from agentcli.server.records import (
    append_message,
    create_customer,
    create_ticket,
    get_ticket,
    message_by_external_id,
    message_values,
    update_ticket,
)
from agentcli.server.schema import customers, mail_outbox, messages, tickets
from agentcli.server.workflow import Workflow

# A customer answering reopens these: the ball is back with the shop.
_REOPEN = {str(Status.PENDING), str(Status.SOLVED), str(Status.ON_HOLD)}


@dataclass
class Sender:
    name: str
    email: str | None = None
    handle: str | None = None
    locale: str = "en"


@dataclass
class InboundText:
    channel: Channel
    external_id: str  # dedupe key: webhook message id, email Message-ID
    sender: Sender
    text: str
    subject: str | None = None
    queue: str = "general"
    language: str = "en"
    thread_id: str | None = None  # the conversation key a new ticket is filed under
    # Keys that may name an earlier message of the conversation (In-Reply-To, References)
    thread_refs: Sequence[str] = field(default_factory=tuple)
    ticket_hint: int | None = None  # "[#123]" in an email subject


def receive(conn: Connection, workflow: Workflow | None, item: InboundText) -> dict[str, Any]:
    """Store `item` inside the caller's write transaction; nothing new for a repeated id."""
    workflow = workflow or Workflow()
    channel = str(item.channel)
    seen = message_by_external_id(conn, channel, item.external_id)
    if seen is not None:
        return {"ticket_id": seen["ticket_id"], "message_id": seen["id"], "duplicate": True}
    now = now_epoch()
    client = inbound_client(item.channel)
    ticket = find_thread(conn, item)
    if ticket is None:
        customer = _customer(conn, item)
        fields = workflow.new_ticket_fields(
            conn,
            queue=item.queue,
            language=item.language,
            priority=str(Priority.NORMAL),
            tier=customer["tier"],
            now=now,
        )
        ticket = create_ticket(
            conn,
            subject=item.subject or item.text[:80],
            requester_id=customer["id"],
            channel=item.channel,
            queue=item.queue,
            language=item.language,
            assignee=fields.pop("assignee", None),
            created_at=now,
            extra={"thread_key": item.thread_id, **fields},
        )
        _audit_created(conn, ticket, client, now)
    else:
        changes: dict[str, Any] = {}
        if ticket["status"] in _REOPEN:
            changes["status"] = str(Status.OPEN)
        changes |= workflow.customer_wrote(conn, ticket, changes, now)
        if changes:
            version = ticket["version"] + 1
            if "status" in changes:
                changes["status_version"] = version
            before = ticket
            ticket, _ = update_ticket(
                conn, ticket["id"], {**changes, "version": version, "updated_at": now}
            )
            record_changes(conn, before, ticket, actor=CUSTOMER, client=client, at=now)
    row, _seq = append_message(
        conn,
        message_values(
            ticket_id=ticket["id"],
            kind=MessageKind.PUBLIC,
            author_kind=AuthorKind.CUSTOMER,
            author=item.sender.name,
            channel=item.channel,
            body=item.text,
            external_id=item.external_id,
            created_at=now,
        ),
    )
    record_event(
        conn,
        ticket_id=ticket["id"],
        actor=CUSTOMER,
        client=client,
        field="message",
        old=None,
        new=row["id"],
        at=now,
    )
    return {"ticket_id": ticket["id"], "message_id": row["id"], "duplicate": False}


def _audit_created(conn: Connection, ticket: RowMapping, client: str, now: int) -> None:
    """The customer opened the ticket; an auto-assigned owner is the system's doing."""
    record_event(
        conn,
        ticket_id=ticket["id"],
        actor=CUSTOMER,
        client=client,
        field="created",
        old=None,
        new=ticket["subject"],
        at=now,
    )
    if ticket["assignee"] is not None:
        record_event(
            conn,
            ticket_id=ticket["id"],
            actor=SYSTEM,
            client=AUTO_ASSIGN_CLIENT,
            field="assignee",
            old=None,
            new=ticket["assignee"],
            at=now,
        )


def find_thread(conn: Connection, item: InboundText) -> RowMapping | None:
    channel = str(item.channel)
    keys = [k for k in (item.thread_id, *item.thread_refs) if k]
    if keys:
        ticket_id = conn.execute(
            select(tickets.c.id)
            .where(tickets.c.channel == channel, tickets.c.thread_key.in_(keys))
            .limit(1)
        ).scalar_one_or_none()
        if ticket_id is None:  # a reply to a later message of the thread
            ticket_id = conn.execute(
                select(messages.c.ticket_id)
                .where(messages.c.channel == channel, messages.c.external_id.in_(keys))
                .limit(1)
            ).scalar_one_or_none()
        if ticket_id is None:  # a reply to one of our own outbound mails
            ticket_id = conn.execute(
                select(mail_outbox.c.ticket_id)
                .where(mail_outbox.c.rfc_message_id.in_(keys))
                .limit(1)
            ).scalar_one_or_none()
        if ticket_id is not None:
            return get_ticket(conn, ticket_id)
    if item.ticket_hint is not None:
        ticket = get_ticket(conn, item.ticket_hint)
        if ticket is not None and ticket["channel"] == channel:
            return ticket
    return None


def _customer(conn: Connection, item: InboundText) -> RowMapping:
    who = item.sender
    if who.email:  # one customer per address: their history stays together
        found = (
            conn.execute(select(customers).where(customers.c.email == who.email.lower()).limit(1))
            .mappings()
            .first()
        )
        if found is not None:
            return found
    handles = {str(item.channel): who.handle} if who.handle else {}
    email = who.email.lower() if who.email else None
    return create_customer(conn, who.name, locale=who.locale, email=email, handles=handles)
