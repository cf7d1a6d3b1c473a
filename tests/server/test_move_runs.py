"""A batch whose runs of moves (assign, set-queue) settle set-based leaves exactly what settling
each mutation alone leaves: answers, versions, seqs, change log, audit trail, records.

Random batches mix moves that apply with duplicates, stale expectations (assignee or an agent's
message since), stale versions, unknown tickets and agents, forbidden moves, and replies and
notes on the same tickets. Two identical stores on one backend under one pinned clock: one
takes each batch whole, the other one mutation per push (never a run).
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, RowMapping, event

from agentcli.domain.mutations import MutationType
from agentcli.domain.vocabulary import AuthorKind, Channel, MessageKind, Role, Status
from agentcli.server import auth
from agentcli.server.db import open_engine, write_tx
from agentcli.server.mutations import Incoming
from agentcli.server.push import apply_batch
from agentcli.server.records import append_message, create_customer, create_ticket, message_values
from agentcli.server.schema import agents
from agentcli.server.workflow import Workflow
from tests.server.differential import NOW, dump, renumbered
from tests.server.test_sla_and_assignment import POLICY

ASSIGN, QUEUE = MutationType.ASSIGN, MutationType.SET_QUEUE
PEOPLE = {
    "sup": {"login": "sup", "role": str(Role.SUPERVISOR), "queues": []},
    "olena": {"login": "olena", "role": str(Role.AGENT), "queues": ["uk"]},
}
# Each ticket as the supervisor saw it when deciding: (assignee, last message id).
Seen = dict[int, tuple[str | None, int]]


class Desk(Workflow):
    """The serve workflow (SLA clock) plus a move to queue "boom" whose hook breaks a key."""

    def after(
        self, conn: Connection, row: RowMapping, kind: MutationType, extra: dict[str, Any]
    ) -> None:
        super().after(conn, row, kind, extra)
        if row["queue"] == "boom":
            token = uuid.uuid4().hex * 2
            conn.execute(agents.insert(), {"login": "sup", "name": "sup", "role": "agent",
                                           "token_hash": token, "created_at": NOW})  # fmt: skip


def _store(engine: Engine) -> Seen:
    """Agents (one inactive) and twelve tickets, some with agents' and customers' messages."""
    auth.add_agent(engine, "sup", Role.SUPERVISOR)
    auth.add_agent(engine, "olena", Role.AGENT, languages=["uk"], queues=["uk"])
    auth.add_agent(engine, "li", Role.AGENT, languages=["zh-CN"], queues=["zh"])
    auth.add_agent(engine, "gone", Role.AGENT, queues=["uk"])
    auth.set_active(engine, "gone", False)
    seen: Seen = {}
    holders = [None, "olena", "li", "", "olena", "sup", "gone", None, "li", "olena", "", None]
    with write_tx(engine) as conn:
        customer = create_customer(conn, "Olena", locale="uk", email="olena@example.com")
        for n, holder in enumerate(holders):
            ticket = create_ticket(
                conn, subject=f"Замовлення {n}", requester_id=customer["id"], created_at=NOW,
                channel=Channel.EMAIL if n % 3 else Channel.CHAT, queue="uk" if n % 2 else "zh",
                status=Status.PENDING if n == 7 else Status.NEW, assignee=holder,
                extra={"first_reply_due": NOW + 3600},
            )  # fmt: skip
            last = 0
            for author in ("customer", holder or "li", "customer")[: n % 4]:
                message, _ = append_message(
                    conn,
                    message_values( ticket_id=ticket["id"], kind=MessageKind.PUBLIC,
                    author_kind=AuthorKind.CUSTOMER if author == "customer" else AuthorKind.AGENT,
                    author=author, channel=Channel(ticket["channel"]), body="…", created_at=NOW),
                )  # fmt: skip
                last = message["id"]
            seen[int(ticket["id"])] = (holder or None, last)
    return seen


def _batches(seed: int, seen: Seen) -> list[tuple[str, list[Incoming]]]:
    """Five pushes of random mutations: mostly the supervisor's moves, decided on `seen` (or
    on something else), with replies and notes among them and a push by an agent.
    """
    rng = random.Random(seed)
    sent: list[Incoming] = []

    def move() -> Incoming:
        ticket = rng.choice([*seen, 999])  # 999: no such ticket
        holder, last = seen.get(ticket, (None, 0))
        expect: dict[str, Any] = {
            "assignee": rng.choice([holder] * 4 + ["li", None]),
            "seen_message": rng.choice([last] * 4 + [0, max(last - 1, 0), True]),
        }
        for key in rng.sample(["assignee", "seen_message"], rng.choice([0, 0, 0, 1, 2])):
            del expect[key]
        base = rng.choice([1, 1, 2, 5, None])
        if rng.random() < 0.75:
            to = rng.choice(["li", "li", "olena", "sup", None, "gone", "nobody", 7])
            payload: dict[str, Any] = {"assignee": to}
        else:
            payload = {"queue": rng.choice(["uk", "zh", "returns", ""])}
        if rng.random() < 0.9:
            payload["expect"] = expect
        kind = ASSIGN if "assignee" in payload else QUEUE
        return Incoming(str(uuid.uuid4()), kind, ticket, base, payload)

    def message() -> Incoming:
        kind = rng.choice([MutationType.REPLY, MutationType.NOTE])
        return Incoming(str(uuid.uuid4()), kind, rng.choice(list(seen)), None, {"body": "ok"})

    def pick() -> Incoming:
        roll = rng.random()
        if roll < 0.08 and sent:
            return rng.choice(sent)  # a duplicate: in this push or an earlier one
        mutation = message() if roll < 0.2 else move()
        sent.append(mutation)
        return mutation

    pushes = [("sup", [pick() for _ in range(rng.randint(20, 40))]) for _ in range(3)]
    pushes.insert(1, ("olena", [pick() for _ in range(15)]))
    last = [move() for _ in range(30)]
    if seed % 2:  # a move the database refuses, among moves
        last.insert(10, Incoming("boom", QUEUE, min(seen), None, {"queue": "boom"}))
    return [*pushes, ("sup", last)]


def _settle_both(
    stores: tuple[Engine, Engine], seed: int
) -> list[tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]]:
    """Each store's answers and tables: the first took each batch whole, the second one
    mutation per push.
    """
    out = []
    batches: list[tuple[str, list[Incoming]]] = []
    for engine in stores:
        seen = _store(engine)
        batches = batches or _batches(seed, seen)
        answers = []
        for login, batch in batches:
            pushes = [batch] if engine is stores[0] else [[mutation] for mutation in batch]
            for push in pushes:
                answers += apply_batch(engine, PEOPLE[login], push, Desk(sla=POLICY), "test")[0]
        out.append((answers, dump(engine)))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_move_runs_settle_exactly_as_one_at_a_time(
    two_stores: tuple[Engine, Engine], pinned: None, seed: int
) -> None:
    batched, alone = _settle_both(two_stores, seed)
    outcomes = {a["outcome"] for a in batched[0]}
    reasons = " | ".join(a.get("reason", "") for a in batched[0])
    assert outcomes == {"applied", "duplicate", "conflict", "rejected"}
    assert "wrote on it since" in reasons and "now assigned to" in reasons
    assert "no active agent" in reasons and "unknown ticket" in reasons
    if seed % 2 == 0:
        assert batched == alone
    else:
        # The move to "boom" breaks a key: the batch settles again with savepoints, whose
        # undone inserts use up ids and seqs on PostgreSQL.
        [boom] = [a for a in batched[0] if a["client_id"] == "boom"]
        assert boom["outcome"] == "rejected" and "unique" in boom["reason"].lower()
        assert renumbered(*batched) == renumbered(*alone)


def test_a_run_of_moves_costs_the_same_round_trips_for_10_or_300(pg_url: str) -> None:
    """Moves read and write set-based on PostgreSQL: more moves, not more statements sent.
    (SQLite runs multi-row inserts row by row, in-process.)
    """
    engine = open_engine(pg_url)
    movable = [(ticket, was) for ticket, was in _store(engine).items() if was[0] != "gone"]
    assert len(movable) == 11
    counts, sent = [], []
    event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    for size in (10, 300):
        # Each ticket in turn to li and olena (11 tickets: a ticket's next move is the other).
        batch = [
            Incoming(str(uuid.uuid4()), ASSIGN, ticket, None,
                     {"assignee": ["li", "olena"][n % 2], "expect": {"seen_message": last}})
            for n in range(size)
            for ticket, (_, last) in [movable[n % len(movable)]]
        ]  # fmt: skip
        sent.clear()
        answers, _ = apply_batch(engine, PEOPLE["sup"], batch, Desk(sla=POLICY), "test")
        assert [a["outcome"] for a in answers] == ["applied"] * size
        counts.append(len(sent))
    engine.dispose()
    # Lock, seen ids, tickets, active agents, messages since; tickets, audit events, change
    # log, records; last seq.
    assert counts == [10, 10]
