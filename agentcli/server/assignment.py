"""Auto-assignment of new tickets in the queues that ask for it.

Among the active agents (role agent) serving the queue who speak the ticket's language
(`zh-CN` matches an agent listing `zh-CN` or `zh`) and are under capacity, pick the least
loaded (unresolved tickets assigned to them); among equals, the one whose last auto-assigned
turn is oldest (round-robin). Runs inside the ticket-creating write transaction, which is
serialized across processes, so two servers never both hand out the same turn.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, func, select

from agentcli.domain.vocabulary import Role, Status
from agentcli.server.schema import agents, assignment_turns, tickets


def speaks(languages: list[str], language: str) -> bool:
    base = language.split("-")[0].lower()
    return any(lang.lower() in (language.lower(), base) for lang in languages)


def pick_assignee(conn: Connection, queue: str, language: str) -> str | None:
    rows = conn.execute(
        select(agents.c.login, agents.c.languages, agents.c.queues, agents.c.capacity).where(
            agents.c.active.is_(True), agents.c.role == str(Role.AGENT)
        )
    ).all()
    eligible = {
        row.login: row.capacity
        for row in rows
        if queue in json.loads(row.queues) and speaks(json.loads(row.languages), language)
    }
    if not eligible:
        return None
    unresolved = [str(s) for s in Status if s.is_unresolved]
    loads = dict(
        conn.execute(
            select(tickets.c.assignee, func.count())
            .where(tickets.c.assignee.in_(eligible), tickets.c.status.in_(unresolved))
            .group_by(tickets.c.assignee)
        ).all()
    )
    turns = dict(
        conn.execute(
            select(assignment_turns.c.login, assignment_turns.c.last_turn).where(
                assignment_turns.c.login.in_(eligible)
            )
        ).all()
    )
    open_seats = [login for login, cap in eligible.items() if loads.get(login, 0) < cap]
    if not open_seats:
        return None
    return min(open_seats, key=lambda login: (loads.get(login, 0), turns.get(login, 0), login))


def record_turn(conn: Connection, login: str) -> None:
    """Mark `login` as served now: the next turn number is one past the newest."""
    turn = conn.execute(
        select(func.coalesce(func.max(assignment_turns.c.last_turn), 0) + 1)
    ).scalar_one()
    updated = conn.execute(
        assignment_turns.update().where(assignment_turns.c.login == login).values(last_turn=turn)
    ).rowcount
    if not updated:
        conn.execute(assignment_turns.insert().values(login=login, last_turn=turn))
