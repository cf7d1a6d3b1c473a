"""The local store: migrations, applying server pages, reading tickets, export, the outbox."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from agentcli.domain.clock import SLA_NEVER
from agentcli.domain.mutations import Mutation, MutationType, Outcome
from agentcli.domain.wire import WireError
from agentcli.store.changes import apply_page, read_cursor
from agentcli.store.db import open_store
from agentcli.store.migrations import SCHEMA_VERSION
from agentcli.store.outbox import MutationError, enqueue, queued, settle
from agentcli.store.tickets import export_tickets, get_ticket
from tests.wire_pages import message_change, starter_page, ticket_change


@pytest.fixture
def db(tmp_path: Path):
    store = open_store(tmp_path / "store.db")
    apply_page(store, starter_page(), 7)
    return store


def _count(db, sql: str, *params) -> int:
    return db.conn.execute(sql, params).fetchone()[0]


def _total_rows(db) -> int:
    return _count(db, "SELECT (SELECT count(*) FROM tickets) + (SELECT count(*) FROM messages)")


def test_new_store_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    db = open_store(tmp_path / "fresh.db")
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"tickets", "messages", "outbox", "search_index", "view_counts"} <= set(db.table_names())


def test_reopening_a_store_keeps_data_and_schema(tmp_path: Path, db) -> None:
    db.conn.close()
    again = open_store(tmp_path / "store.db")
    assert _count(again, "SELECT count(*) FROM tickets") == 2


def test_store_from_a_newer_agentcli_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        open_store(path)


def test_show_ticket_has_customer_order_and_thread_in_order(db) -> None:
    ticket = get_ticket(db, 1)
    assert ticket is not None
    assert ticket["subject"] == "订单 1 外包装破损"
    assert ticket["status"] == "open" and ticket["priority"] == "normal"
    assert ticket["assignee"] is None
    assert ticket["customer"]["name"] == "王芳"
    assert ticket["order"]["tracking_number"] == "SF1234567890123"
    assert [m["id"] for m in ticket["messages"]] == [10, 12]
    assert ticket["messages"][0]["body"].startswith("你好")
    assert ticket["sla_due"] == "2026-11-20T12:00:00Z"  # the earliest running due time
    assert get_ticket(db, 999) is None


def test_pulled_page_maintains_tags_counts_and_search(db) -> None:
    assert _count(db, "SELECT count(*) FROM ticket_tags WHERE tag = '破损'") == 1
    assert _count(db, "SELECT sum(n) FROM view_counts WHERE status = 'open'") == 2
    hits = db.conn.execute(
        "SELECT rowid FROM search_index WHERE search_index MATCH ?", ('"退 款"',)
    ).fetchall()
    assert hits == [(10,)]
    # The opening message also carries the subject ("订单 1 外包装破损").
    subject_hits = db.conn.execute(
        "SELECT rowid FROM search_index WHERE search_index MATCH ?", ('"订 单"',)
    ).fetchall()
    assert subject_hits == [(10,)]
    assert read_cursor(db) == 7


def test_a_later_page_updates_rows_and_counts(db) -> None:
    apply_page(db, [ticket_change(8, 1, status="solved", assignee="li", tags=[], version=2)], 8)
    ticket = get_ticket(db, 1)
    assert ticket["status"] == "solved" and ticket["assignee"] == "li" and ticket["tags"] == []
    assert _count(db, "SELECT sla_due FROM tickets WHERE id = 1") == SLA_NEVER
    assert _count(db, "SELECT n FROM view_counts WHERE status='solved' AND assignee='li'") == 1
    assert _count(db, "SELECT count(*) FROM ticket_tags WHERE ticket_id = 1") == 0


@pytest.mark.parametrize(
    ("page", "problem"),
    [
        ([ticket_change(8, 3, status="opened")], r"changes\[0\]\.data\.status"),
        ([ticket_change(8, 3, priority=2)], r"changes\[0\]\.data\.priority"),
        ([ticket_change(8, 3), {"seq": 9, "kind": "refund", "data": {}}], "unknown change kind"),
        ([ticket_change(5, 3)], "cursor went back"),
        ([message_change(8, 20, 1, "hi"), "garbage"], r"changes\[1\]: expected an object"),
        ({"not": "a list"}, "expected a list"),
    ],
)
def test_a_malformed_page_is_rejected_whole(db, page, problem) -> None:
    before = _count(db, "SELECT count(*) FROM tickets") + _count(
        db, "SELECT count(*) FROM messages"
    )
    with pytest.raises(WireError, match=problem):
        apply_page(db, page, 9)
    assert _total_rows(db) == before
    assert read_cursor(db) == 7


def test_unknown_extra_fields_are_ignored(db) -> None:
    change = ticket_change(8, 3)
    change["data"]["shiny_new_field"] = {"x": 1}
    change["also_new"] = True
    apply_page(db, [change], 8)
    assert get_ticket(db, 3) is not None


def test_cursor_behind_the_page_is_rejected(db) -> None:
    with pytest.raises(WireError, match="behind"):
        apply_page(db, [ticket_change(8, 3)], 7)
    assert get_ticket(db, 3) is None


def test_repeated_message_is_applied_once(db) -> None:
    apply_page(db, [message_change(8, 10, 1, "你好，我买的电饭煲收到时外包装破损")], 8)
    assert _count(db, "SELECT count(*) FROM messages WHERE ticket_id = 1") == 2
    assert _count(db, "SELECT count(*) FROM search_index WHERE search_index MATCH '\"退 款\"'") == 1


def test_export_streams_every_ticket_with_its_messages(db) -> None:
    exported = list(export_tickets(db))
    assert [t["id"] for t in exported] == [1, 2]
    assert [m["id"] for m in exported[0]["messages"]] == [10, 12]
    assert exported[1]["messages"][0]["body"].startswith("Добрий день")
    json.dumps(exported, ensure_ascii=False)  # JSON-ready


def test_reply_is_queued_and_shown_at_once_as_pending(db) -> None:
    reply = Mutation(MutationType.REPLY, 1, base_version=1, payload={"body": "已为您登记退货"})
    seq = enqueue(db, reply, author="li")
    ticket = get_ticket(db, 1)
    assert ticket["pending"] is True
    assert ticket["messages"][-1]["body"] == "已为您登记退货"
    assert ticket["messages"][-1]["pending"] is True
    assert ticket["messages"][-1]["id"] == -seq
    assert [m["client_id"] for m in queued(db)] == [reply.client_id]
    settle(db, reply.client_id, Outcome.APPLIED)
    settle(db, reply.client_id, Outcome.APPLIED)  # settling twice changes nothing
    assert queued(db) == []
    assert get_ticket(db, 1)["pending"] is False


def test_field_mutations_apply_locally(db) -> None:
    for mutation in (
        Mutation(MutationType.ASSIGN, 1, 1, {"assignee": "li"}),
        Mutation(MutationType.SET_STATUS, 1, 1, {"status": "pending"}),
        Mutation(MutationType.SET_PRIORITY, 1, 1, {"priority": "urgent"}),
        Mutation(MutationType.TAG, 1, 1, {"add": ["vip", "破损"], "remove": ["破损"]}),
        Mutation(MutationType.SET_CASE, 1, 1, {"state": "approved"}),
        Mutation(MutationType.SNOOZE, 1, 1, {"until": "2026-11-25T09:00:00Z"}),
    ):
        enqueue(db, mutation, author="li")
    ticket = get_ticket(db, 1)
    assert ticket["assignee"] == "li"
    assert ticket["status"] == "pending" and ticket["sla_due"] is None  # pending pauses SLA
    assert ticket["priority"] == "urgent"
    assert ticket["tags"] == ["vip"]
    assert ticket["case_state"] == "approved"
    assert ticket["snoozed_until"] == "2026-11-25T09:00:00Z"
    assert _count(db, "SELECT n FROM view_counts WHERE status='pending' AND assignee='li'") == 1
    assert len(queued(db)) == 6


@pytest.mark.parametrize(
    ("mutation", "problem"),
    [
        (Mutation(MutationType.SET_CASE, 1, 1, {"state": "refunded"}), "cannot go from requested"),
        (Mutation(MutationType.SET_STATUS, 1, 1, {"status": "done"}), "ticket 1: set-status"),
        (Mutation(MutationType.REPLY, 1, 1, {"body": "  "}), "empty"),
        (Mutation(MutationType.REPLY, 404, 1, {"body": "hi"}), "ticket 404: no such ticket"),
    ],
)
def test_a_bad_mutation_changes_nothing(db, mutation, problem) -> None:
    with pytest.raises(MutationError, match=problem):
        enqueue(db, mutation, author="li")
    assert queued(db) == []
    assert get_ticket(db, 1)["pending"] is False


def test_rejected_mutation_stays_with_its_reason(db) -> None:
    mutation = Mutation(MutationType.ASSIGN, 1, 1, {"assignee": "li"})
    enqueue(db, mutation, author="li")
    settle(db, mutation.client_id, Outcome.REJECTED, "forbidden: not your queue")
    row = db.conn.execute("SELECT state, last_error FROM outbox").fetchone()
    assert row == ("rejected", "forbidden: not your queue")
