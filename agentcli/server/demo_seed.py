"""`agentcli serve --demo`: seed the foundation's demo data into an empty server store.

Uses the pure row generator (agentcli.demo.generator); every row also goes into the change
log, so a client's first pull receives the whole demo helpdesk like any other data.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text

from agentcli.demo.generator import (
    AGENT_COLUMNS,
    CUSTOMER_COLUMNS,
    MESSAGE_COLUMNS,
    ORDER_COLUMNS,
    TICKET_COLUMNS,
    agent_rows,
    generate,
)
from agentcli.demo.macro_uses import EVENT_COLUMNS, macro_event_rows
from agentcli.demo.ticket_history import ticket_history_rows
from agentcli.domain.clock import now_epoch
from agentcli.domain.vocabulary import Priority
from agentcli.server.auth import hash_token, new_token
from agentcli.server.bulk import insert_rows, log_inserted
from agentcli.server.changelog import append_change
from agentcli.server.db import is_postgres, write_tx
from agentcli.server.schema import agents, customers, messages, orders, ticket_events, tickets
from agentcli.server.wire import FIELDS_BY_KIND, JSON_FIELDS, TIME_FIELDS

_NOT_ON_SERVER = {"sla_due", "last_message_id"}  # the local store's derived columns


def seed_demo(engine: Engine, ticket_count: int = 2000, seed: int = 0) -> str:
    """Seed into an empty store; return a report with the demo agents' tokens."""
    with write_tx(engine) as conn:
        if conn.execute(select(func.count()).select_from(tickets)).scalar_one():
            return "demo: the store already has tickets; nothing seeded"
        lines = ["demo agents (tokens shown once):"]
        for raw in agent_rows():
            row: dict[str, Any] = dict(zip(AGENT_COLUMNS, raw, strict=True))
            if conn.execute(select(agents.c.login).where(agents.c.login == row["login"])).first():
                continue
            token = new_token()
            row |= {
                "languages": json.dumps(row["languages"].split(",")),
                "queues": json.dumps(row["queues"].split(",")),
                "active": bool(row["active"]),
                "token_hash": hash_token(token),
                "created_at": now_epoch(),
            }
            conn.execute(agents.insert().values(**row))
            append_change(conn, "agent", row)
            lines.append(f"  {row['login']:<16} {row['role']:<10} {token}")
        n_messages = 0
        for batch in generate(ticket_count, seed=seed, now=now_epoch()):
            for table, kind, columns, raws in (
                (customers, "customer", CUSTOMER_COLUMNS, batch.customers),
                (orders, "order", ORDER_COLUMNS, batch.orders),
                (tickets, "ticket", TICKET_COLUMNS, batch.tickets),
                (messages, "message", MESSAGE_COLUMNS, batch.messages),
            ):
                rows = [_server_row(kind, dict(zip(columns, r, strict=True))) for r in raws]
                if rows:
                    names = list(rows[0])
                    insert_rows(conn, table.name, names, [tuple(r.values()) for r in rows])
                    # One statement per table and batch, payloads built in SQL: a change-log
                    # insert per row took ~25 s for 2,000 tickets.
                    ids = [r["id"] for r in rows]
                    log_inserted(
                        conn,
                        kind,
                        table.name,
                        FIELDS_BY_KIND[kind],
                        TIME_FIELDS,
                        JSON_FIELDS,
                        (min(ids), max(ids)),
                        now_epoch(),
                    )
            _seed_events(conn, batch.tickets)
            n_messages += len(batch.messages)
        if is_postgres(conn):
            _advance_sequences(conn)
    lines.append(f"demo: seeded {ticket_count} tickets with {n_messages} messages")
    return "\n".join(lines)


def _seed_events(conn: Connection, ticket_rows: list[tuple[Any, ...]]) -> None:
    """The batch's audit trail, in the change feed after its tickets: status changes and
    ratings (the demo's metrics: resolution, reopens, CSAT) and the macros agents used on
    solved tickets (so the demo's `macro suggest` ranks by use)."""
    rows = ticket_history_rows(ticket_rows) + macro_event_rows(ticket_rows)
    if not rows:
        return
    last = select(func.coalesce(func.max(ticket_events.c.id), 0))
    first = conn.execute(last).scalar_one() + 1
    insert_rows(conn, ticket_events.name, EVENT_COLUMNS, rows)
    ids = (first, conn.execute(last).scalar_one())
    fields = FIELDS_BY_KIND["event"]
    log_inserted(
        conn, "event", ticket_events.name, fields, TIME_FIELDS, JSON_FIELDS, ids, now_epoch()
    )


def _server_row(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    if kind != "ticket":
        return row
    row = {k: v for k, v in row.items() if k not in _NOT_ON_SERVER}
    row["priority"] = str(Priority.from_rank(row["priority"]))
    return row | {"version": 1, "assignee_version": 1, "status_version": 1, "case_version": 1}


def _advance_sequences(conn: Connection) -> None:
    """The generator supplies ids; move PostgreSQL's sequences past them so the next
    inbound customer or ticket does not collide with a seeded id (SQLite uses max(rowid)+1)."""
    for table in ("customers", "orders", "tickets", "messages"):
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        )
