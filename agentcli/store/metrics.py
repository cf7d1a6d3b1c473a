"""Support metrics over the local store: reports by group, backlog and first reply by day.

The cohort of a report is the tickets created in its period: one range of the
`tickets_by_created` index. Each ticket's figures come from agentcli.domain.metrics and are
kept in `metrics_tickets`, a cache of derived rows (like Zendesk's per-ticket Ticket Metrics):
a report recomputes only the tickets whose figures may have moved (new to the cache; version
or updated_at changed; a message or audit event arrived since the last report; a running SLA
target that may have become overdue), then aggregates the cohort in one GROUP BY. At 1M
tickets a 7-day cohort is ~260k tickets and ~700k public messages: recomputing all of them
takes seconds, aggregating cached rows a fraction of one (tests/benchmarks/bench_report.py).

The cache is not part of the synced schema (nothing else reads it and it can be rebuilt from
the store at any time), so it is created here rather than by a migration, and emptied when
METRICS_VERSION or the SLA policy it was computed under changes.
"""

from __future__ import annotations

import json
import sqlite3
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from agentcli.domain.metrics import (
    BusinessClock,
    Spread,
    StatusChange,
    Summary,
    Tally,
    TicketMetrics,
    Timeline,
    backlog_series,
    day_starts,
    ticket_metrics,
)
from agentcli.domain.sla_policy import TARGETS, SlaConfig
from agentcli.domain.vocabulary import Priority, Status
from agentcli.store.inbox import Db, connection

# Bump when a definition in domain/metrics.py changes: cached figures are then recomputed.
METRICS_VERSION = 3
# --by name -> the ticket column it groups on.
GROUPS = {
    "agent": "assignee",
    "queue": "queue",
    "channel": "channel",
    "language": "language",
    "case": "case_type",
}
NO_GROUP = {"agent": "(unassigned)", "case": "(no case)"}
_UNRESOLVED = tuple(str(s) for s in Status if s.is_unresolved)
_RESOLVED = tuple(str(s) for s in Status if not s.is_unresolved)
# Tickets computed per write transaction: a cold 1M-ticket report still yields the lock often.
WRITE_CHUNK = 20_000
# Business-hours lookups are precomputed from this long before a cohort starts (a clock
# paused then resumed is looked up no earlier than creation) to this long after now.
_CLOCK_SLACK = 400 * 86_400

# Aggregated columns, in the order every covering index below ends with.
_FIGURES = (
    "first_reply", "next_replies", "resolution", "first_reply_met", "next_reply_met",
    "next_reply_judged", "resolution_met", "solved", "one_touch", "reopened", "good", "bad",
)  # fmt: skip
_CACHE_SCHEMA = [
    "CREATE TABLE metrics_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE metrics_tickets (
    ticket_id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,                   -- the ticket's version and updated_at when
    updated_at INTEGER NOT NULL,                -- computed: a change to either recomputes
    recheck_at INTEGER,                         -- a running target may be overdue from here
    created_at INTEGER NOT NULL,                -- the ticket's, and its group keys
    assignee TEXT NOT NULL,
    queue TEXT NOT NULL,
    channel TEXT NOT NULL,
    language TEXT NOT NULL,
    case_type TEXT,
    first_reply INTEGER,                        -- business seconds
    next_replies TEXT,                          -- business seconds, comma separated
    resolution INTEGER,                         -- business seconds to the latest solve
    first_reply_met INTEGER,                    -- 1 met, 0 missed, NULL not decided
    next_reply_met INTEGER NOT NULL,            -- next-reply instances met / decided
    next_reply_judged INTEGER NOT NULL,
    resolution_met INTEGER,
    solved INTEGER NOT NULL,
    one_touch INTEGER NOT NULL,
    reopened INTEGER NOT NULL,                  -- solved now, and reopened at least once
    good INTEGER NOT NULL,                      -- latest rating good / bad (0, 0: none)
    bad INTEGER NOT NULL
    )""",
    # One covering index per grouping, in group order: a report's GROUP BY walks it without
    # a sort or a table lookup (a temp-B-tree GROUP BY over the 260k rows of a 7-day cohort
    # at 1M tickets took twice as long).
    *(
        f"CREATE INDEX metrics_by_{by} ON metrics_tickets"
        f"({column}, created_at, {', '.join(_FIGURES)})"
        for by, column in GROUPS.items()
    ),
]
_INSERT = (
    "INSERT OR REPLACE INTO metrics_tickets(ticket_id, version, updated_at, created_at,"
    f" {', '.join(GROUPS.values())}, recheck_at, {', '.join(_FIGURES)})"
    f" VALUES ({', '.join('?' * (10 + len(_FIGURES)))})"
)


@dataclass(frozen=True, slots=True)
class GroupRow:
    key: str
    summary: Summary


@dataclass(frozen=True, slots=True)
class Report:
    by: str
    start: int
    end: int
    rows: list[GroupRow]  # by ticket count, largest first
    total: Summary
    recomputed: int  # tickets whose cached figures were refreshed for this report


def _fingerprint(config: SlaConfig) -> str:
    calendar = config.calendar
    return json.dumps(
        [
            METRICS_VERSION,
            str(calendar.zone),
            sorted((day, sorted(spans)) for day, spans in calendar.weekly.items()),
            sorted(str(day) for day in calendar.holidays),
            [
                [
                    sorted(policy.priorities) if policy.priorities is not None else None,
                    sorted(policy.tiers) if policy.tiers is not None else None,
                    [getattr(policy.targets, t) for t in TARGETS],
                ]
                for policy in config.policies
            ],
        ]
    )


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM metrics_meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def _set_meta(conn: sqlite3.Connection, key: str, value: str | int) -> None:
    conn.execute(
        "INSERT INTO metrics_meta(key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, str(value)),
    )


def _max_id(conn: sqlite3.Connection, table: str) -> int:
    return conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]


_WATERMARKS = (("messages", "messages_seen"), ("ticket_events", "events_seen"))


def _forget_touched(conn: sqlite3.Connection) -> None:
    """Drop cached figures of tickets that got messages or audit events since last time.

    Both tables only grow by id (server ids), so the ids past a watermark are one range.
    """
    for table, key in _WATERMARKS:
        newest = _max_id(conn, table)
        seen = _meta(conn, key)
        if seen is not None and newest > int(seen):
            conn.execute(
                "DELETE FROM metrics_tickets WHERE ticket_id IN"
                f" (SELECT ticket_id FROM {table} WHERE id > ?)",
                (int(seen),),
            )
        _set_meta(conn, key, newest)


@contextmanager
def _writing(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _ensure_cache(conn: sqlite3.Connection) -> None:
    """Create the cache, or start it afresh when this code's METRICS_VERSION differs."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'metrics_meta'"
    ).fetchone()
    if exists and _meta(conn, "schema") == str(METRICS_VERSION):
        return
    with _writing(conn):
        conn.execute("DROP TABLE IF EXISTS metrics_tickets")
        conn.execute("DROP TABLE IF EXISTS metrics_meta")
        for statement in _CACHE_SCHEMA:
            conn.execute(statement)
        _set_meta(conn, "schema", METRICS_VERSION)


def refresh(
    db: Db,
    config: SlaConfig,
    start: int,
    end: int,
    now: int,
    clock: BusinessClock,
    on_compute: Callable[[int], None] | None = None,
) -> int:
    """Bring the cached figures of tickets created in [start, end) up to date; return how
    many were recomputed (`on_compute` hears that number before the work starts).

    Computing is done outside any write transaction and stored WRITE_CHUNK tickets at a time,
    so a cold report over 100,000s of tickets never holds the store's write lock for long
    (the sync writes to the same file). A ticket that changes meanwhile is stored with the
    version it was computed from, and so is recomputed by the next report.
    """
    conn = connection(db)
    _ensure_cache(conn)
    fingerprint = _fingerprint(config)
    watermarks = [(str(_max_id(conn, table)), key) for table, key in _WATERMARKS]
    moved = _meta(conn, "policy") != fingerprint or any(
        _meta(conn, key) != newest for newest, key in watermarks
    )
    if moved:  # else no write transaction at all: a warm report only reads
        with _writing(conn):
            if _meta(conn, "policy") != fingerprint:
                conn.execute("DELETE FROM metrics_tickets")
                _set_meta(conn, "policy", fingerprint)
            # Watermarks move before anything is read: what arrives later is seen next time.
            _forget_touched(conn)
    # INDEXED BY: with statistics the planner may prefer a full scan for a wide range.
    stale = [
        row[0]
        for row in conn.execute(
            "SELECT t.id FROM tickets t INDEXED BY tickets_by_created"
            " LEFT JOIN metrics_tickets m ON m.ticket_id = t.id"
            " WHERE t.created_at >= ? AND t.created_at < ? AND (m.ticket_id IS NULL"
            " OR m.version != t.version OR m.updated_at != t.updated_at"
            " OR m.recheck_at <= ?)",
            (start, end, now),
        )
    ]
    if on_compute is not None and stale:
        on_compute(len(stale))
    for first in range(0, len(stale), WRITE_CHUNK):
        rows = list(_compute(conn, config, stale[first : first + WRITE_CHUNK], now, clock))
        with _writing(conn):
            conn.executemany(_INSERT, rows)
    return len(stale)


def _compute(
    conn: sqlite3.Connection,
    config: SlaConfig,
    ids: list[int],
    now: int,
    clock: BusinessClock,
) -> Iterable[tuple[object, ...]]:
    # The ids go through a temp table (no write lock: temp is private to the connection);
    # CROSS JOIN keeps it the outer loop, so each ticket's rows are an index range even when
    # the planner's statistics (there are none for the temp table) would suggest a scan.
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS metrics_ids (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.metrics_ids")
    conn.executemany("INSERT INTO temp.metrics_ids(id) VALUES (?)", ((i,) for i in ids))
    posts: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    # Public messages the customer saw: notes, system events and unsent local replies
    # (pending) are not replies.
    for ticket_id, at, by_agent in conn.execute(
        "SELECT m.ticket_id, m.created_at, m.author_kind = 'agent' FROM temp.metrics_ids i"
        " CROSS JOIN messages m ON m.ticket_id = i.id"
        " WHERE m.kind = 'public' AND m.author_kind != 'system' AND m.pending = 0"
    ):
        posts[ticket_id].append((at, bool(by_agent)))
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    csat: dict[int, str] = {}
    for ticket_id, field, at, old, new in conn.execute(
        "SELECT e.ticket_id, e.field, e.at, e.old, e.new FROM temp.metrics_ids i"
        " CROSS JOIN ticket_events e ON e.ticket_id = i.id"
        " WHERE e.field IN ('status', 'csat') ORDER BY e.ticket_id, e.id"
    ):
        if field == "status":
            changes[ticket_id].append(StatusChange(at, old or "", new or ""))
        else:
            csat[ticket_id] = new
    targets_for = {}
    for ticket_id, created, status, updated, version, priority, tier, *keys in conn.execute(
        "SELECT t.id, t.created_at, t.status, t.updated_at, t.version, t.priority,"
        f" coalesce(c.tier, 'regular'), {', '.join('t.' + c for c in GROUPS.values())}"
        " FROM temp.metrics_ids i CROSS JOIN tickets t ON t.id = i.id"
        " LEFT JOIN customers c ON c.id = t.requester_id"
    ):
        key = (priority, tier)
        targets = targets_for.get(key)
        if targets is None:
            targets = targets_for[key] = config.targets(Priority.from_rank(priority), tier)
        ticket_posts = posts.get(ticket_id, [])
        ticket_posts.sort()
        ticket_changes = changes.get(ticket_id, [])
        ticket_changes.sort(key=lambda c: c.at)
        timeline = Timeline(
            created, status, updated, ticket_posts, ticket_changes, csat.get(ticket_id)
        )
        figures = ticket_metrics(timeline, targets, clock, now)
        yield (ticket_id, version, updated, created, *keys, figures.recheck_at, *_row(figures))


def _row(m: TicketMetrics) -> tuple[object, ...]:
    met = dict.fromkeys(TARGETS, 0)
    judged = dict.fromkeys(TARGETS, 0)
    for name, ok in m.sla:
        judged[name] += 1
        met[name] += ok
    return (
        m.first_reply,
        ",".join(map(str, m.next_replies)) or None,
        m.resolution,
        met["first_reply"] if judged["first_reply"] else None,
        met["next_reply"],
        judged["next_reply"],
        met["resolution"] if judged["resolution"] else None,
        int(m.solved),
        int(m.one_touch),
        int(m.solved and m.reopens > 0),
        int(m.csat == "good"),
        int(m.csat == "bad"),
    )


def business_clock(config: SlaConfig, start: int, now: int) -> BusinessClock:
    return BusinessClock(config.calendar, start - _CLOCK_SLACK, now + _CLOCK_SLACK)


def _ints(text: str | None) -> list[int]:
    return list(map(int, text.split(","))) if text else []


def report(
    db: Db,
    config: SlaConfig,
    *,
    by: str,
    start: int,
    end: int,
    now: int,
    on_compute: Callable[[int], None] | None = None,
) -> Report:
    """Figures for tickets created in [start, end), grouped `by` one of GROUPS."""
    column = GROUPS[by]
    clock = business_clock(config, start, now)
    recomputed = refresh(db, config, start, end, now, clock, on_compute)
    sql = f"""
        SELECT {column}, count(*), group_concat(first_reply), group_concat(next_replies),
            group_concat(resolution), count(first_reply_met), sum(first_reply_met),
            sum(next_reply_judged), sum(next_reply_met), count(resolution_met),
            sum(resolution_met), sum(solved), sum(one_touch), sum(reopened), sum(good), sum(bad)
        FROM metrics_tickets INDEXED BY metrics_by_{by}
        WHERE created_at >= ? AND created_at < ?
        GROUP BY 1
    """
    total = Tally()
    rows = []
    for record in connection(db).execute(sql, (start, end)):
        (key, tickets, first, nexts, resolutions, fr_judged, fr_met, nr_judged, nr_met,
         res_judged, res_met, solved, one_touch, reopened, good, bad) = record  # fmt: skip
        tally = Tally(
            tickets=tickets,
            first_reply=_ints(first),
            next_reply=_ints(nexts),
            resolution=_ints(resolutions),
            met={"first_reply": fr_met or 0, "next_reply": nr_met, "resolution": res_met or 0},
            judged={"first_reply": fr_judged, "next_reply": nr_judged, "resolution": res_judged},
            solved=solved,
            one_touch=one_touch,
            reopened=reopened,
            good=good,
            bad=bad,
            backlog=tickets - solved,
        )
        name = key if key else NO_GROUP.get(by, "(none)")
        rows.append(GroupRow(name, tally.summary()))
        total.merge(tally)
    rows.sort(key=lambda row: (-row.summary.tickets, row.key))
    return Report(by, start, end, rows, total.summary(), recomputed)


def _sorted_column(conn: sqlite3.Connection, sql: str, args: Sequence[object]) -> list[int]:
    return sorted(row[0] for row in conn.execute(sql, args))


def backlog_by_day(db: Db, config: SlaConfig, start: int, now: int) -> list[tuple[int, int]]:
    """(local midnight, unresolved tickets then) for each day from `start` to now.

    Walks back from the unresolved count now (view_counts, no scan): each earlier backlog is
    that minus what was created and reopened since, plus what was solved since. All ranges
    lie inside the period: tickets created since, status events since (field, at), and
    tickets solved before the audit trail existed, whose last update stands in for the solve.
    """
    conn = connection(db)
    marks = day_starts(config.calendar.zone, start, now)
    if not marks:
        return []
    since = marks[0]
    unresolved_q = ",".join("?" * len(_UNRESOLVED))
    open_now = conn.execute(
        f"SELECT coalesce(sum(n), 0) FROM view_counts WHERE status IN ({unresolved_q})", _UNRESOLVED
    ).fetchone()[0]
    created = _sorted_column(conn, "SELECT created_at FROM tickets WHERE created_at > ?", (since,))
    solved: list[int] = []
    reopened: list[int] = []
    for at, old, new in conn.execute(
        "SELECT at, old, new FROM ticket_events WHERE field = 'status' AND at > ?", (since,)
    ):
        if new in _RESOLVED and old not in _RESOLVED:
            solved.append(at)
        elif old in _RESOLVED and new not in _RESOLVED:
            reopened.append(at)
    resolved_q = ",".join("?" * len(_RESOLVED))
    solved += [
        row[0]
        for row in conn.execute(
            f"SELECT updated_at FROM tickets t WHERE updated_at > ? AND status IN ({resolved_q})"
            " AND NOT EXISTS (SELECT 1 FROM ticket_events e"
            " WHERE e.ticket_id = t.id AND e.field = 'status')",
            (since, *_RESOLVED),
        )
    ]
    solved.sort()
    reopened.sort()

    def after(values: list[int], moment: int) -> int:
        return len(values) - bisect_right(values, moment)

    net = [after(created, m) + after(reopened, m) - after(solved, m) for m in marks]
    return list(zip(marks, backlog_series(open_now, net), strict=True))


def first_reply_by_day(
    db: Db, config: SlaConfig, start: int, now: int
) -> list[tuple[int, float | None]]:
    """(local midnight, median first reply time in business seconds of the tickets created
    that day) for each day from `start` to now; None for a day with no replied ticket."""
    conn = connection(db)
    marks = day_starts(config.calendar.zone, start, now)
    if not marks:
        return []
    refresh(db, config, marks[0], now + 1, now, business_clock(config, marks[0], now))
    by_day: dict[int, list[int]] = defaultdict(list)
    for created, seconds in conn.execute(
        "SELECT t.created_at, m.first_reply FROM tickets t INDEXED BY tickets_by_created"
        " JOIN metrics_tickets m ON m.ticket_id = t.id"
        " WHERE t.created_at >= ? AND m.first_reply IS NOT NULL",
        (marks[0],),
    ):
        by_day[bisect_right(marks, created) - 1].append(seconds)
    return [(mark, Spread.of(by_day.get(index, [])).median) for index, mark in enumerate(marks)]
