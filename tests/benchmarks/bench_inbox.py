"""Inbox pages and sidebar counts at 1,000,000 tickets.

    python tests/benchmarks/bench_inbox.py --db PATH [--tickets N] [--runs N]

If PATH does not exist it is seeded with `agentcli seed --tickets N` when that command exists,
else with a quick synthetic fill (plausible distributions, tickets only, no messages).
Prints p50/p95 of the first page of typical views (with the query plan), a page 500,000 rows
deep by keyset beside OFFSET at the same depth, and all sidebar counts together.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from agentcli.domain.clock import SLA_NEVER, now_epoch
from agentcli.domain.query import parse_query
from agentcli.store.db import open_store
from agentcli.store.inbox import PageKey, choose_steer, inbox_page, page_sql
from agentcli.store.views import sidebar_counts

AGENTS = [f"agent{i:02d}" for i in range(1, 11)]
QUEUES = ["returns", "billing", "shipping", "повернення", "售后", "general"]
COMMON_TAGS = ["破损", "vip", "delay", "fragile", "repeat"]  # ~10% of tickets each
RARE_TAG = "recall"  # ~0.05%
STATUSES = (["closed"] * 55 + ["solved"] * 25 + ["open"] * 8 + ["new"] * 5 + ["pending"] * 5
            + ["on-hold"] * 2)  # fmt: skip
DEEP = 500_000


def _seed_with_cli(path: Path, tickets: int) -> bool:
    command = [sys.executable, "-m", "agentcli", "--db", str(path), "seed", "--tickets"]
    try:
        done = subprocess.run([*command, str(tickets)], check=False)
    except OSError:
        return False
    return done.returncode == 0 and path.exists()


def _ticket(rng: random.Random, ticket_id: int, tickets: int, now: int) -> tuple:
    created = now - int((tickets - ticket_id) / tickets * 730 * 86400) - rng.randrange(3600)
    status = rng.choice(STATUSES)
    active = status in ("new", "open")
    unassigned = rng.random() < (0.6 if status == "new" else 0.03)
    tags = [t for t in COMMON_TAGS if rng.random() < 0.1]
    if rng.random() < 0.0005:
        tags.append(RARE_TAG)
    snoozed = now + rng.randrange(3600, 7 * 86400) if rng.random() < 0.01 else None
    return (
        ticket_id,
        f"Order problem #{ticket_id}",
        status,
        rng.choices(range(4), weights=(20, 55, 20, 5))[0],
        rng.choice(["email", "chat", "phone", "social", "marketplace", "web"]),
        rng.choice(QUEUES),
        "" if unassigned else rng.choice(AGENTS),
        rng.randrange(1, 200_001),
        rng.choice(["zh-CN", "zh-TW", "en", "uk"]),
        json.dumps(tags, ensure_ascii=False),
        created,
        min(now, created + rng.randrange(14 * 86400)),
        now + rng.randrange(-2 * 86400, 3 * 86400) if active else SLA_NEVER,
        snoozed,
        int(rng.random() < 0.001),
    )


def _schema_sql(conn: sqlite3.Connection, kind: str, table: str) -> list[tuple[str, str]]:
    sql = "SELECT name, sql FROM sqlite_master WHERE type = ? AND tbl_name = ? AND sql NOT NULL"
    return list(conn.execute(sql, (kind, table)))


def seed_synthetic(path: Path, tickets: int) -> None:
    """Tickets, tags and customers by executemany; indexes and counters rebuilt afterwards."""
    db = open_store(path)
    conn = db.conn
    rng = random.Random(1)
    now = now_epoch()
    # Bulk load without per-row index and trigger upkeep; rebuild both once at the end.
    triggers = _schema_sql(conn, "trigger", "tickets")
    indexes = _schema_sql(conn, "index", "tickets")
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO customers(id, name, locale) VALUES (?, ?, 'en')",
        ((i, f"Customer {i}") for i in range(1, 200_001)),
    )
    insert = (
        "INSERT INTO tickets(id, subject, status, priority, channel, queue, assignee,"
        " requester_id, language, tags, created_at, updated_at, sla_due, snoozed_until, pending)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    batch: list[tuple] = []
    for ticket_id in range(1, tickets + 1):
        batch.append(_ticket(rng, ticket_id, tickets, now))
        if len(batch) == 50_000 or ticket_id == tickets:
            conn.executemany(insert, batch)
            conn.executemany(
                "INSERT INTO ticket_tags(tag, ticket_id) VALUES (?, ?)",
                ((tag, row[0]) for row in batch for tag in json.loads(row[9])),
            )
            batch = []
    conn.execute("DELETE FROM view_counts")
    conn.execute(
        "INSERT INTO view_counts(status, assignee, queue, n)"
        " SELECT status, assignee, queue, count(*) FROM tickets GROUP BY 1, 2, 3"
    )
    for _, sql in indexes + triggers:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.close()


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """p50 and p95 wall time of `fn` in milliseconds, after one warm-up call."""
    return _percentiles(fn, runs, time.perf_counter)


def cpu_timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """p50 and p95 of this process's CPU time: steadier than wall time on a shared machine."""
    return _percentiles(fn, runs, time.process_time)


def _percentiles(
    fn: Callable[[], object], runs: int, clock: Callable[[], float]
) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(runs):
        start = clock()
        fn()
        samples.append((clock() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def plan(conn: sqlite3.Connection, query: str, me: str, now: int) -> str:
    q = parse_query(query)
    steer = choose_steer(conn, q, me=me, now=now)
    sql, params = page_sql(q, me=me, now=now, steer=steer, after=None, limit=51)
    rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return " | ".join(row[-1] for row in rows)


def bench_views(conn: sqlite3.Connection, me: str, now: int, runs: int) -> None:
    views = {
        "my open by SLA": "assignee:me status:new,open sort:sla",
        "unassigned": "assignee:none status:new,open,pending,on-hold sort:sla",
        "a queue": "queue:returns status:new,open,pending,on-hold sort:sla",
        "a tag": "tag:破损",
        "all by updated": "",
        # Beyond the five targets: shapes the planner could get wrong without steering.
        "rare tag": f"tag:{RARE_TAG}",
        "tag + status by SLA": "tag:vip status:open sort:sla",
        "agent by updated": "assignee:me",
        "snoozed": "is:snoozed",
        "urgent by priority": "priority:urgent status:open sort:priority",
        "SLA at risk": "sla:<1h sort:sla",
        "unsynced": "is:pending",
    }
    print(f"\nfirst page (50 rows) of each view, {runs} runs, me={me}")
    print(f"{'view':<22} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8}  rows  plan")
    for name, query in views.items():
        q = parse_query(query)
        rows = len(inbox_page(conn, q, me=me, now=now).rows)
        page = lambda q=q: inbox_page(conn, q, me=me, now=now)  # noqa: E731
        p50, p95 = timed(page, runs)
        c50, c95 = cpu_timed(page, runs)
        shape = plan(conn, query, me, now)
        print(f"{name:<22} {p50:8.2f} {p95:8.2f} {c50:8.2f} {c95:8.2f}  {rows:4d}  {shape}")


def bench_deep(conn: sqlite3.Connection, me: str, now: int, runs: int) -> None:
    q = parse_query("")  # all by updated, newest first
    key_row = conn.execute(
        "SELECT updated_at, id FROM tickets ORDER BY updated_at DESC, id DESC LIMIT 1 OFFSET ?",
        (DEEP - 1,),
    ).fetchone()
    if key_row is None:
        print(f"\ndeep page: fewer than {DEEP:,} tickets, skipped")
        return
    after = PageKey(*key_row)
    keyset = timed(lambda: inbox_page(conn, q, me=me, now=now, after=after), runs)
    keyset_cpu = cpu_timed(lambda: inbox_page(conn, q, me=me, now=now, after=after), runs)
    offset_sql = "SELECT t.* FROM tickets t ORDER BY t.updated_at DESC, t.id DESC LIMIT 50 OFFSET ?"
    offset = timed(lambda: conn.execute(offset_sql, (DEEP,)).fetchall(), max(5, runs // 10))
    first = inbox_page(conn, q, me=me, now=now, after=after).rows[0].id
    same = conn.execute(offset_sql, (DEEP,)).fetchone()[0] == first
    print(f"\npage {DEEP:,} rows deep, all by updated (same first row: {same})")
    print(
        f"  keyset  p50 {keyset[0]:8.2f} ms  p95 {keyset[1]:8.2f} ms  (cpu p95 {keyset_cpu[1]:.2f})"
    )
    print(f"  OFFSET  p50 {offset[0]:8.2f} ms  p95 {offset[1]:8.2f} ms")
    print(f"  OFFSET / keyset (p50): {offset[0] / keyset[0]:,.0f}x")


def bench_sidebar(conn: sqlite3.Connection, me: str, now: int, runs: int) -> None:
    counts = sidebar_counts(conn, me=me, now=now)
    p50, p95 = timed(lambda: sidebar_counts(conn, me=me, now=now), runs)
    c50, c95 = cpu_timed(lambda: sidebar_counts(conn, me=me, now=now), runs)
    print(
        f"\nsidebar: {len(counts)} views counted together: p50 {p50:.2f} ms  p95 {p95:.2f} ms"
        f"  (cpu p50 {c50:.2f}, p95 {c95:.2f})"
    )
    for name, query, n in counts:
        one = timed(lambda query=query: _count(conn, query, me, now), max(5, runs // 5))
        print(f"  {name:<22} {n:>9,}  p50 {one[0]:6.2f} ms   {query}")


def _count(conn: sqlite3.Connection, query: str, me: str, now: int) -> int:
    from agentcli.store.inbox import count_query

    return count_query(conn, parse_query(query), me=me, now=now)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--synthetic", action="store_true", help="skip `agentcli seed`")
    args = parser.parse_args()
    if not args.db.exists():
        started = time.perf_counter()
        if args.synthetic or not _seed_with_cli(args.db, args.tickets):
            for leftover in (args.db, Path(f"{args.db}-wal"), Path(f"{args.db}-shm")):
                leftover.unlink(missing_ok=True)  # a failed seed may leave a partial store
            print(f"seeding {args.tickets:,} synthetic tickets into {args.db} ...", flush=True)
            seed_synthetic(args.db, args.tickets)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
    conn = open_store(args.db).conn
    total = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
    me = conn.execute(
        "SELECT assignee FROM view_counts WHERE assignee != '' GROUP BY assignee"
        " ORDER BY sum(n) DESC LIMIT 1"
    ).fetchone()[0]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    has_stats = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
    print(f"{total:,} tickets; ANALYZE statistics present: {bool(has_stats.fetchone()[0])}")
    now = now_epoch()
    bench_views(conn, me, now, args.runs)
    bench_deep(conn, me, now, args.runs)
    bench_sidebar(conn, me, now, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
