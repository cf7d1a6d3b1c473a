"""Bulk demo seeding: every row is in the change feed, and new rows get fresh ids afterwards."""

from __future__ import annotations

import json

from sqlalchemy import Engine, func, select

from agentcli.domain.vocabulary import Channel
from agentcli.server.changelog import read_changes, read_changes_json
from agentcli.server.db import read_tx, write_tx
from agentcli.server.demo_seed import seed_demo
from agentcli.server.records import create_customer, create_ticket
from agentcli.server.schema import customers, messages, orders, tickets
from agentcli.server.wire import to_wire


def test_bulk_seed_logs_every_row_and_ids_continue(engine: Engine) -> None:
    seed_demo(engine, ticket_count=30)
    with read_tx(engine) as conn:
        n_messages = conn.execute(select(func.count()).select_from(messages)).scalar_one()
        changes, _next, _more = read_changes(conn, 0, 100_000)
    kinds = [c["kind"] for c in changes]
    assert kinds.count("ticket") == 30 and kinds.count("message") == n_messages
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    ticket = next(c["data"] for c in changes if c["kind"] == "ticket")
    assert ticket["created_at"].endswith("Z") and isinstance(ticket["tags"], list)
    # The seeded ids were explicit: on PostgreSQL the sequences must have been moved past them.
    with write_tx(engine) as conn:
        customer = create_customer(conn, "New", email="new@example.com")
        row = create_ticket(
            conn, subject="after seed", requester_id=customer["id"], channel=Channel.EMAIL
        )
        top = conn.execute(select(func.max(tickets.c.id))).scalar_one()
    assert row["id"] == top == 31
    json.dumps(ticket)


def test_raw_json_pages_equal_decoded_pages(engine: Engine) -> None:
    seed_demo(engine, ticket_count=5)
    with read_tx(engine) as conn:
        for after, limit in ((0, 7), (3, 1000), (10**6, 5)):
            changes, next_seq, more = read_changes(conn, after, limit)
            raw = json.loads(read_changes_json(conn, after, limit))
            assert raw == {"changes": changes, "next": next_seq, "more": more}


def test_sql_built_payloads_equal_to_wire(engine: Engine) -> None:
    """Seeding builds change payloads in SQL: they must be exactly what to_wire makes."""
    seed_demo(engine, ticket_count=40)
    tables = {"ticket": tickets, "message": messages, "customer": customers, "order": orders}
    with read_tx(engine) as conn:
        changes, _next, _more = read_changes(conn, 0, 100_000)
        rows = {
            (kind, row["id"]): row
            for kind, table in tables.items()
            for row in conn.execute(select(table)).mappings()
        }
    checked = 0
    for change in changes:
        if change["kind"] in tables:
            row = rows[(change["kind"], change["data"]["id"])]
            assert change["data"] == to_wire(change["kind"], row), change["kind"]
            checked += 1
    assert checked == len(rows)
