"""A batch settled with set-based runs of replies and notes leaves exactly what settling each
mutation alone leaves: answers, ids, seqs, change log, audit trail, outbound mail, records.

Two identical stores on the same backend under one pinned clock: one takes the mixed batch at
once, the other one mutation per push (never a run). A hook that hits a real unique-key error
on one reply checks that a refused run falls back to one mutation at a time.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, RowMapping, select

from agentcli.domain.mutations import MutationType
from agentcli.domain.vocabulary import Channel, Role, Status
from agentcli.server import auth
from agentcli.server.db import write_tx
from agentcli.server.mail_out import MailSettings, queue_reply
from agentcli.server.mutations import Incoming
from agentcli.server.push import apply_batch
from agentcli.server.records import create_customer, create_ticket
from agentcli.server.schema import agents, messages
from agentcli.server.workflow import Workflow
from tests.server.differential import NOW, dump, renumbered
from tests.server.test_sla_and_assignment import POLICY

SETTINGS = MailSettings("127.0.0.1", 2525, mail_from="help@shop.example")


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
        out.append((answers, dump(engine)))
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
    assert renumbered(*batched) == renumbered(*alone)
