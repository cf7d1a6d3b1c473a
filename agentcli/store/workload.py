"""The supervisor board: per-agent and per-queue workload, read from the local store.

Every figure must stay cheap at 1M tickets, so nothing here scans the tickets table:
- status counts come from the trigger-maintained `view_counts` table (a few hundred rows);
- at-risk and breached are index range counts on `tickets_by_assignee_sla(assignee, sla_due)`
  and `tickets_by_queue_sla(queue, sla_due)` (index-only, no row lookups);
- oldest waiting and the channel mix are read from the unassigned, unresolved tickets only
  (the partial index `tickets_waiting`, index-only): the queue's waiting line.
- last activity: `max(at)` per actor from `ticket_events` (index on actor, at) once that table
  exists; the store had no cheap source before it (messages have no author index), so the
  column stays empty until then rather than cost a scan of every message.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from agentcli.domain.clock import now_epoch
from agentcli.domain.vocabulary import Status
from agentcli.store.inbox import Db, connection

# Due within this many seconds and not yet breached: the "SLA at risk" view's window.
AT_RISK_SECONDS = 3600
UNRESOLVED = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
UNRESOLVED_SQL = ", ".join(f"'{s}'" for s in UNRESOLVED)


@dataclass(frozen=True, slots=True)
class AgentLoad:
    login: str
    name: str
    role: str
    languages: tuple[str, ...]
    capacity: int
    queues: tuple[str, ...]
    active: bool
    counts: dict[str, int]  # status -> tickets assigned
    at_risk: int
    breached: int
    last_activity: int | None  # epoch seconds; None when unknown

    @property
    def open(self) -> int:
        return self.counts.get(Status.NEW, 0) + self.counts.get(Status.OPEN, 0)

    @property
    def pending(self) -> int:
        return self.counts.get(Status.PENDING, 0) + self.counts.get(Status.ON_HOLD, 0)

    @property
    def load(self) -> int:
        """Unresolved tickets held: what capacity is measured against."""
        return self.open + self.pending


@dataclass(frozen=True, slots=True)
class QueueLoad:
    queue: str
    volume: int  # unresolved tickets in the queue
    unassigned: int  # of those, nobody's
    oldest_waiting: int | None  # created_at of the oldest unassigned unresolved ticket
    at_risk: int
    breached: int
    by_channel: dict[str, int] = field(default_factory=dict)  # unassigned unresolved


@dataclass(frozen=True, slots=True)
class Board:
    now: int
    agents: list[AgentLoad]
    queues: list[QueueLoad]
    unassigned_at_risk: int
    unassigned_breached: int


def _sla_counts(conn: sqlite3.Connection, column: str, key: str, now: int) -> tuple[int, int]:
    """(at risk, breached) for one assignee or queue: two index range counts."""
    # `column` is one of two fixed names (never user input); the values are parameters.
    sql = f"SELECT count(*) FROM tickets WHERE {column} = ? AND sla_due > ? AND sla_due <= ?"
    at_risk = conn.execute(sql, (key, now, now + AT_RISK_SECONDS)).fetchone()[0]
    breached = conn.execute(
        f"SELECT count(*) FROM tickets WHERE {column} = ? AND sla_due <= ?", (key, now)
    ).fetchone()[0]
    return int(at_risk), int(breached)


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return found is not None


def last_activity(conn: sqlite3.Connection, logins: list[str]) -> dict[str, int]:
    """Latest change each agent made, from the audit trail's `ticket_events` when present."""
    if not has_table(conn, "ticket_events"):
        return {}
    out: dict[str, int] = {}
    for login in logins:  # one index seek each on (actor, at)
        found = conn.execute("SELECT max(at) FROM ticket_events WHERE actor = ?", (login,))
        value = found.fetchone()[0]
        if value is not None:
            out[login] = int(value)
    return out


def _split(value: str) -> tuple[str, ...]:
    return tuple(part for part in value.split(",") if part)


def board(db: Db, *, now: int | None = None) -> Board:
    """The whole board: every agent (active first, then by login) and every queue present."""
    conn = connection(db)
    now = now_epoch() if now is None else now
    by_agent: dict[str, dict[str, int]] = {}
    volume: dict[str, int] = {}
    unassigned: dict[str, int] = {}
    for status, assignee, queue, n in conn.execute(
        "SELECT status, assignee, queue, n FROM view_counts WHERE n > 0"
    ):
        if assignee:
            counts = by_agent.setdefault(assignee, {})
            counts[status] = counts.get(status, 0) + n
        if status in UNRESOLVED:
            volume[queue] = volume.get(queue, 0) + n
            if not assignee:
                unassigned[queue] = unassigned.get(queue, 0) + n
        else:
            volume.setdefault(queue, 0)
    rows = conn.execute(
        "SELECT login, name, role, languages, capacity, queues, active FROM agents"
        " ORDER BY active DESC, login"
    ).fetchall()
    activity = last_activity(conn, [row[0] for row in rows])
    agents = []
    for login, name, role, languages, capacity, queues, active in rows:
        at_risk, breached = _sla_counts(conn, "assignee", login, now)
        agents.append(
            AgentLoad(
                login,
                name,
                role,
                _split(languages),
                int(capacity),
                _split(queues),
                bool(active),
                by_agent.get(login, {}),
                at_risk,
                breached,
                activity.get(login),
            )
        )
    waiting = _waiting(conn)
    queues = []
    for queue in sorted(volume):
        at_risk, breached = _sla_counts(conn, "queue", queue, now)
        oldest, channels = waiting.get(queue, (None, {}))
        queues.append(
            QueueLoad(
                queue, volume[queue], unassigned.get(queue, 0), oldest, at_risk, breached, channels
            )
        )
    free_risk, free_breached = _sla_counts(conn, "assignee", "", now)
    return Board(now, agents, queues, free_risk, free_breached)


def _waiting(conn: sqlite3.Connection) -> dict[str, tuple[int | None, dict[str, int]]]:
    """Per queue: the oldest unassigned unresolved ticket's created_at and their channel mix.

    Read index-only from the partial index `tickets_waiting`, which holds exactly those
    tickets; its WHERE must match the index's own, and the planner is told to use it (left to
    itself it prefers the assignee index and visits every row)."""
    out: dict[str, tuple[int | None, dict[str, int]]] = {}
    for queue, channel, n, oldest in conn.execute(
        "SELECT queue, channel, count(*), min(created_at) FROM tickets INDEXED BY"
        f" tickets_waiting WHERE assignee = '' AND status IN ({UNRESOLVED_SQL})"
        " GROUP BY queue, channel"
    ):
        first, channels = out.get(queue, (None, {}))
        channels[channel] = int(n)
        out[queue] = (oldest if first is None else min(first, oldest), channels)
    return out


def agent_role(db: Db, login: str) -> str | None:
    found = connection(db).execute("SELECT role FROM agents WHERE login = ?", (login,)).fetchone()
    return None if found is None else str(found[0])
