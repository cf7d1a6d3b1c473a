"""The demo helpdesk's audit trail: status changes and ratings behind its tickets, so a client
synced from `agentcli serve --demo` has resolution times, reopens and CSAT to report."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import sqlite_utils
from sqlalchemy import Engine

from agentcli.demo.generator import TICKET_COLUMNS, generate
from agentcli.demo.ticket_history import BAD_COMMENTS, ticket_history_rows
from agentcli.domain.vocabulary import Role
from agentcli.server import auth
from agentcli.server.app import create_app
from agentcli.server.demo_seed import seed_demo
from agentcli.server.runner import start_in_thread
from agentcli.server.sla_file import load_config
from agentcli.store.db import open_store
from agentcli.store.metrics import report
from agentcli.sync.client import Client
from agentcli.sync.engine import Engine as SyncEngine

NOW = 1_750_000_000


def synced_client(engine: Engine, path: Path) -> sqlite_utils.Database:
    """A client store at `path` after one sync with a real server on `engine`."""
    token = auth.add_agent(engine, "viewer", Role.ADMIN)
    server = start_in_thread(create_app(engine))
    store = open_store(path)
    try:
        with Client(server.url, token) as client:
            SyncEngine(store, client).sync_once()
    finally:
        server.stop()
    return store


def test_each_ticket_that_is_not_open_got_there_by_a_status_change() -> None:
    tickets = [
        dict(zip(TICKET_COLUMNS, row, strict=True))
        for batch in generate(600, seed=1, now=NOW)
        for row in batch.tickets
    ]
    events = defaultdict(list)
    for ticket_id, at, actor, _client, field, old, new in ticket_history_rows(
        [tuple(t.values()) for t in tickets]
    ):
        events[ticket_id].append((at, actor, field, old, new))
    rated = resolved = 0
    for ticket in tickets:
        mine = events.get(ticket["id"], [])
        if ticket["status"] in ("new", "open"):
            assert mine == []
            continue
        statuses = [e for e in mine if e[2] == "status"]
        # In time order, inside the ticket's life, ending in the status it has.
        assert [e[0] for e in statuses] == sorted(e[0] for e in statuses)
        assert all(ticket["created_at"] <= e[0] <= ticket["updated_at"] for e in mine)
        assert statuses[-1][4] == ticket["status"]
        ratings = [e for e in mine if e[2] == "csat"]
        if ticket["status"] in ("solved", "closed"):
            resolved += 1
            rated += bool(ratings)
            for _at, actor, _field, _old, new in ratings:
                assert actor == "customer" and new in ("good", "bad")
            for *_, new in (e for e in mine if e[2] == "csat_comment"):
                assert new == BAD_COMMENTS.get(ticket["language"], BAD_COMMENTS["en"])
        else:
            assert ratings == []
    assert resolved and 0.2 < rated / resolved < 0.4


def test_a_client_synced_from_the_demo_reports_reopens_and_csat(
    engine: Engine, tmp_path: Path
) -> None:
    seed_demo(engine, ticket_count=400, seed=1)
    store = synced_client(engine, tmp_path / "client.db")
    now = store.conn.execute("SELECT max(updated_at) FROM tickets").fetchone()[0] + 60
    start = store.conn.execute("SELECT min(created_at) FROM tickets").fetchone()[0]
    total = report(store, load_config(), by="agent", start=start, end=now + 1, now=now).total
    assert total.tickets == 400
    assert total.csat_responses > 10 and total.csat is not None and 0.5 < total.csat < 1
    assert total.reopen_rate is not None and 0 < total.reopen_rate < 0.1
    assert total.resolution.median is not None
