"""Benchmark `agentcli seed` (agentcli.store.bulk.seed_store) against a bare-executemany baseline.

    python tests/benchmarks/bench_seed.py --tickets 1000000 [--runs 3]

1. seed: `seed_store` into a fresh store in a temp dir (search index, view_counts, the inbox
   indexes, generator process), as `agentcli seed` runs it; --runs times, each into a new
   store (deleted before the next), then the median.
2. baseline, in the same run: the same generated tuples inserted with plain `executemany`
   into the same tables stripped of every index and trigger, without the search index, in
   one transaction with the journal settings the seeder loads with (rollback journal,
   synchronous OFF, the same page cache). Only the executemany calls and the commit are
   timed (generation is not).

The machine is shared and has two cores, so every run prints the load average before and
after, the CPU time of each process per ticket (less sensitive to other jobs than wall time)
and the serial tail: the seconds from the last batch written to the commit (index rebuilds,
FTS5 optimize), when the generator process is done and one core works alone.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from agentcli.demo.generator import generate
from agentcli.domain.clock import now_epoch
from agentcli.store.bulk import BATCH_TICKETS, BULK_CACHE_KIB, INSERTS, seed_store
from agentcli.store.db import open_store


def run_seed(path: Path, tickets: int, seed: int, now: int, worker: bool | None) -> dict:
    db = open_store(path)
    last_batch = [0.0]

    def progress(done: int) -> None:
        last_batch[0] = time.perf_counter()

    cpu = time.process_time()
    result = seed_store(db, tickets, seed=seed, now=now, worker=worker, progress=progress)
    cpu = time.process_time() - cpu
    tail = time.perf_counter() - last_batch[0]  # the last batch written -> committed
    db.conn.close()
    return {
        "seconds": result.seconds,
        "cpu_main": cpu,
        "cpu_worker": result.worker_cpu,
        "tail": tail,
        "tickets": result.tickets,
        "messages": result.messages,
        "rows": result.rows,
    }


def run_baseline(path: Path, tickets: int, seed: int, now: int) -> dict:
    """Same tuples, same tables, no indexes/triggers/search index: executemany time only."""
    db = open_store(path)
    conn: sqlite3.Connection = db.conn
    for kind, name in conn.execute(
        "SELECT type, name FROM sqlite_master "
        "WHERE type IN ('index', 'trigger') AND sql IS NOT NULL"
    ).fetchall():
        conn.execute(f"DROP {kind.upper()} {name}")
    # As the seeder loads a big batch into a store nothing else has open.
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    plain = [(attr, sql) for attr, sql in INSERTS if attr != "search"]
    rows = 0
    timed = 0.0
    conn.execute("BEGIN")
    for batch in generate(tickets, seed=seed, now=now, batch_size=BATCH_TICKETS):
        started = time.perf_counter()
        for attr, sql in plain:
            conn.executemany(sql, getattr(batch, attr))
        timed += time.perf_counter() - started
        rows += batch.row_count - len(batch.search) - len(batch.search_words or ())
    started = time.perf_counter()
    conn.execute("COMMIT")
    timed += time.perf_counter() - started
    conn.close()
    return {"seconds": timed, "rows": rows, "tickets": tickets}


def print_seed(seed: dict, size_mib: float, load: tuple[float, float], label: str) -> None:
    n = seed["tickets"]
    worker_cpu = seed["cpu_worker"]
    print(
        f"{label:<9} {n:>10,} tickets  {seed['messages']:>10,} messages  "
        f"{seed['rows']:>11,} rows  {seed['seconds']:8.2f}s  "
        f"{n / seed['seconds']:>9,.0f} tickets/s  {seed['rows'] / seed['seconds']:>9,.0f} rows/s  "
        f"(store {size_mib:,.0f} MiB)"
    )
    print(
        f"          CPU per ticket: writer (main process) {seed['cpu_main'] / n * 1e6:.0f} us"
        + (
            f", generator (worker process) {worker_cpu / n * 1e6:.0f} us"
            if worker_cpu is not None
            else " (generator in-process)"
        )
        + f"; wall {seed['seconds'] / n * 1e6:.0f} us; serial tail {seed['tail']:.1f}s; "
        f"load {load[0]:.2f} -> {load[1]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="seeds to run (median printed)")
    parser.add_argument("--no-worker", action="store_true", help="generate in-process")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the seed (in-process)")
    args = parser.parse_args()
    now = now_epoch()
    worker = False if (args.no_worker or args.profile) else None
    print(f"2-core machine, shared; 1-minute load average before: {os.getloadavg()[0]:.2f}")
    seeds = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, args.runs + 1):
            path = Path(tmp) / "seed.db"
            load_before = os.getloadavg()[0]
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
            seed = run_seed(path, args.tickets, args.seed, now, worker)
            if args.profile:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
            size = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 2**20
            for file in Path(tmp).iterdir():  # a 1M store is 1.5 GB: one at a time
                file.unlink()
            print_seed(seed, size, (load_before, os.getloadavg()[0]), f"seed #{run}")
            seeds.append(seed)
        tps = statistics.median(s["tickets"] / s["seconds"] for s in seeds)
        if args.runs > 1:
            rows_per_s = statistics.median(s["rows"] / s["seconds"] for s in seeds)
            print(f"median of {args.runs} runs: {tps:,.0f} tickets/s  {rows_per_s:,.0f} rows/s")
        if args.no_baseline:
            return
        base = run_baseline(Path(tmp) / "baseline.db", args.tickets, args.seed, now)
        base_tps = base["tickets"] / base["seconds"]
        print(
            f"baseline  {base['tickets']:>10,} tickets  {'':>10}           "
            f"{base['rows']:>11,} rows  {base['seconds']:8.2f}s  "
            f"{base_tps:>9,.0f} tickets/s  {base['rows'] / base['seconds']:>9,.0f} rows/s  "
            "(bare executemany, no search index, no indexes)"
        )
        print(f"ratio seed (median) / baseline, tickets/s: {tps / base_tps:.2f}")
        print(f"load average after baseline: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
