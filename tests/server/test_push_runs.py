"""A batch settled with set-based runs of replies and notes leaves exactly what settling each
mutation alone leaves: answers, ids, seqs, change log, audit trail, outbound mail, records.

Two identical stores on the same backend under one pinned clock: one takes the mixed batch at
once, the other one mutation per push (never a run). A hook that hits a real unique-key error
on one reply checks that a refused run falls back to one mutation at a time.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, RowMapping, select

from agentcli.domain.mutations import MutationType
from agentcli.domain.vocabulary import Channel, Role, Status
from agentcli.server import auth
from agentcli.server.db import open_engine, read_tx, write_tx
from agentcli.server.mail_out import MailSettings, queue_reply
from agentcli.server.mutations import Incoming
from agentcli.server.push import apply_batch
from agentcli.server.records import create_customer, create_ticket
from agentcli.server.schema import (
    agents,
    applied_mutations,
    change_log,
    mail_outbox,
    messages,
    ticket_events,
    tickets,
)
from agentcli.server.workflow import Workflow
from tests.server.conftest import pg_admin_url
from tests.server.test_sla_and_assignment import POLICY

NOW = 1_790_000_000
SETTINGS = MailSettings("127.0.0.1", 2525, mail_from="help@shop.example")
TABLES = [tickets, messages, change_log, ticket_events, applied_mutations, mail_outbox]


class Desk(Workflow):
    """The serve workflow (SLA, outbound mail) plus a reply whose hook breaks a unique key."""

    def after(
        self, conn: Connection, row: RowMapping, kind: MutationType, extra: dict[str, Any]
    ) -> None:
        super().after(conn, row, kind, extra)
        if "message_id" not in extra:
            return
        body = conn.execute(select(messages.c.body).where(messages.c.id == extra["message_id"]))
        if body.scalar_one() == "boom":
            conn.execute(agents.insert(), _agent("sup"))  # a duplicate login


def _agent(login: str) -> dict[str, Any]:
    return {"login": login, "name": login, "role": "agent", "token_hash": uuid.uuid4().hex * 2,
            "created_at": NOW}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    if request.param == "sqlite":
        urls = [str(tmp_path / "a.db"), str(tmp_path / "b.db")]
    else:
        admin, template = pg_admin_url(), request.getfixturevalue("pg_template")
        names = [f"acli_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        urls = [admin.rsplit("/", 1)[0] + "/" + name for name in names]
    engines = [open_engine(url) for url in urls]
    yield engines[0], engines[1]
    for engine in engines:
        engine.dispose()
    if request.param == "postgres":
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One clock and predictable Message-IDs for both stores."""
    for module in ("mutations", "push", "records", "changelog", "mail_out", "sla", "auth"):
        monkeypatch.setattr(f"agentcli.server.{module}.now_epoch", lambda: NOW)
    yield


def _store(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """Agents and four tickets: new email (SLA running), open chat, another queue's, olena's."""
    # Message-IDs stay unique by their ticket and message ids; the random part is fixed.
    monkeypatch.setattr("agentcli.server.mail_out.secrets.token_hex", lambda n: "0" * 2 * n)
    people = {}
    for login, role, queues in (("sup", Role.SUPERVISOR, []), ("olena", Role.AGENT, ["uk"])):
        auth.add_agent(engine, login, role, languages=["uk"], queues=queues)
        people[login] = {"login": login, "role": str(role), "queues": queues}
    with write_tx(engine) as conn:
        customer = create_customer(conn, "Olena", locale="uk", email="olena@example.com")
        for values in (
            {"channel": Channel.EMAIL, "queue": "uk", "extra": {"first_reply_due": NOW + 3600}},
            {"channel": Channel.CHAT, "queue": "uk", "status": Status.OPEN},
            {"channel": Channel.CHAT, "queue": "zh"},
            {"channel": Channel.EMAIL, "queue": "uk", "assignee": "olena"},
        ):
            create_ticket(
                conn, subject="Де моє замовлення?", requester_id=customer["id"], created_at=NOW,
                **values,  # type: ignore[arg-type]
            )  # fmt: skip
    return people


def _batches(boom: bool) -> list[tuple[str, list[Incoming]]]:
    def m(kind: MutationType, ticket: int, **payload: Any) -> Incoming:
        return Incoming(str(uuid.uuid4()), kind, ticket, None, payload)

    reply, note = MutationType.REPLY, MutationType.NOTE
    earlier = m(reply, 2, body="earlier")
    first = m(reply, 1, body="a")
    sup = [
        first,
        m(note, 1, body="b"),
        m(reply, 2, body="with macros", macros=["m1", "m1", "m2"]),
        m(reply, 1, body="c"),
        m(note, 999, body="no such ticket"),
        m(reply, 2, body="  "),
        m(reply, 2, body="bad macros", macros="m1"),
        earlier,  # settled in an earlier push
        first,  # the same id again in this batch
        m(MutationType.SET_STATUS, 1, status="pending"),
        m(reply, 1, body="d"),
        m(reply, 4, body="checked move", expect={"assignee": "olena"}),
        m(reply, 3, body="e"),
        m(note, 4, body="f"),
        *([m(reply, 4, body="boom")] if boom else []),  # refused by the database
        m(reply, 1, body="g"),
        m(MutationType.ASSIGN, 2, assignee="olena"),
        m(reply, 2, body="h"),
        m(reply, 2, body="i"),
    ]
    olena = [
        m(reply, 3, body="not mine"),
        m(reply, 2, body="j"),
        m(note, 4, body="k"),
        m(reply, 1, body="l"),
    ]
    return [("sup", [earlier]), ("sup", sup), ("olena", olena)]


def _dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with read_tx(engine) as conn:
        return {
            table.name: [dict(r) for r in conn.execute(select(table).order_by(*table.primary_key))
                         .mappings()]
            for table in TABLES
        }  # fmt: skip


def _settle_both(
    stores: tuple[Engine, Engine], batches: list[tuple[str, list[Incoming]]], monkeypatch: Any
) -> list[tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]]:
    """Each store's answers and tables: the first took each batch whole, the second one
    mutation per push.
    """
    workflow = Desk(sla=POLICY, queue_reply=functools.partial(queue_reply, SETTINGS))
    out = []
    for engine in stores:
        people, answers = _store(engine, monkeypatch), []
        for login, batch in batches:
            pushes = [batch] if engine is stores[0] else [[mutation] for mutation in batch]
            for push in pushes:
                answers += apply_batch(engine, people[login], push, workflow, "agentcli/test")[0]
        out.append((answers, _dump(engine)))
    return out


def test_runs_settle_exactly_as_one_at_a_time(
    two_stores: tuple[Engine, Engine], pinned: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    batched, alone = _settle_both(two_stores, _batches(boom=False), monkeypatch)
    outcomes = [a["outcome"] for a in batched[0]]
    assert outcomes.count("applied") == 17 and outcomes.count("duplicate") == 2
    assert outcomes.count("rejected") == 4
    assert batched == alone


def test_a_run_the_database_refuses_settles_one_at_a_time(
    two_stores: tuple[Engine, Engine], pinned: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = _batches(boom=True)
    batched, alone = _settle_both(two_stores, batches, monkeypatch)
    boom = next(m.client_id for _, b in batches for m in b if m.payload.get("body") == "boom")
    refused = next(a for a in batched[0] if a["client_id"] == boom)
    assert refused["outcome"] == "rejected" and refused["reason"].startswith("invalid:")
    # Only the ids differ on PostgreSQL: the undone run's inserts used up sequence values.
    assert _renumbered(*batched) == _renumbered(*alone)


def _renumbered(answers: list[dict[str, Any]], dump: dict[str, list[dict[str, Any]]]) -> Any:
    """Answers and tables with message and event ids, seqs and outbox ids replaced by their
    rank, wherever they appear.
    """
    rank = {
        table: {old: new for new, old in enumerate(sorted(row[key] for row in dump[table]), 1)}
        for table, key in (("messages", "id"), ("ticket_events", "id"), ("change_log", "seq"),
                           ("mail_outbox", "id"))
    }  # fmt: skip
    message, event, seq = rank["messages"], rank["ticket_events"], rank["change_log"]

    def fix_answer(a: dict[str, Any]) -> dict[str, Any]:
        return a | {k: rank[t][a[k]] for k, t in (("seq", "change_log"), ("message_id", "messages"))
                    if a.get(k) is not None}  # fmt: skip

    def fix_event(e: dict[str, Any]) -> dict[str, Any]:
        new = str(message[int(e["new"])]) if e["field"] in ("reply", "note") else e["new"]
        return e | {"id": event[e["id"]], "new": new}

    def fix_mail_ids(text: str | None) -> str | None:
        return text and re.sub(r"\.m(\d+)\.", lambda m: f".m{message[int(m[1])]}.", text)

    def fix_change(c: dict[str, Any]) -> dict[str, Any]:
        data, entity = json.loads(c["payload"]), c["entity_id"]
        if c["kind"] == "message":
            data["id"] = message[data["id"]]
        elif c["kind"] == "event":
            data = fix_event(data)
        if c["kind"] in ("message", "event"):
            entity = str(data["id"])
        return c | {"seq": seq[c["seq"]], "entity_id": entity, "payload": data}

    return (
        [fix_answer(a) for a in answers],
        dump["tickets"],
        [m | {"id": message[m["id"]]} for m in dump["messages"]],
        [fix_event(e) for e in dump["ticket_events"]],
        [fix_change(c) for c in dump["change_log"]],
        [r | {"result": fix_answer(json.loads(r["result"]))} for r in dump["applied_mutations"]],
        [o | {"id": rank["mail_outbox"][o["id"]], "message_id": message[o["message_id"]]}
         | {k: fix_mail_ids(o[k]) for k in ("rfc_message_id", "in_reply_to", "refs")}
         for o in dump["mail_outbox"]],
    )  # fmt: skip
