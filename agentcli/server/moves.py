"""The guard on a supervisor's move: skip it when the ticket moved on since they decided.

An `assign` is compare-and-set on the assignee only, so a plain reassignment based on version
v still applies after an agent replied at v+1. A supervisor moving tickets in bulk must not
pull a ticket from under an agent who is answering it, so a move may carry what it was decided
on, `payload.expect`:

    {"assignee": "olena" | null, "seen_message": 1234}

and conflicts (skipped, listed to the supervisor, never applied) when the ticket's assignee is
no longer that one, or an agent wrote on it after the last message the supervisor had seen.
Customer messages do not count: a customer writing in is no reason to keep a ticket put.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, select

from agentcli.domain.vocabulary import AuthorKind
from agentcli.server.schema import messages


def moved_on(conn: Connection, ticket: RowMapping, payload: dict[str, Any]) -> str | None:
    """Why the move's expectation no longer holds, or None (no expectation, or it holds)."""
    expect = payload.get("expect")
    if not isinstance(expect, dict):
        return None
    if "assignee" in expect and ticket["assignee"] != expect["assignee"]:
        return f"now assigned to {ticket['assignee'] or 'nobody'}"
    seen = expect.get("seen_message")
    if isinstance(seen, int) and not isinstance(seen, bool):
        # messages_by_ticket(ticket_id, id): one index seek.
        author = conn.execute(
            select(messages.c.author)
            .where(
                messages.c.ticket_id == ticket["id"],
                messages.c.id > seen,
                messages.c.author_kind == str(AuthorKind.AGENT),
            )
            .limit(1)
        ).scalar_one_or_none()
        if author is not None:
            return f"{author} wrote on it since"
    return None
