"""Run every benchmark: build one 1,000,000-ticket store, then time each part against it.

    python tests/benchmarks/run_all.py [--tickets N] [--db PATH] [--only NAME ...]

Each script prints its figures beside a baseline measured in the same run. The output of the
whole run is also written to `bench-results.txt` for copying into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> extra arguments; scripts that read a seeded store get `--db PATH`.
BENCHES: dict[str, list[str]] = {
    "seed": ["--tickets", "{tickets}"],
    "inbox": ["--db", "{db}"],
    "search": ["--db", "{db}"],
    "tui": ["--db", "{db}"],
    "report": ["--db", "{db}"],  # works on a private copy of the store
    "macros": [],
    "server": [],  # seeds its own 100k-ticket servers (SQLite; PostgreSQL with AGENTCLI_TEST_PG)
    "sync": [],  # a 100k-ticket `agentcli serve` process and a client store
    "supervisor": ["--db", "{db}"],  # + a 20k-ticket `agentcli serve` for the bulk push
}
NEEDS_STORE = {"inbox", "search", "tui", "report", "supervisor"}


def machine() -> str:
    cores = len(os.sched_getaffinity(0))
    return (
        f"{platform.node()} · {platform.machine()} · {cores} cores · Python "
        f"{platform.python_version()} · SQLite {sqlite3.sqlite_version}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="reuse (or create) this seeded store")
    parser.add_argument("--only", nargs="*", choices=list(BENCHES), default=list(BENCHES))
    args = parser.parse_args()

    lines = [f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {machine()}"]
    print(lines[0], flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="agentcli-bench-"))
    db = args.db or workdir / "bench.db"
    if NEEDS_STORE & set(args.only) and not db.exists():
        print(f"seeding {args.tickets:,} tickets into {db} ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "agentcli",
                "--db",
                str(db),
                "seed",
                "--tickets",
                str(args.tickets),
                "--seed",
                "1",
            ],
            check=True,
        )
    failed = []
    for name in args.only:
        script = HERE / f"bench_{name}.py"
        extra = [part.format(db=db, tickets=args.tickets) for part in BENCHES[name]]
        print(f"\n## {name}", flush=True)
        result = subprocess.run(
            [sys.executable, str(script), *extra], capture_output=True, text=True
        )
        print(result.stdout, end="", flush=True)
        if result.returncode:
            print(result.stderr, file=sys.stderr)
            failed.append(name)
        lines += [f"\n## {name}", result.stdout]
    Path("bench-results.txt").write_text("\n".join(lines), encoding="utf-8")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
