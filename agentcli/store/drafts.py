"""Composer drafts: saved as the agent types, so a crash or a closed terminal loses nothing.

One draft per (ticket, kind); saving an empty body deletes it. Each call is its own
autocommit statement (an upsert), cheap enough to run on every pause in typing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agentcli.domain.clock import now_epoch
from agentcli.store.inbox import Db, connection

KINDS = ("reply", "note")


@dataclass(frozen=True, slots=True)
class Draft:
    ticket_id: int
    kind: str
    body: str
    macros: list[dict[str, Any]] = field(default_factory=list)  # [{"id", "vars"}]
    updated_at: int = 0


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"draft kind must be one of {KINDS}, got {kind!r}")


def save_draft(
    db: Db,
    ticket_id: int,
    kind: str,
    body: str,
    macros: list[dict[str, Any]] | None = None,
    *,
    now: int | None = None,
) -> None:
    """Store the draft (replacing the previous one); an empty draft is deleted."""
    _check_kind(kind)
    conn = connection(db)
    if not body.strip() and not macros:
        delete_draft(db, ticket_id, kind)
        return
    conn.execute(
        "INSERT INTO drafts(ticket_id, kind, body, macros, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(ticket_id, kind) DO UPDATE SET body = excluded.body,"
        " macros = excluded.macros, updated_at = excluded.updated_at",
        (
            ticket_id,
            kind,
            body,
            json.dumps(macros or [], ensure_ascii=False),
            now_epoch() if now is None else now,
        ),
    )


def load_draft(db: Db, ticket_id: int, kind: str) -> Draft | None:
    _check_kind(kind)
    row = (
        connection(db)
        .execute(
            "SELECT body, macros, updated_at FROM drafts WHERE ticket_id = ? AND kind = ?",
            (ticket_id, kind),
        )
        .fetchone()
    )
    if row is None:
        return None
    try:
        macros = json.loads(row[1])
    except ValueError:
        macros = []
    return Draft(ticket_id, kind, row[0], macros if isinstance(macros, list) else [], row[2])


def delete_draft(db: Db, ticket_id: int, kind: str) -> None:
    _check_kind(kind)
    connection(db).execute("DELETE FROM drafts WHERE ticket_id = ? AND kind = ?", (ticket_id, kind))


def drafted_tickets(db: Db) -> list[int]:
    """Tickets with a saved draft, newest first (to offer them after a crash)."""
    rows = connection(db).execute(
        "SELECT ticket_id FROM drafts GROUP BY ticket_id ORDER BY max(updated_at) DESC"
    )
    return [row[0] for row in rows]
