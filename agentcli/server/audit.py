"""The per-ticket audit trail: who changed which field of a ticket, when, and from where.

Every write goes through `record_event` (or `insert_events`, whose caller logs the events),
inside the caller's `db.write_tx`, and is appended to the change log as an `event` in the same
transaction, so the trail and the change it describes commit (or roll back) together and reach
clients through the change feed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from agentcli.domain.vocabulary import Channel
from agentcli.server.bulk import insert_returning
from agentcli.server.changelog import append_change, append_change_list
from agentcli.server.schema import ticket_events
from agentcli.server.wire import iso

SYSTEM = "system"
CUSTOMER = "customer"
SLA_CLIENT = "sla"
AUTO_ASSIGN_CLIENT = "auto-assign"
# A client names itself in its User-Agent: cut it so a hostile one cannot bloat the trail.
MAX_USER_AGENT = 80

# Ticket column -> audited field name, in the order a change's events are written.
TRACKED_COLUMNS = {
    "status": "status",
    "priority": "priority",
    "assignee": "assignee",
    "queue": "queue",
    "tags": "tags",
    "case_type": "case_type",
    "case_state": "case_state",
    "snoozed_until": "snooze",
}

# Built once: `insert().values(**row)` per event regenerates its cache key.
_INSERT_EVENT = ticket_events.insert()


def record_event(
    conn: Connection,
    *,
    ticket_id: int,
    actor: str,
    client: str | None,
    field: str,
    old: str | int | None,
    new: str | int | None,
    at: int,
) -> int:
    """Append one event and log it to the change feed; return its id."""
    values = event_values(
        ticket_id=ticket_id, actor=actor, client=client, field=field, old=old, new=new, at=at
    )
    event_id = int(conn.execute(_INSERT_EVENT, values).inserted_primary_key[0])
    append_change(conn, "event", {"id": event_id, **values})
    return event_id


def event_values(
    *,
    ticket_id: int,
    actor: str,
    client: str | None,
    field: str,
    old: str | int | None,
    new: str | int | None,
    at: int,
) -> dict[str, Any]:
    """The row `record_event` writes, for callers inserting several with `insert_events`."""
    return {
        "ticket_id": ticket_id,
        "at": at,
        "actor": actor,
        "client": client,
        "field": field,
        "old": _text(old),
        "new": _text(new),
    }


def insert_events(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert `event_values` rows in order, *without* logging them: the caller must log the
    returned events (with their ids) to the change feed in the same transaction.
    """
    if not rows:
        return []
    inserted = insert_returning(conn, ticket_events, rows, ["id"])
    return [{"id": int(new["id"]), **row} for new, row in zip(inserted, rows, strict=True)]


def changed_events(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    actor: str,
    client: str | None,
    at: int,
) -> list[dict[str, Any]]:
    """`event_values` for each tracked column that differs between two states of a ticket."""
    rows = []
    for column, field in TRACKED_COLUMNS.items():
        old, new = before[column], after[column]
        if old == new:
            continue
        if column == "snoozed_until":
            old, new = iso(old), iso(new)
        rows.append(
            event_values(
                ticket_id=int(after["id"]),
                actor=actor,
                client=client,
                field=field,
                old=old,
                new=new,
                at=at,
            )
        )
    return rows


def record_changes(
    conn: Connection,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    actor: str,
    client: str | None,
    at: int,
) -> int:
    """One event per tracked column that differs between two states of a ticket; the count."""
    events = insert_events(conn, changed_events(before, after, actor=actor, client=client, at=at))
    append_change_list(conn, [("event", event) for event in events])
    return len(events)


def mutation_client(user_agent: str | None, client_id: str) -> str:
    """`agentcli/0.1.0 <mutation id>`: the sending program (when it says) and the mutation."""
    printable = "".join(c if c.isprintable() else " " for c in user_agent or "")
    name = " ".join(printable.split())[:MAX_USER_AGENT]
    return f"{name} {client_id}" if name else client_id


def inbound_client(channel: Channel | str) -> str:
    """Where a customer's message came from: the SMTP listener or a channel's webhook."""
    return "smtp" if str(channel) == str(Channel.EMAIL) else f"webhook:{channel}"


def _text(value: str | int | None) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)
