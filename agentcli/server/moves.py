"""The guard on a supervisor's move: skip it when the ticket moved on since they decided.

An `assign` is compare-and-set on the assignee only, so a plain reassignment based on version
v still applies after an agent replied at v+1. A supervisor moving tickets in bulk must not
pull a ticket from under an agent who is answering it, so a move may carry what it was decided
on, `payload.expect`:

    {"assignee": "olena" | null, "seen_message": 1234}

and conflicts (skipped, listed to the supervisor, never applied) when the ticket's assignee is
no longer that one, or an agent wrote on it after the last message the supervisor had seen.
Customer messages do not count: a customer writing in is no reason to keep a ticket put.

The other order, the move first and then the agent's reply written before they could know, must
not lose the reply either: `wrote_while_theirs` lets an agent's message through when the
ticket was theirs at the version they wrote on (the last assignee change, after that version,
took it from them; read from the audit trail, one index seek).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, select, text

from agentcli.domain.mutations import APPEND_ONLY, MutationType
from agentcli.domain.vocabulary import AuthorKind
from agentcli.server.schema import messages, ticket_events

# (ticket id, the last message id the supervisor saw) -> an agent who wrote after it, or None.
WroteSince = Callable[[int, int], str | None]

# Built once: constructing a Core statement per mutation cost ~0.3 ms of a ~3 ms apply.
# The first agent message after the one the supervisor saw (messages_by_ticket: one seek).
_AGENT_WROTE_SINCE = (
    select(messages.c.author)
    .where(
        messages.c.ticket_id == bindparam("ticket_id"),
        messages.c.id > bindparam("seen"),
        messages.c.author_kind == str(AuthorKind.AGENT),
    )
    .order_by(messages.c.id)
    .limit(1)
)
# Who held the ticket before its latest assignee change (the audit trail, by ticket).
_PREVIOUS_ASSIGNEE = (
    select(ticket_events.c.old)
    .where(
        ticket_events.c.ticket_id == bindparam("ticket_id"),
        ticket_events.c.field == "assignee",
    )
    .order_by(ticket_events.c.id.desc())
    .limit(1)
)
# Checks per `agents_wrote_since` statement: 2 parameters each, far below either backend's cap.
_CHECKS_PER_STATEMENT = 500


# Message ids are 64-bit integers in both databases: a larger one cannot even be compared.
MAX_MESSAGE_ID = 2**63 - 1


def _is_message_id(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_MESSAGE_ID


def expectation_problem(payload: Mapping[str, Any]) -> str | None:
    """What is wrong with `payload.expect`, or None (absent, or well formed)."""
    expect = payload.get("expect")
    if expect is None:
        return None
    if not isinstance(expect, dict):
        return "payload.expect must be an object"
    seen = expect.get("seen_message")
    if seen is not None and not _is_message_id(seen):
        return f"payload.expect.seen_message must be a message id (0 to {MAX_MESSAGE_ID})"
    if not isinstance(expect.get("assignee"), str | None):
        return "payload.expect.assignee must be a login or null"
    return None


def seen_message(payload: Mapping[str, Any]) -> int | None:
    """The last message the move's supervisor saw, when the move is checked against it."""
    expect = payload.get("expect")
    seen = expect.get("seen_message") if isinstance(expect, dict) else None
    return seen if _is_message_id(seen) else None


def moved_on(
    ticket: Mapping[str, Any], payload: dict[str, Any], wrote_since: WroteSince
) -> str | None:
    """Why the move's expectation no longer holds, or None (no expectation, or it holds)."""
    expect = payload.get("expect")
    if not isinstance(expect, dict):
        return None
    # Unassigned is NULL or '' depending on how the ticket was made (the demo seed writes '').
    if "assignee" in expect and (ticket["assignee"] or None) != (expect["assignee"] or None):
        return f"now assigned to {ticket['assignee'] or 'nobody'}"
    seen = seen_message(payload)
    if seen is not None:
        author = wrote_since(ticket["id"], seen)
        if author is not None:
            return f"{author} wrote on it since"
    return None


def wrote_since_reader(conn: Connection) -> WroteSince:
    """`WroteSince` reading each check when asked (one index seek)."""

    def wrote_since(ticket_id: int, seen: int) -> str | None:
        params = {"ticket_id": ticket_id, "seen": seen}
        return conn.execute(_AGENT_WROTE_SINCE, params).scalar_one_or_none()

    return wrote_since


def agents_wrote_since(conn: Connection, checks: Iterable[tuple[int, int]]) -> WroteSince:
    """`WroteSince` for a run's (ticket, seen) checks, read at once (the same seek per check,
    one statement for up to 500): valid while no message is written after it.
    """
    pairs = list(dict.fromkeys(checks))
    found: dict[tuple[int, int], str] = {}
    for start in range(0, len(pairs), _CHECKS_PER_STATEMENT):
        chunk = pairs[start : start + _CHECKS_PER_STATEMENT]
        params: dict[str, int] = {}
        for n, (ticket_id, seen) in enumerate(chunk):
            params |= {f"t{n}": ticket_id, f"s{n}": seen}
        # BIGINT as the one-at-a-time statement binds them: a seen id past 64 bits fails the
        # same way on PostgreSQL instead of comparing as numeric.
        rows = ", ".join(
            f"(CAST(:t{n} AS BIGINT), CAST(:s{n} AS BIGINT))" for n in range(len(chunk))
        )
        query = text(
            f"WITH checks(ticket_id, seen) AS (VALUES {rows}) "
            "SELECT ticket_id, seen, (SELECT m.author FROM messages m"
            " WHERE m.ticket_id = checks.ticket_id AND m.id > checks.seen"
            f" AND m.author_kind = '{AuthorKind.AGENT}' ORDER BY m.id LIMIT 1) FROM checks"
        )
        found |= {(t, s): a for t, s, a in conn.execute(query, params) if a is not None}
    return lambda ticket_id, seen: found.get((ticket_id, seen))


def wrote_while_theirs(
    conn: Connection,
    agent: Mapping[str, Any],
    ticket: Mapping[str, Any],
    kind: MutationType,
    base_version: int | None,
) -> bool:
    """A message by an agent who held the ticket at `base_version` and lost it after that."""
    if kind not in APPEND_ONLY or base_version is None:
        return False
    if ticket["assignee_version"] <= base_version:
        return False  # the assignee they saw is the current one: nothing was taken from them
    previous = conn.execute(_PREVIOUS_ASSIGNEE, {"ticket_id": ticket["id"]}).scalar_one_or_none()
    return previous is not None and previous == agent["login"]
