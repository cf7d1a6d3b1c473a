"""Bulk reassignment: pick tickets, show whose they are, queue every move in one transaction.

Each move is an `assign` (and a `set-queue` for a queue move) against the ticket's version in
the local store, carrying what the supervisor saw (`expect`: the assignee and the last message;
see agentcli.server.moves). The server answers "conflict" for a ticket an agent took or wrote
on meanwhile: the outbox turns that into a conflict record (agentcli.store.conflicts), the
ticket keeps the newer state, and `outcomes` lists it as skipped. Nothing is overwritten.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import sqlite_utils

from agentcli.domain.clock import now_epoch
from agentcli.domain.mutations import Mutation, MutationType
from agentcli.domain.query import parse_query
from agentcli.domain.rebalance import Candidate, Move, Proposal, Slot, propose
from agentcli.store.db import transaction
from agentcli.store.inbox import compile_query
from agentcli.store.outbox import enqueue_in
from agentcli.store.workload import UNRESOLVED_SQL, Board

# A query may match the whole store; a move this large is a migration, not a reassignment.
MAX_SELECTED = 100_000
_CHUNK = 500  # ids per `IN (...)`: far below SQLite's variable limit


class ReassignError(ValueError):
    """A move that cannot be queued (no target, unknown agent)."""


@dataclass(frozen=True, slots=True)
class Selection:
    ticket_ids: list[int]
    owners: dict[str, int]  # current assignee ('' = unassigned) -> tickets
    missing: list[int] = field(default_factory=list)  # asked for, not in the local store


T = TypeVar("T")


def _chunks(items: list[T]) -> Iterable[list[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def select_query(db: sqlite_utils.Database, text: str, *, me: str | None) -> list[int]:
    """Ids of tickets matching an inbox query (the filter-bar language), most urgent first."""
    where, params, _order = compile_query(parse_query(text), me=me, now=now_epoch())
    sql = f"SELECT t.id FROM tickets t WHERE {where} ORDER BY t.sla_due, t.id LIMIT ?"
    return [row[0] for row in db.conn.execute(sql, [*params, MAX_SELECTED])]


def select_agent_queue(db: sqlite_utils.Database, login: str) -> list[int]:
    """A whole agent's unresolved queue (index range on tickets_by_assignee_sla)."""
    sql = (
        "SELECT id FROM tickets INDEXED BY tickets_by_assignee_sla WHERE assignee = ?"
        f" AND +status IN ({UNRESOLVED_SQL}) ORDER BY sla_due, id LIMIT ?"
    )
    return [row[0] for row in db.conn.execute(sql, (login, MAX_SELECTED))]


def describe(db: sqlite_utils.Database, ticket_ids: list[int]) -> Selection:
    """Who holds the picked tickets now: what the confirm step shows."""
    owners: dict[str, int] = {}
    found: set[int] = set()
    for chunk in _chunks(ticket_ids):
        marks = ", ".join("?" * len(chunk))
        for ticket_id, assignee in db.conn.execute(
            f"SELECT id, assignee FROM tickets WHERE id IN ({marks})", chunk
        ):
            found.add(ticket_id)
            owners[assignee] = owners.get(assignee, 0) + 1
    kept = [i for i in dict.fromkeys(ticket_ids) if i in found]
    missing = [i for i in dict.fromkeys(ticket_ids) if i not in found]
    return Selection(kept, dict(sorted(owners.items(), key=lambda kv: (-kv[1], kv[0]))), missing)


def _check_agent(conn: sqlite3.Connection, login: str) -> None:
    found = conn.execute("SELECT active FROM agents WHERE login = ?", (login,)).fetchone()
    if found is None or not found[0]:
        raise ReassignError(f"no active agent {login!r}")


def move_mutations(
    conn: sqlite3.Connection, ticket_id: int, *, to_agent: str | None, to_queue: str | None
) -> list[Mutation]:
    """The mutations moving one ticket (none when it is already there).

    to_queue alone moves the ticket to that queue unassigned (for the queue's agents to take);
    with to_agent too, it lands in the queue with that agent."""
    row = conn.execute(
        "SELECT version, assignee, queue, coalesce(last_message_id, 0) FROM tickets WHERE id = ?",
        (ticket_id,),
    ).fetchone()
    if row is None:
        return []
    version, assignee, queue, seen = row
    target = to_agent if to_agent is not None else ("" if to_queue is not None else assignee)
    expect = {"assignee": assignee or None, "seen_message": int(seen)}
    out: list[Mutation] = []
    if target != assignee:
        payload = {"assignee": target or None, "expect": expect}
        out.append(Mutation(MutationType.ASSIGN, ticket_id, version, payload))
        # The queue move is applied after the assign on the server (same batch, in order):
        # it expects the assignee the assign set, so it conflicts too when the assign did.
        expect = {**expect, "assignee": target or None}
    if to_queue is not None and to_queue != queue:
        payload = {"queue": to_queue, "expect": expect}
        out.append(Mutation(MutationType.SET_QUEUE, ticket_id, version, payload))
    return out


def enqueue_moves(
    db: sqlite_utils.Database,
    ticket_ids: list[int],
    *,
    to_agent: str | None,
    to_queue: str | None,
    author: str,
) -> list[Mutation]:
    """Queue the moves of every ticket in ONE transaction (all or none); return them."""
    if to_agent is None and to_queue is None:
        raise ReassignError("move to an agent, a queue, or both")
    queued: list[Mutation] = []
    with transaction(db) as conn:
        if to_agent:
            _check_agent(conn, to_agent)
        for ticket_id in ticket_ids:
            for mutation in move_mutations(conn, ticket_id, to_agent=to_agent, to_queue=to_queue):
                enqueue_in(conn, mutation, author=author)
                queued.append(mutation)
    return queued


def enqueue_rebalance(
    db: sqlite_utils.Database, moves: list[Move], *, author: str
) -> list[Mutation]:
    """Queue an accepted rebalance proposal (one transaction). A ticket whose assignee is no
    longer the move's source in the local store is left alone: the proposal is stale for it."""
    queued: list[Mutation] = []
    with transaction(db) as conn:
        for move in moves:
            row = conn.execute("SELECT assignee FROM tickets WHERE id = ?", (move.ticket_id,))
            current = row.fetchone()
            if current is None or current[0] != move.source:
                continue
            for mutation in move_mutations(
                conn, move.ticket_id, to_agent=move.target, to_queue=None
            ):
                enqueue_in(conn, mutation, author=author)
                queued.append(mutation)
    return queued


# ---------------------------------------------------------------- rebalance input


def rebalance_proposal(db: sqlite_utils.Database, board: Board) -> Proposal:
    """The proposal for the board's agents: candidates are the unresolved tickets of agents
    over capacity, most urgent first (an index range per such agent)."""
    slots = [
        Slot(a.login, frozenset(a.languages), a.capacity, a.load, a.active) for a in board.agents
    ]
    if not any(slot.room for slot in slots):
        return Proposal()  # nobody has room: nothing can move, no need to read tickets
    candidates: list[Candidate] = []
    sql = (
        "SELECT id, assignee, language, priority, sla_due FROM tickets INDEXED BY"
        f" tickets_by_assignee_sla WHERE assignee = ? AND +status IN ({UNRESOLVED_SQL})"
        " ORDER BY sla_due, id LIMIT ?"
    )
    for slot in slots:
        if slot.excess:
            # Twice the excess: room to skip tickets in a language nobody else speaks.
            rows = db.conn.execute(sql, (slot.login, slot.excess * 2))
            candidates += [Candidate(*row) for row in rows]
    return propose(slots, candidates)


# ---------------------------------------------------------------- what happened


@dataclass(frozen=True, slots=True)
class Outcomes:
    applied: list[int]
    skipped: list[tuple[int, str]]  # (ticket, why): lost to a newer change, kept as a conflict
    rejected: list[tuple[int, str]]  # (ticket, why): the server refused (forbidden, invalid)
    queued: list[int]  # not pushed yet (offline)


def outcomes(db: sqlite_utils.Database, mutations: list[Mutation]) -> Outcomes:
    """Per ticket, what became of its moves after a push (a ticket counts once: skipped or
    rejected if any of its moves was, queued if any still waits, else applied)."""
    ids = [m.client_id for m in mutations]
    skipped: dict[int, str] = {}
    rejected: dict[int, str] = {}
    waiting: set[int] = set()
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))
        for ticket_id, reason in db.conn.execute(
            f"SELECT ticket_id, reason FROM conflicts WHERE client_id IN ({marks})", chunk
        ):
            skipped.setdefault(ticket_id, reason or "changed meanwhile")
        for ticket_id, state, error in db.conn.execute(
            f"SELECT ticket_id, state, last_error FROM outbox WHERE client_id IN ({marks})"
            " AND state IN ('queued', 'rejected')",
            chunk,
        ):
            if state == "rejected":
                rejected.setdefault(ticket_id, error or "rejected")
            else:
                waiting.add(ticket_id)
    tickets = list(dict.fromkeys(m.ticket_id for m in mutations))
    return Outcomes(
        applied=[t for t in tickets if t not in skipped and t not in rejected and t not in waiting],
        skipped=sorted(skipped.items()),
        rejected=sorted(rejected.items()),
        queued=[t for t in tickets if t in waiting and t not in skipped and t not in rejected],
    )
