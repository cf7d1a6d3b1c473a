"""Reading a ticket's audit trail (the `ticket_events` the change feed brings), newest first.

Pages are keyset ranges of the (ticket_id, id) index: `before` is the id of the oldest event
already shown, so the next page costs the same however long the trail is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils

PAGE = 200


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    ticket_id: int
    at: int  # Unix seconds
    actor: str
    client: str | None
    field: str
    old: str | None
    new: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    events: list[Event]
    # Pass as `before` for the next (older) page; None when this page reached the oldest.
    next_before: int | None


def ticket_history(
    db: sqlite_utils.Database, ticket_id: int, *, limit: int = PAGE, before: int | None = None
) -> HistoryPage:
    """Up to `limit` events of the ticket older than event id `before`, newest first."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    rows = db.conn.execute(
        "SELECT id, ticket_id, at, actor, client, field, old, new FROM ticket_events"
        " WHERE ticket_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
        (ticket_id, before if before is not None else 2**63 - 1, limit + 1),
    ).fetchall()
    events = [Event(*row) for row in rows[:limit]]
    more = len(rows) > limit
    return HistoryPage(events, events[-1].id if more else None)


def ticket_exists(db: sqlite_utils.Database, ticket_id: int) -> bool:
    return (
        db.conn.execute("SELECT 1 FROM tickets WHERE id = ?", (ticket_id,)).fetchone() is not None
    )
