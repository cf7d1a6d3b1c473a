"""Multi-row inserts of a push (`bulk.insert_returning`): each row gets the key it is returned
with, in the order given, with every value as sent, and a value the column refuses is refused.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from agentcli.server.audit import insert_events
from agentcli.server.changelog import append_change_list
from agentcli.server.db import open_engine, read_tx, write_tx
from agentcli.server.records import insert_messages
from agentcli.server.schema import change_log, messages, ticket_events


def test_rows_come_back_in_the_order_given_with_their_own_keys(engine: Engine) -> None:
    tricky = ['say "hi"', "back\\slash", "tab\tand\nnewline", "{braces,comma}", "NULL", "Ω€"]
    events = [
        {"ticket_id": n, "at": 2**33 + n, "actor": "olena", "client": None if n % 2 else "c",
         "field": "note", "old": None, "new": tricky[n % len(tricky)]}
        for n in range(300)
    ]  # fmt: skip
    with write_tx(engine) as conn:
        inserted = insert_events(conn, events)
        seqs = append_change_list(conn, [("event", event) for event in inserted])
        [message] = insert_messages(
            conn,
            [{"ticket_id": 7, "kind": "public", "author_kind": "agent", "author": "olena",
              "channel": "chat", "body": "Ω", "created_at": 1, "external_id": None}],
        )  # fmt: skip
    assert seqs == sorted(seqs) and len(set(seqs)) == 300
    with read_tx(engine) as conn:
        stored = [dict(r) for r in conn.execute(select(ticket_events).order_by("id")).mappings()]
        logged = conn.execute(select(change_log.c.seq, change_log.c.entity_id)).all()
        read_back = conn.execute(select(messages)).mappings().one()
    sent = [{"id": e["id"], **event} for e, event in zip(inserted, events, strict=True)]
    assert stored == inserted == sent
    assert [(seq, str(e["id"])) for seq, e in zip(seqs, inserted, strict=True)] == sorted(logged)
    assert dict(read_back) == dict(message)


def test_a_value_too_long_for_its_column_is_refused_not_cut(pg_url: str) -> None:
    # PostgreSQL only: SQLite does not enforce VARCHAR lengths.
    engine = open_engine(pg_url)
    row = {"ticket_id": 1, "at": 1, "actor": "x" * 65, "client": None, "field": "note",
           "old": None, "new": None}  # fmt: skip
    try:
        with pytest.raises(DBAPIError, match="too long"), write_tx(engine) as conn:
            insert_events(conn, [row, {**row, "actor": "olena"}])
    finally:
        engine.dispose()
