"""The per-ticket audit trail on the server: every change leaves one event per field, logged to
the change feed in the same transaction, and a synced client store holds each event once."""

from __future__ import annotations

import json
import smtplib
import socket
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from agentcli.domain.clock import now_epoch
from agentcli.domain.mutations import Mutation, MutationType
from agentcli.server.app import create_app
from agentcli.server.audit import record_event
from agentcli.server.db import read_tx, write_tx
from agentcli.server.mail_in import SmtpListener
from agentcli.server.runner import start_in_thread
from agentcli.server.schema import change_log, ticket_events
from agentcli.server.sla import check_breaches
from agentcli.server.workflow import Workflow
from agentcli.store.changes import apply_page, read_cursor
from agentcli.store.db import open_store, transaction
from agentcli.store.history import ticket_history
from agentcli.store.outbox import enqueue
from agentcli.sync.client import USER_AGENT, Client
from agentcli.sync.engine import Engine as SyncEngine
from tests.server.conftest import Live
from tests.server.test_mutations import mutation, push
from tests.server.test_sla_and_assignment import POLICY, make_desk

FIELDS = ("ticket_id", "actor", "client", "field", "old", "new")


def events(engine: Engine, ticket_id: int) -> list[dict[str, Any]]:
    with read_tx(engine) as conn:
        rows = conn.execute(
            select(ticket_events)
            .where(ticket_events.c.ticket_id == ticket_id)
            .order_by(ticket_events.c.id)
        ).mappings()
        return [dict(row) for row in rows]


def feed_events(engine: Engine) -> list[dict[str, Any]]:
    with read_tx(engine) as conn:
        payloads = conn.execute(
            select(change_log.c.payload)
            .where(change_log.c.kind == "event")
            .order_by(change_log.c.seq)
        ).scalars()
        return [json.loads(payload) for payload in payloads]


def test_mutations_by_two_agents_record_who_what_and_from_where(live: Live) -> None:
    ticket = live.ticket(queue="uk")
    with live.client("olena") as olena, live.client("sup") as sup:
        olena.headers["User-Agent"] = "agentcli/0.1.0"
        sup.headers["User-Agent"] = "desk-bot/2\x1b[31m"  # control characters never stored
        sent = [
            (olena, mutation("assign", ticket, 1, assignee="olena")),
            (olena, mutation("reply", ticket, None, body="Перевіряємо.")),
            (sup, mutation("set-priority", ticket, None, priority="high")),
            (sup, mutation("tag", ticket, None, add=["vip", "破损"])),
            (olena, mutation("set-status", ticket, None, status="pending")),
            (olena, mutation("note", ticket, None, body="called the carrier")),
            (sup, mutation("set-case", ticket, None, type="return-and-refund", state="requested")),
            (olena, mutation("snooze", ticket, None, until="2030-01-02T03:04:05Z")),
            (sup, mutation("set-queue", ticket, None, queue="returns")),
        ]
        results = [push(http, m)[0] for http, m in sent]
        assert [r["outcome"] for r in results] == ["applied"] * len(sent)
        # A retried push, a lost race and a forbidden change leave no trace.
        push(olena, sent[0][1])
        assert push(sup, mutation("assign", ticket, 1, assignee="li"))[0]["outcome"] == "conflict"
    with live.client("li") as li:
        [forbidden] = push(li, mutation("tag", ticket, None, add=["x"]))
        assert forbidden["outcome"] == "rejected"
    ids = [m["client_id"] for _, m in sent]
    by_olena = {i: f"agentcli/0.1.0 {i}" for i in ids}
    by_sup = {i: f"desk-bot/2 [31m {i}" for i in ids}
    reply_id, note_id = str(results[1]["message_id"]), str(results[5]["message_id"])
    expected = [
        (ticket, "olena", by_olena[ids[0]], "assignee", None, "olena"),
        (ticket, "olena", by_olena[ids[1]], "reply", None, reply_id),
        (ticket, "olena", by_olena[ids[1]], "status", "new", "open"),  # answered: new -> open
        (ticket, "sup", by_sup[ids[2]], "priority", "normal", "high"),
        (ticket, "sup", by_sup[ids[3]], "tags", "[]", '["vip", "破损"]'),
        (ticket, "olena", by_olena[ids[4]], "status", "open", "pending"),
        (ticket, "olena", by_olena[ids[5]], "note", None, note_id),
        (ticket, "sup", by_sup[ids[6]], "case_type", None, "return-and-refund"),
        (ticket, "sup", by_sup[ids[6]], "case_state", None, "requested"),
        (ticket, "olena", by_olena[ids[7]], "snooze", None, "2030-01-02T03:04:05Z"),
        (ticket, "sup", by_sup[ids[8]], "queue", "uk", "returns"),
    ]
    rows = events(live.engine, ticket)
    assert [tuple(row[name] for name in FIELDS) for row in rows] == expected
    assert all(row["at"] > 0 for row in rows)
    # Each event is in the change feed, in the order written, with the same content.
    feed = feed_events(live.engine)
    assert [event["id"] for event in feed] == [row["id"] for row in rows]
    assert [tuple(event[name] for name in FIELDS) for event in feed] == expected
    assert all(event["at"].endswith("Z") for event in feed)


def test_each_event_commits_with_its_change_log_entry(engine: Engine) -> None:
    """The helper other features (CSAT ratings) call: one row, one feed entry, one id."""
    with write_tx(engine) as conn:
        first = record_event(
            conn, ticket_id=7, actor="customer", client="webhook:chat", field="csat",
            old=None, new=5, at=1_800_000_000,
        )  # fmt: skip
        second = record_event(
            conn, ticket_id=7, actor="system", client="sla", field="sla_breach",
            old=None, new="first_reply", at=1_800_000_001,
        )  # fmt: skip
    assert second > first
    assert [(e["id"], e["new"]) for e in feed_events(engine)] == [
        (first, "5"),
        (second, "first_reply"),
    ]
    with pytest.raises(RuntimeError), write_tx(engine) as conn:
        record_event(
            conn, ticket_id=7, actor="sup", client=None, field="status",
            old="open", new="solved", at=1_800_000_002,
        )  # fmt: skip
        raise RuntimeError("rolled back")
    assert len(events(engine, 7)) == 2 and len(feed_events(engine)) == 2


def test_inbound_channels_auto_assignment_and_sla_breaches(engine: Engine) -> None:
    workflow = Workflow(sla=POLICY, auto_assign=frozenset({"uk"}))
    desk = make_desk(engine, workflow)
    try:
        opened = desk.inbound("m1", "conv-1")
        ticket = opened["ticket_id"]
        with desk.client("olena") as http:
            push(http, mutation("set-status", ticket, None, status="pending"))
        again = desk.inbound("m2", "conv-1")  # the customer answers: reopened
        check_breaches(engine, now=now_epoch() + 10 * 3600)  # past first reply and resolution
    finally:
        desk.server.stop()
    rows = [tuple(row[name] for name in FIELDS) for row in events(engine, ticket)]
    assert rows[:3] == [
        (ticket, "customer", "webhook:chat", "created", None, "Де моє замовлення?"),
        (ticket, "system", "auto-assign", "assignee", None, "olena"),
        (ticket, "customer", "webhook:chat", "message", None, str(opened["message_id"])),
    ]
    assert rows[3][1:4] == ("olena", rows[3][2], "status") and rows[3][4:] == ("new", "pending")
    assert rows[4:6] == [
        (ticket, "customer", "webhook:chat", "status", "pending", "open"),
        (ticket, "customer", "webhook:chat", "message", None, str(again["message_id"])),
    ]
    assert sorted(rows[6:]) == [
        (ticket, "system", "sla", "sla_breach", None, "first_reply"),
        (ticket, "system", "sla", "sla_breach", None, "resolution"),
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_inbound_mail_records_a_created_event_from_smtp(engine: Engine) -> None:
    port = _free_port()
    listener = SmtpListener(engine, Workflow(), "127.0.0.1", port, queue="mail")
    server = start_in_thread(create_app(engine, background=[listener]))
    try:
        mail = EmailMessage()
        mail["From"] = "Olena <olena@example.com>"
        mail["To"] = "help@shop.example"
        mail["Subject"] = "Посилка не прийшла"
        mail["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
        mail.set_content("Де моє замовлення №1042?")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(mail)
    finally:
        server.stop()
    [created, message] = feed_events(engine)
    assert [created[name] for name in ("actor", "client", "field", "old", "new")] == [
        "customer", "smtp", "created", None, "Посилка не прийшла"
    ]  # fmt: skip
    assert (message["field"], message["client"]) == ("message", "smtp")


def test_events_reach_a_synced_store_exactly_once(live: Live, tmp_path: Path) -> None:
    ticket = live.ticket(queue="uk")
    store = open_store(tmp_path / "client.db")
    with Client(live.url, live.tokens["olena"]) as client:
        sync = SyncEngine(store, client)
        sync.sync_once()
        assign = Mutation(MutationType.ASSIGN, ticket, 1, {"assignee": "olena"})
        enqueue(store, assign, author="olena")
        status = Mutation(MutationType.SET_STATUS, ticket, 2, {"status": "open"})
        enqueue(store, status, author="olena")
        sync.sync_once()
        server_rows = events(live.engine, ticket)
        assert [row["client"].split()[0] for row in server_rows] == [USER_AGENT, USER_AGENT]
        page = ticket_history(store, ticket)
        local = [(e.id, e.actor, e.field, e.old, e.new) for e in page.events]
        assert local == [
            (row["id"], "olena", row["field"], row["old"], row["new"])
            for row in reversed(server_rows)
        ]
        # Pulling the whole feed again (a lost cursor) stores nothing twice.
        with transaction(store) as conn:
            conn.execute("UPDATE sync_state SET value = '0' WHERE key = 'cursor'")
        assert read_cursor(store) == 0
        sync.sync_once()
        count = store.conn.execute("SELECT count(*) FROM ticket_events").fetchone()[0]
        assert count == len(server_rows) == 2
        # Applying the very same page twice is as idempotent as a re-pull.
        raw = client.changes(0, 1000)
        with transaction(store) as conn:
            conn.execute("UPDATE sync_state SET value = '0' WHERE key = 'cursor'")
        apply_page(store, raw.changes, raw.next)
        assert store.conn.execute("SELECT count(*) FROM ticket_events").fetchone()[0] == 2
