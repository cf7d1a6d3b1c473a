"""Creating and reading helpdesk records on the server, each write logged to the change feed.

Used by inbound channels, demo seeding and tests; all take a connection inside `db.write_tx`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, select

from agentcli.domain.clock import now_epoch
from agentcli.domain.vocabulary import AuthorKind, Channel, MessageKind, Priority, Status, Tier
from agentcli.server.bulk import insert_returning
from agentcli.server.changelog import append_change
from agentcli.server.schema import customers, messages, tickets

# Statements built once with bound parameters: building `select(...).where(col == value)` or
# `insert().values(**row)` per call regenerates SQLAlchemy's cache key each time, which was
# most of the cost of applying a pushed mutation (agentcli.server.mutations).
_TICKET = select(tickets).where(tickets.c.id == bindparam("ticket_id"))
# PostgreSQL row lock; SQLite already holds the database lock.
_TICKET_FOR_UPDATE = _TICKET.with_for_update()
_TICKETS_FOR_UPDATE = (
    select(tickets)
    .where(tickets.c.id.in_(bindparam("ticket_ids", expanding=True)))
    .with_for_update()
)
# The SET clause comes from the parameters' keys (SQLAlchemy caches one compiled form per key
# set); RETURNING gives the new state without a second read.
_UPDATE_TICKET = (
    tickets.update().where(tickets.c.id == bindparam("ticket_id_")).returning(*tickets.c)
)
_UPDATE_TICKETS = tickets.update().where(tickets.c.id == bindparam("ticket_id_"))
_INSERT_MESSAGE = messages.insert().returning(*messages.c)


def get_ticket(conn: Connection, ticket_id: int, *, for_update: bool = False) -> RowMapping | None:
    query = _TICKET_FOR_UPDATE if for_update else _TICKET
    return conn.execute(query, {"ticket_id": ticket_id}).mappings().first()


def lock_tickets(conn: Connection, ticket_ids: Iterable[int]) -> dict[int, RowMapping]:
    """The existing tickets among `ticket_ids` by id, row-locked to commit (`get_ticket`'s
    `for_update` for many at once: one round trip).
    """
    ids = list(ticket_ids)
    if not ids:
        return {}
    rows = conn.execute(_TICKETS_FOR_UPDATE, {"ticket_ids": ids}).mappings()
    return {row["id"]: row for row in rows}


def create_customer(
    conn: Connection,
    name: str,
    *,
    locale: str = "en",
    tier: Tier = Tier.REGULAR,
    email: str | None = None,
    phone: str | None = None,
    handles: dict[str, str] | None = None,
) -> RowMapping:
    values = {
        "name": name,
        "locale": locale,
        "tier": str(tier),
        "email": email,
        "phone": phone,
        "handles": json.dumps(handles or {}, ensure_ascii=False),
    }
    new_id = conn.execute(customers.insert().values(**values)).inserted_primary_key[0]
    row = conn.execute(select(customers).where(customers.c.id == new_id)).mappings().one()
    append_change(conn, "customer", row)
    return row


def create_ticket(
    conn: Connection,
    *,
    subject: str,
    requester_id: int,
    channel: Channel,
    queue: str = "general",
    language: str = "en",
    priority: Priority = Priority.NORMAL,
    status: Status = Status.NEW,
    assignee: str | None = None,
    tags: Sequence[str] = (),
    order_id: int | None = None,
    created_at: int | None = None,
    extra: dict[str, Any] | None = None,
) -> RowMapping:
    now = created_at or now_epoch()
    values: dict[str, Any] = {
        "subject": subject,
        "status": str(status),
        "priority": str(priority),
        "channel": str(channel),
        "queue": queue,
        "assignee": assignee,
        "requester_id": requester_id,
        "language": language,
        "tags": json.dumps(list(tags), ensure_ascii=False),
        "order_id": order_id,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "assignee_version": 1,
        "status_version": 1,
        "case_version": 1,
        **(extra or {}),
    }
    new_id = conn.execute(tickets.insert().values(**values)).inserted_primary_key[0]
    row = get_ticket(conn, int(new_id))
    assert row is not None
    append_change(conn, "ticket", row)
    return row


def update_ticket(
    conn: Connection, ticket_id: int, values: dict[str, Any]
) -> tuple[RowMapping, int]:
    """Apply `values`; log and return the new state and its seq (the caller sets versions)."""
    row = write_ticket(conn, ticket_id, values)
    return row, append_change(conn, "ticket", row)


def write_ticket(conn: Connection, ticket_id: int, values: dict[str, Any]) -> RowMapping:
    """`update_ticket` without the change-log entry: the caller logs the returned state."""
    return conn.execute(_UPDATE_TICKET, {**values, "ticket_id_": ticket_id}).mappings().one()


def append_message(conn: Connection, values: dict[str, Any]) -> tuple[RowMapping, int]:
    """Append a `message_values` row; return it as stored and its change seq. Messages are
    never edited."""
    row = conn.execute(_INSERT_MESSAGE, values).mappings().one()
    return row, append_change(conn, "message", row)


def message_values(
    *,
    ticket_id: int,
    kind: MessageKind,
    author_kind: AuthorKind,
    author: str,
    channel: Channel,
    body: str,
    external_id: str | None = None,
    created_at: int | None = None,
) -> dict[str, Any]:
    """A message row, for `append_message` or (several) `insert_messages`."""
    return {
        "ticket_id": ticket_id,
        "kind": str(kind),
        "author_kind": str(author_kind),
        "author": author,
        "channel": str(channel),
        "body": body,
        "created_at": created_at or now_epoch(),
        "external_id": external_id,
    }


def insert_messages(conn: Connection, rows: list[dict[str, Any]]) -> list[RowMapping]:
    """Insert `message_values` rows in order (one statement on PostgreSQL); the new rows in the
    same order. Unlike `append_message`, the caller logs them.
    """
    return insert_returning(conn, messages, rows, messages.c.keys())


def write_tickets(conn: Connection, values: Mapping[int, dict[str, Any]]) -> None:
    """`write_ticket` for many tickets at once (one executemany, pipelined on PostgreSQL):
    ticket id -> new values, the same columns for every ticket. Nothing is returned.
    """
    params = [{**row, "ticket_id_": ticket_id} for ticket_id, row in values.items()]
    conn.execute(_UPDATE_TICKETS, params)


def message_by_external_id(conn: Connection, channel: str, external_id: str) -> RowMapping | None:
    return (
        conn.execute(
            select(messages).where(
                messages.c.channel == channel, messages.c.external_id == external_id
            )
        )
        .mappings()
        .first()
    )
