"""Reading one ticket with everything around it, and streaming every ticket for export."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import sqlite_utils

from agentcli.store.records import customer_record, message_record, order_record, ticket_record

EXPORT_BATCH = 1000


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def get_ticket(db: sqlite_utils.Database, ticket_id: int) -> dict[str, Any] | None:
    """The ticket with its customer, order and whole thread (oldest first), or None."""
    conn = db.conn
    tickets = _rows(conn, "SELECT * FROM tickets WHERE id = ?", (ticket_id,))
    if not tickets:
        return None
    ticket = ticket_record(tickets[0])
    customers = _rows(conn, "SELECT * FROM customers WHERE id = ?", (ticket["requester_id"],))
    ticket["customer"] = customer_record(customers[0]) if customers else None
    orders = _rows(conn, "SELECT * FROM orders WHERE id = ?", (ticket["order_id"],))
    ticket["order"] = order_record(orders[0]) if orders else None
    ticket["messages"] = [
        message_record(row)
        for row in _rows(
            conn,
            # Local unsent messages have negative ids: order them after the server's by time.
            "SELECT * FROM messages WHERE ticket_id = ? ORDER BY created_at, id",
            (ticket_id,),
        )
    ]
    return ticket


def export_tickets(db: sqlite_utils.Database) -> Iterator[dict[str, Any]]:
    """Every ticket with its messages, by id, reading in batches so memory stays flat."""
    conn = db.conn
    last_id = -1
    while True:
        batch = _rows(
            conn, "SELECT * FROM tickets WHERE id > ? ORDER BY id LIMIT ?", (last_id, EXPORT_BATCH)
        )
        if not batch:
            return
        first, last = batch[0]["id"], batch[-1]["id"]
        threads: dict[int, list[dict[str, Any]]] = {}
        for row in _rows(
            conn,
            "SELECT * FROM messages WHERE ticket_id BETWEEN ? AND ?"
            " ORDER BY ticket_id, created_at, id",
            (first, last),
        ):
            threads.setdefault(row["ticket_id"], []).append(message_record(row))
        for row in batch:
            ticket = ticket_record(row)
            ticket["messages"] = threads.get(row["id"], [])
            yield ticket
        last_id = last
