"""The audit trail on the client: `event` changes checked strictly, applied with their page
exactly once, read back newest first in keyset pages, and printed by `agentcli history`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentcli.domain.wire import WireError
from agentcli.store.changes import apply_page, read_cursor
from agentcli.store.db import open_store
from agentcli.store.history import ticket_history
from tests.wire_pages import starter_page, ticket_change

CLIENT = "agentcli/0.1.0 3f2a9c1d-0000-4000-8000-000000000000"


def event_change(seq: int, event_id: int, ticket_id: int = 1, **fields: Any) -> dict[str, Any]:
    data = {
        "id": event_id,
        "ticket_id": ticket_id,
        "at": f"2026-11-20T09:{event_id % 60:02d}:00Z",
        "actor": "li.na",
        "client": CLIENT,
        "field": "status",
        "old": "open",
        "new": "pending",
    }
    data.update(fields)
    return {"seq": seq, "kind": "event", "data": data}


@pytest.fixture
def db(tmp_path: Path):
    store = open_store(tmp_path / "store.db")
    apply_page(store, starter_page(), 7)
    return store


def _events(db) -> list[tuple]:
    return db.conn.execute("SELECT * FROM ticket_events ORDER BY id").fetchall()


def test_the_schema_is_the_contract_other_features_read(db) -> None:
    columns = [row[1:4] for row in db.conn.execute("PRAGMA table_info(ticket_events)")]
    assert columns == [
        ("id", "INTEGER", 0),
        ("ticket_id", "INTEGER", 1),
        ("at", "INTEGER", 1),
        ("actor", "TEXT", 1),
        ("client", "TEXT", 0),
        ("field", "TEXT", 1),
        ("old", "TEXT", 0),
        ("new", "TEXT", 0),
    ]
    indexes = {
        name: [row[2] for row in db.conn.execute(f"PRAGMA index_info({name})")]
        for (name,) in db.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ticket_events'"
        )
    }
    assert sorted(indexes.values()) == [["actor", "at"], ["field", "at"], ["ticket_id", "id"]]


def test_events_apply_with_their_page_once_however_often_they_come(db) -> None:
    page = [
        ticket_change(8, 1, status="pending", version=2),
        event_change(9, 100),
        event_change(10, 101, field="csat", old=None, new="5", actor="customer", client=None),
    ]
    assert apply_page(db, page, 10) == 3
    assert _events(db) == [
        (100, 1, 1795167600, "li.na", CLIENT, "status", "open", "pending"),  # 09:40Z
        (101, 1, 1795167660, "customer", None, "csat", None, "5"),
    ]
    # The same events again (a re-pull after a lost cursor, a page overlapping the last).
    again = [{**change, "seq": change["seq"] + 3} for change in page]
    apply_page(db, again, 13)
    assert len(_events(db)) == 2
    assert read_cursor(db) == 13


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ({"field": "Status; DROP"}, "changes[2].data.field"),
        ({"actor": ""}, "changes[2].data.actor"),
        ({"at": "2026-11-20 09:00"}, "changes[2].data.at"),
        ({"old": 3}, "changes[2].data.old"),
        ({"ticket_id": "1"}, "changes[2].data.ticket_id"),
        ({"client": ["x"]}, "changes[2].data.client"),
    ],
)
def test_a_malformed_event_rejects_the_whole_page(db, bad: dict, where: str) -> None:
    page = [
        ticket_change(8, 1, status="solved", version=2),
        event_change(9, 100),
        event_change(10, 101, **bad),
    ]
    with pytest.raises(WireError, match="^" + re.escape(where) + ":"):
        apply_page(db, page, 10)
    assert _events(db) == []
    assert read_cursor(db) == 7
    status = db.conn.execute("SELECT status FROM tickets WHERE id = 1").fetchone()[0]
    assert status == "open"


def test_a_missing_event_field_is_named(db) -> None:
    change = event_change(8, 100)
    del change["data"]["new"]
    with pytest.raises(WireError, match=r"changes\[0\]\.data\.new: missing"):
        apply_page(db, [change], 8)


def test_history_is_newest_first_in_keyset_pages(db) -> None:
    page = [event_change(8 + i, 100 + i, new=f"s{i}") for i in range(5)]
    page.append(event_change(13, 200, ticket_id=2))
    apply_page(db, page, 13)
    first = ticket_history(db, 1, limit=2)
    assert [e.id for e in first.events] == [104, 103] and first.next_before == 103
    second = ticket_history(db, 1, limit=2, before=first.next_before)
    assert [e.id for e in second.events] == [102, 101]
    last = ticket_history(db, 1, limit=2, before=second.next_before)
    assert [e.id for e in last.events] == [100] and last.next_before is None
    assert [e.id for e in ticket_history(db, 2).events] == [200]
    assert ticket_history(db, 3).events == []
    plan = " ".join(
        row[3]
        for row in db.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM ticket_events"
            " WHERE ticket_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (1, 10**9, 2),
        )
    )
    assert "ticket_events_by_ticket" in plan and "TEMP B-TREE" not in plan


def _cli(db_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentcli", "--db", str(db_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"TZ": "Asia/Shanghai", "PATH": "/usr/bin:/bin", "COLUMNS": "160"},
    )


def test_cli_history_json_table_limit_and_unknown_ticket(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    db = open_store(path)
    apply_page(db, starter_page(), 7)
    hostile = "[bold red]boom[/] \x1b[2J"
    apply_page(
        db,
        [
            event_change(8, 100, field="assignee", old=None, new="li.na"),
            event_change(9, 101, actor="wang", client="smtp", field="created", new=hostile),
            event_change(10, 102),
        ],
        10,
    )
    db.conn.close()

    shown = _cli(path, "history", "1", "--json")
    assert shown.returncode == 0, shown.stderr
    events = json.loads(shown.stdout)
    assert [e["id"] for e in events] == [102, 101, 100]
    assert events[0] == {
        "id": 102,
        "ticket_id": 1,
        "at": "2026-11-20T09:42:00Z",
        "actor": "li.na",
        "client": CLIENT,
        "field": "status",
        "old": "open",
        "new": "pending",
    }
    assert events[1]["new"] == hostile  # JSON carries the text as it is

    limited = json.loads(_cli(path, "history", "1", "--json", "--limit", "1").stdout)
    assert [e["id"] for e in limited] == [102]

    table = _cli(path, "history", "1")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].replace("┃", " ").split() == ["who", "when", "field", "change", "client"]
    assert "2026-11-20 17:42" in lines[2]  # 09:42 UTC in the local (Shanghai) time zone
    assert "open → pending" in lines[2] and "li.na" in lines[2]
    assert "– → li.na" in lines[4]
    assert "[bold red]boom[/]" in table.stdout and "\x1b" not in table.stdout  # never markup

    missing = _cli(path, "history", "999")
    assert missing.returncode != 0 and missing.stdout == ""
    assert "ticket 999" in missing.stderr
