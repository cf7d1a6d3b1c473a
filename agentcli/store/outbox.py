"""The outbox: durable pending mutations, applied optimistically to the local store.

`enqueue` writes the mutation and its local effect in one transaction, so the console shows
the change at once (marked pending) and a crash can never keep one without the other.
`settle` records the server's answer in one transaction too (see `overlay` for how the
visible ticket row stays right while answers and pulled pages arrive in any order).

Outbox states: queued (to push) -> applied (server took it; kept only until the change feed
brings its effect) | rejected (kept with the reason, shown). Conflicts leave the outbox and
become a conflict record (agentcli.store.conflicts).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

from agentcli.domain.clock import now_epoch
from agentcli.domain.mutations import COMPARE_AND_SET, Mutation, MutationType, Outcome
from agentcli.domain.text import indexed_source
from agentcli.domain.wire import WireError, parse_changes
from agentcli.store.conflicts import record_conflict
from agentcli.store.db import transaction
from agentcli.store.effects import MESSAGE_TYPES, local_effect
from agentcli.store.overlay import read_base, rebuild, snapshot_base, store_server_state
from agentcli.store.overlay import ticket_row as local_ticket_row
from agentcli.store.search import unindex_message


class MutationError(ValueError):
    """A mutation that cannot apply locally (unknown ticket, bad value, invalid transition)."""


def enqueue(db: sqlite_utils.Database, mutation: Mutation, *, author: str) -> int:
    """Queue `mutation` and apply it to the local store; return its outbox sequence number."""
    with transaction(db) as conn:
        return enqueue_in(conn, mutation, author=author)


def enqueue_in(conn: sqlite3.Connection, mutation: Mutation, *, author: str) -> int:
    """`enqueue` inside the caller's transaction (several mutations commit together)."""
    now = now_epoch()
    ticket = _ticket(conn, mutation.ticket_id)
    snapshot_base(conn, ticket)
    seq = conn.execute(
        "INSERT INTO outbox(client_id, type, ticket_id, base_version, payload, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            mutation.client_id,
            str(mutation.type),
            mutation.ticket_id,
            mutation.base_version,
            json.dumps(mutation.payload, ensure_ascii=False),
            now,
        ),
    ).lastrowid
    assert seq is not None
    try:
        changes = local_effect(conn, ticket, mutation, author=author, seq=seq, now=now)
    except (KeyError, TypeError, ValueError) as error:
        raise MutationError(f"ticket {mutation.ticket_id}: {mutation.type}: {error}") from None
    changes["updated_at"] = now
    assignments = ", ".join(f"{name} = ?" for name in changes)
    conn.execute(
        f"UPDATE tickets SET {assignments}, pending = pending + 1 WHERE id = ?",
        [*changes.values(), mutation.ticket_id],
    )
    return seq


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [column[0] for column in cursor.description]
    out = []
    for row in cursor.fetchall():
        item = dict(zip(names, row, strict=True))
        item["payload"] = json.loads(item["payload"])
        out.append(item)
    return out


def queued(db: sqlite_utils.Database, limit: int = 100) -> list[dict[str, Any]]:
    """The oldest queued mutations, in the order they were made."""
    return _rows(
        db.conn.execute(
            "SELECT * FROM outbox WHERE state = 'queued' ORDER BY seq LIMIT ?", (limit,)
        )
    )


def rejected(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return _rows(db.conn.execute("SELECT * FROM outbox WHERE state = 'rejected' ORDER BY seq"))


def queued_count(db: sqlite_utils.Database) -> int:
    return int(db.conn.execute("SELECT count(*) FROM outbox WHERE state = 'queued'").fetchone()[0])


# Which compare-and-set fields a mutation may change on the server: a reply to a new ticket
# opens it, so a status change queued after our own reply must wait for the reply's answer.
TOUCHES: dict[str, tuple[str, ...]] = {
    MutationType.ASSIGN: (MutationType.ASSIGN,),
    MutationType.SET_STATUS: (MutationType.SET_STATUS,),
    MutationType.SET_CASE: (MutationType.SET_CASE,),
    MutationType.REPLY: (MutationType.SET_STATUS,),
}


def push_batch(db: sqlite_utils.Database, limit: int) -> list[dict[str, Any]]:
    """The next mutations to send in one request, oldest first, in order per ticket.

    Two compare-and-set changes of one field of one ticket never go in the same batch: both
    carry the version the user saw, so the server would answer the second "conflict" against
    our own first. Sent in separate batches, the second is rebased on the first's answer
    (see `settle`). Once a ticket's mutation is held back, its later ones are too (order).
    """
    batch: list[dict[str, Any]] = []
    held: set[int] = set()
    touched: set[tuple[int, str]] = set()
    for row in queued(db, limit=limit * 4):
        ticket = row["ticket_id"]
        if ticket in held or (row["type"] in COMPARE_AND_SET and (ticket, row["type"]) in touched):
            held.add(ticket)
            continue
        touched.update((ticket, field) for field in TOUCHES.get(row["type"], ()))
        batch.append(row)
        if len(batch) >= limit:
            break
    return batch


def mutation_of(row: dict[str, Any]) -> Mutation:
    return Mutation(
        MutationType(row["type"]),
        row["ticket_id"],
        row["base_version"],
        row["payload"],
        row["client_id"],
    )


def note_attempt(db: sqlite_utils.Database, client_ids: list[str], error: str) -> None:
    """A push that got no answer: count the attempt; the mutations stay queued."""
    with transaction(db) as conn:
        conn.executemany(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE client_id = ?",
            [(error, client_id) for client_id in client_ids],
        )


def settle(
    db: sqlite_utils.Database,
    client_id: str,
    outcome: Outcome,
    reason: str | None = None,
    *,
    version: int | None = None,
    message_id: int | None = None,
    current: dict[str, Any] | None = None,
) -> None:
    """Record the server's answer (idempotent: an already settled id changes nothing).

    applied/duplicate: the pending mark goes; a sent reply's local copy stays until the
    server's copy (`message_id`) is in the store, so it never shows twice nor vanishes.
    conflict: the server's state (`current`) replaces ours, the intent becomes a conflict
    record. rejected: kept with the reason; the ticket shows the server's state again.
    """
    with transaction(db) as conn:
        settle_in(
            conn,
            client_id,
            outcome,
            reason,
            version=version,
            message_id=message_id,
            current=current,
        )


def settle_in(
    conn: sqlite3.Connection,
    client_id: str,
    outcome: Outcome,
    reason: str | None = None,
    *,
    version: int | None = None,
    message_id: int | None = None,
    current: dict[str, Any] | None = None,
) -> None:
    cursor = conn.execute(
        "SELECT * FROM outbox WHERE client_id = ? AND state = 'queued'", (client_id,)
    )
    found = _rows(cursor)
    if not found:
        return
    row = found[0]
    ticket_id, seq = row["ticket_id"], row["seq"]
    if outcome in (Outcome.APPLIED, Outcome.DUPLICATE):
        _settle_applied(conn, row, version, message_id)
    elif outcome is Outcome.REJECTED:
        conn.execute(
            "UPDATE outbox SET state = 'rejected', last_error = ? WHERE seq = ?",
            (reason or "rejected", seq),
        )
    elif outcome is Outcome.CONFLICT:
        record_conflict(conn, row, reason=reason, version=version, current=current)
        conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
        if current is not None:
            _take_server_state(conn, current)
    else:
        raise ValueError(f"unknown outcome {outcome}")
    rebuild(conn, ticket_id)


def _settle_applied(
    conn: sqlite3.Connection, row: dict[str, Any], version: int | None, message_id: int | None
) -> None:
    seq = row["seq"]
    _rebase_later(conn, row, version)
    if row["type"] in MESSAGE_TYPES:
        arrived = (
            message_id is not None
            and conn.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone()
        )
        if message_id is None or arrived:
            # The server's copy is here (or, from a server that names no message id, will
            # come with the next pull): the local copy goes now.
            drop_local_message(conn, -seq)
            conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            return
        _mark_applied(conn, seq, version, message_id)  # until the server's copy arrives
        return
    base = read_base(conn, row["ticket_id"])
    if version is None or (base is not None and base["version"] >= version):
        conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))  # the store has its effect
        return
    _mark_applied(conn, seq, version, None)


def _rebase_later(conn: sqlite3.Connection, row: dict[str, Any], version: int | None) -> None:
    """Our own later changes of a field this one may have changed were made on top of it:
    rebase them on its result version, or the server would call them conflicts with
    ourselves. (Accepted cost: a reply rebases a later status change even when it did not
    open the ticket, so a third party's status change in between goes undetected.)"""
    fields = TOUCHES.get(row["type"], ())
    if version is None or not fields:
        return
    conn.executemany(
        "UPDATE outbox SET base_version = max(coalesce(base_version, 0), ?)"
        " WHERE ticket_id = ? AND type = ? AND state = 'queued' AND seq > ?",
        [(version, row["ticket_id"], str(field), row["seq"]) for field in fields],
    )


def _mark_applied(
    conn: sqlite3.Connection, seq: int, version: int | None, message_id: int | None
) -> None:
    conn.execute(
        "UPDATE outbox SET state = 'applied', result_version = ?, message_id = ?,"
        " last_error = NULL WHERE seq = ?",
        (version, message_id, seq),
    )


def drop_local_message(conn: sqlite3.Connection, message_id: int) -> None:
    found = conn.execute("SELECT body FROM messages WHERE id = ?", (message_id,)).fetchone()
    if found is None:
        return
    unindex_message(conn, message_id, indexed_source(found[0]))
    conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))


def _take_server_state(conn: sqlite3.Connection, current: dict[str, Any]) -> None:
    """Apply the ticket state a conflict answer carries (validated like a pulled change)."""
    try:
        change = parse_changes([{"seq": 1, "kind": "ticket", "data": current}], after=0)[0]
    except WireError:
        return  # a malformed state is not applied; the change feed brings the real one
    row = local_ticket_row(change.data)
    if not store_server_state(conn, row):
        names = [name for name in row if name != "id"]
        conn.execute(
            f"UPDATE tickets SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?"
            " AND version <= ?",
            [*(row[n] for n in names), row["id"], row["version"]],
        )


def _ticket(conn: sqlite3.Connection, ticket_id: int) -> dict[str, Any]:
    cursor = conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
    row = cursor.fetchone()
    if row is None:
        raise MutationError(f"ticket {ticket_id}: no such ticket in the local store")
    return dict(zip([column[0] for column in cursor.description], row, strict=True))
