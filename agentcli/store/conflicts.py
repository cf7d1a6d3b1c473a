"""Conflict records: a compare-and-set change that lost a race, kept so the user decides.

The server answered "conflict": someone changed the same field after the version the user
saw. The store already shows the server's value; the user's intent waits here until they
re-apply it (a new mutation against the current version) or discard it. Never dropped silently.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

from agentcli.domain.clock import now_epoch
from agentcli.domain.mutations import Mutation, MutationType
from agentcli.store.db import transaction


class ConflictError(LookupError):
    """No open conflict with that id."""


def record_conflict(
    conn: sqlite3.Connection,
    outbox_row: dict[str, Any],
    *,
    reason: str | None,
    version: int | None,
    current: dict[str, Any] | None,
) -> int:
    payload = outbox_row["payload"]
    cursor = conn.execute(
        "INSERT OR IGNORE INTO conflicts(client_id, type, ticket_id, base_version, payload,"
        " reason, server_version, server_state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            outbox_row["client_id"],
            outbox_row["type"],
            outbox_row["ticket_id"],
            outbox_row["base_version"],
            payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False),
            reason,
            version,
            None if current is None else json.dumps(current, ensure_ascii=False),
            now_epoch(),
        ),
    )
    return int(cursor.lastrowid or 0)


def _records(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [column[0] for column in cursor.description]
    out = []
    for row in cursor.fetchall():
        item = dict(zip(names, row, strict=True))
        item["payload"] = json.loads(item["payload"])
        item["server_state"] = json.loads(item["server_state"] or "null")
        out.append(item)
    return out


def list_conflicts(db: sqlite_utils.Database, *, everything: bool = False) -> list[dict[str, Any]]:
    """Open conflicts, oldest first (`everything`: resolved ones too)."""
    where = "" if everything else "WHERE state = 'open'"
    return _records(db.conn.execute(f"SELECT * FROM conflicts {where} ORDER BY id"))


def open_count(db: sqlite_utils.Database) -> int:
    found = db.conn.execute("SELECT count(*) FROM conflicts WHERE state = 'open'").fetchone()
    return int(found[0])


def _open(conn: sqlite3.Connection, conflict_id: int) -> dict[str, Any]:
    found = _records(
        conn.execute("SELECT * FROM conflicts WHERE id = ? AND state = 'open'", (conflict_id,))
    )
    if not found:
        raise ConflictError(f"no open conflict {conflict_id}")
    return found[0]


def reapply(db: sqlite_utils.Database, conflict_id: int, *, author: str) -> Mutation:
    """Queue the intent again against the ticket's current version; return the new mutation."""
    # Imported here: the outbox records conflicts, so a top-level import would be circular.
    from agentcli.store.outbox import enqueue_in

    with transaction(db) as conn:
        record = _open(conn, conflict_id)
        found = conn.execute("SELECT version FROM tickets WHERE id = ?", (record["ticket_id"],))
        version = found.fetchone()
        # A move's `expect` (what the supervisor saw then) no longer holds by definition:
        # re-applying means they have seen the newer state (agentcli.server.moves).
        payload = {k: v for k, v in record["payload"].items() if k != "expect"}
        mutation = Mutation(
            MutationType(record["type"]),
            record["ticket_id"],
            None if version is None else int(version[0]),
            payload,
        )
        enqueue_in(conn, mutation, author=author)
        conn.execute(
            "UPDATE conflicts SET state = 'reapplied', resolved_at = ?, reapplied_as = ?"
            " WHERE id = ?",
            (now_epoch(), mutation.client_id, conflict_id),
        )
    return mutation


def discard(db: sqlite_utils.Database, conflict_id: int) -> None:
    with transaction(db) as conn:
        _open(conn, conflict_id)
        conn.execute(
            "UPDATE conflicts SET state = 'discarded', resolved_at = ? WHERE id = ?",
            (now_epoch(), conflict_id),
        )
