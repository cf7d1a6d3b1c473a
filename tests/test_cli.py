"""The scriptable CLI, run as a user runs it: a real process on a real store file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentcli.store.changes import apply_page
from agentcli.store.db import open_store
from tests.wire_pages import message_change, starter_page


def run(db_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "AGENTCLI_DB": str(db_path), "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "agentcli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=60,
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    store = open_store(path)
    hostile = "退款 [bold red]FAKE[/bold red] \x1b[2J\x1b]8;;http://evil\x07link"
    apply_page(store, [*starter_page(), message_change(8, 13, 2, hostile)], 8)
    store.conn.close()
    return path


def test_help_works_everywhere(db_path: Path) -> None:
    for args in (["--help"], ["show", "--help"], ["export", "--help"], ["tickets", "--help"]):
        result = run(db_path, *args)
        assert result.returncode == 0, result.stderr
        assert "Usage:" in result.stdout


def test_show_json_has_the_thread(db_path: Path) -> None:
    result = run(db_path, "show", "1", "--json")
    assert result.returncode == 0, result.stderr
    ticket = json.loads(result.stdout)
    for field in ("id", "subject", "status", "priority", "channel", "assignee"):
        assert field in ticket
    assert [m["id"] for m in ticket["messages"]] == [10, 12]
    assert all({"id", "ticket_id", "body"} <= m.keys() for m in ticket["messages"])


def test_show_prints_customer_text_inert(db_path: Path) -> None:
    result = run(db_path, "show", "2")
    assert result.returncode == 0, result.stderr
    assert "[bold red]FAKE[/bold red]" in result.stdout  # markup shown as typed
    assert "\x1b" not in result.stdout and "␛[2J" in result.stdout  # escapes shown, not run
    assert "Посилка не прийшла" in result.stdout


def test_show_unknown_ticket_fails_on_stderr(db_path: Path) -> None:
    result = run(db_path, "show", "999", "--json")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "ticket 999" in result.stderr


def test_export_jsonl_is_one_ticket_a_line(db_path: Path) -> None:
    result = run(db_path, "export", "--jsonl")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    tickets = [json.loads(line) for line in lines]
    assert [t["id"] for t in tickets] == [1, 2]
    assert tickets[1]["messages"][-1]["body"].startswith("退款 [bold red]")


def test_tickets_json_rows_for_a_query(db_path: Path) -> None:
    result = run(db_path, "tickets", "lang:uk", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["id"] for row in rows] == [2]
    for field in ("id", "subject", "status", "priority", "channel", "assignee"):
        assert field in rows[0]
    assert rows[0]["updated_at"] == "2026-11-20T08:00:00Z"


def test_tickets_filters_by_tag_and_limits(db_path: Path) -> None:
    tagged = run(db_path, "tickets", "tag:破损", "--ids")
    assert tagged.stdout.split() == ["1"]
    limited = run(db_path, "tickets", "--limit", "1", "--ids")
    assert len(limited.stdout.split()) == 1


def test_tickets_csv_has_a_header_and_rows(db_path: Path) -> None:
    result = run(db_path, "tickets", "sort:created", "--csv")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("id,priority,status")
    assert len(lines) == 3


def test_tickets_table_aligns_and_shows_text(db_path: Path) -> None:
    result = run(db_path, "tickets")
    assert result.returncode == 0, result.stderr
    assert "订单 1 外包装破损" in result.stdout and "Посилка не прийшла" in result.stdout


def test_piped_tables_are_not_squeezed_to_80_columns(db_path: Path) -> None:
    store = open_store(db_path)
    long_subject = "包裹显示已签收但我没有收到，快递员说放在驿站了，驿站说没有这个包裹"
    store.conn.execute("UPDATE tickets SET subject = ? WHERE id = 1", (long_subject,))
    store.conn.commit()
    store.conn.close()
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    env["AGENTCLI_DB"] = str(db_path)
    result = subprocess.run(
        [sys.executable, "-m", "agentcli", "tickets"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert long_subject in result.stdout  # whole, no ellipsis, though wider than 80 cells
    header = result.stdout.splitlines()[0]
    assert "…" not in header and "priority" in header and "updated" in header


def test_a_bad_query_names_the_position_and_keeps_stdout_clean(db_path: Path) -> None:
    result = run(db_path, "tickets", "status:opne", "--json")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "position 7" in result.stderr and "opne" in result.stderr


def test_demo_serves_seeds_logs_in_syncs_and_shows_the_inbox(tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    first = run(
        tmp_path / "unused.db", "demo", "--dir", str(demo_dir), "--tickets", "1500", "--print"
    )
    assert first.returncode == 0, first.stderr
    assert "seeded 1500 tickets" in first.stderr
    assert "as li.na; synced" in first.stderr
    assert "My open" in first.stdout and "Breached" in first.stdout and "Inbox" in first.stdout
    assert "Traceback" not in first.stderr
    token_file = demo_dir / "config" / "credentials.json"
    assert token_file.stat().st_mode & 0o777 == 0o600
    again = run(tmp_path / "unused.db", "demo", "--dir", str(demo_dir), "--print")
    assert again.returncode == 0, again.stderr
    assert "nothing seeded" in again.stderr
    listed = run(demo_dir / "store.db", "views", "--me", "li.na", "--json").stdout
    counts = {view["name"]: view["count"] for view in json.loads(listed)}
    assert counts["All"] == 1500
    assert counts["My open"] > 0  # the demo agent has work


def test_saved_views_are_validated_listed_and_deleted(db_path: Path) -> None:
    bad = run(db_path, "views", "save", "Mine", "priority:>=hgih")
    assert bad.returncode != 0 and "position" in bad.stderr
    assert run(db_path, "views", "save", "Damaged", "tag:破损 status:open").returncode == 0
    listed = json.loads(run(db_path, "views", "--json").stdout)
    assert {"name": "Damaged", "query": "tag:破损 status:open", "count": 1} in listed
    assert run(db_path, "views", "delete", "Damaged").returncode == 0
    missing = run(db_path, "views", "delete", "Damaged")
    assert missing.returncode != 0 and "Damaged" in missing.stderr
