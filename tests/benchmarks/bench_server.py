"""Benchmark `agentcli serve` over loopback: full pull, mutation push, SSE fan-out.

    python tests/benchmarks/bench_server.py [--tickets 100000] [--sse-clients 200]
    AGENTCLI_TEST_PG=postgresql://... python tests/benchmarks/bench_server.py   # + PostgreSQL

For each backend (SQLite always; PostgreSQL when AGENTCLI_TEST_PG is set):
0. seed: the demo generator's tickets into an empty store (bulk path of `serve --demo`);
1. pull: every change in pages of 1,000 (`GET /api/v1/changes`), as a client's first sync;
   printed beside Zendesk's incremental export limit (1,000 tickets a request, 10 requests a
   minute ~ 170 tickets/s);
2. push: 1,000 `reply` mutations in batches of 100; p95 per batch (target <= 100 ms);
3. live: N SSE clients connected while 50 writes/s flow for a few seconds; nudge latency
   from the write being sent to each client seeing a `changes` event at or past its seq
   (target p95 <= 200 ms), and how many clients were dropped (target 0).
The server is a separate `agentcli serve` process, so it does not share a GIL with the load;
the live writers run in a process of their own and the SSE readers parse the raw stream, so
the load generator's own work is not counted as the server's latency. The machine is shared
(2 cores): the load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import httpx
import psycopg

from agentcli.domain.vocabulary import Role
from agentcli.server import auth
from agentcli.server.db import open_engine
from agentcli.server.demo_seed import seed_demo

ZENDESK_TICKETS_PER_SECOND = 1000 * 10 / 60


def p95(values: list[float]) -> float:
    # "inclusive": interpolate within the observed values (never past the maximum).
    return (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


def start_server(db: str, port: int) -> subprocess.Popen:
    command = [
        sys.executable, "-c", "from agentcli.cli.main import main; main()",
        "serve", "--db", db, "--port", str(port), "--no-sla",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def bench_pull(http: httpx.Client) -> dict:
    started, after, changes, tickets, pages = time.perf_counter(), 0, 0, 0, 0
    while True:
        response = http.get("/api/v1/changes", params={"after": after, "limit": 1000})
        page = response.json()
        pages += 1
        changes += len(page["changes"])
        tickets += sum(1 for c in page["changes"] if c["kind"] == "ticket")
        after = page["next"]
        if not page["more"]:
            break
    seconds = time.perf_counter() - started
    return {
        "changes": changes,
        "tickets": tickets,
        "pages": pages,
        "seconds": round(seconds, 2),
        "changes_per_s": round(changes / seconds),
        "tickets_per_s": round(tickets / seconds),
    }


def mutation(ticket_id: int, body: str, kind: str = "reply") -> dict:
    return {
        "client_id": str(uuid.uuid4()),
        "type": kind,
        "ticket_id": ticket_id,
        "base_version": None,
        "payload": {"body": body},
    }


def bench_push(http: httpx.Client, ticket_ids: list[int]) -> dict:
    times = []
    for batch in range(10):
        mutations = [mutation(t, f"bench reply {batch}") for t in ticket_ids[:100]]
        started = time.perf_counter()
        response = http.post("/api/v1/mutations", json={"mutations": mutations})
        times.append((time.perf_counter() - started) * 1000)
        results = response.json()["results"]
        assert all(r["outcome"] == "applied" for r in results), results[:2]
    return {
        "batches": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(p95(times), 1),
        "max_ms": round(max(times), 1),
    }


# One SSE event in the raw (chunked) stream: chunk-size lines fall between events.
_EVENT = re.compile(rb"event: (\w+)\ndata: ([^\n]*)")


async def _sse_client(url: str, token: str, events: list, ready: asyncio.Event, box: dict):
    """A bare-bones SSE reader on an asyncio stream: 200 httpx streams in one process spent
    most of a core parsing 10,000 events/s, which the latencies counted as the server's."""
    host, port = url.removeprefix("http://").split(":")
    request = (
        f"GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    )
    writer = None
    try:
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(request.encode())
        await reader.readuntil(b"\r\n\r\n")  # status line and headers
        buffer = b""
        while chunk := await reader.read(65536):
            seen = time.perf_counter()
            *complete, buffer = (buffer + chunk).split(b"\n\n")
            for match in map(_EVENT.search, complete):
                if match is None:  # a keep-alive comment
                    continue
                if match[1] == b"hello":
                    box["connected"] += 1
                    if box["connected"] == box["wanted"]:
                        ready.set()
                elif match[1] == b"changes":
                    events.append((seen, json.loads(match[2])["seq"]))
    except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
        pass
    finally:
        if writer is not None:
            writer.close()
        box["ended"] += 1


def _writer(url: str, token: str, ticket_ids: list[int], rate: float, seconds: float) -> list:
    """Issue single-note writes on a fixed schedule; several threads so a slow answer does
    not delay the next write (an open-loop load, as independent agents would make). Runs in
    its own process (perf_counter is the system's monotonic clock, shared with the readers):
    in the readers' process it waited for their GIL, which counted as server latency."""
    headers = {"Authorization": f"Bearer {token}"}
    lock, start, total = threading.Lock(), time.perf_counter(), int(rate * seconds)
    counter = iter(range(total))
    writes: list = []

    def run() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                if (delay := start + n / rate - time.perf_counter()) > 0:
                    time.sleep(delay)
                sent = time.perf_counter()
                ticket = ticket_ids[n % len(ticket_ids)]
                response = http.post(
                    "/api/v1/mutations", json={"mutations": [mutation(ticket, "live", "note")]}
                )
                seq = response.json()["results"][0]["seq"]
                with lock:
                    writes.append((sent, time.perf_counter(), seq))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return writes


async def bench_live(url: str, token: str, ticket_ids: list[int], clients: int) -> dict:
    ready, box = asyncio.Event(), {"connected": 0, "ended": 0, "wanted": clients}
    streams: list[list] = [[] for _ in range(clients)]
    tasks = [
        asyncio.create_task(_sse_client(url, token, streams[i], ready, box)) for i in range(clients)
    ]
    await asyncio.wait_for(ready.wait(), 120)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        writes = await asyncio.get_running_loop().run_in_executor(
            pool, _writer, url, token, ticket_ids, 50, 8.0
        )
    await asyncio.sleep(1.0)  # let the last nudges arrive
    alive = clients - box["ended"]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    span = max(w[1] for w in writes) - min(w[0] for w in writes)
    latencies, missed = [], 0
    for events in streams:
        for sent, _answered, seq in writes:
            seen = next((t for t, s in events if s >= seq and t >= sent), None)
            if seen is None:
                missed += 1
            else:
                latencies.append((seen - sent) * 1000)
    return {
        "clients": clients,
        "connected": box["connected"],
        "alive_at_end": alive,
        "dropped": clients - alive,
        "writes": len(writes),
        "writes_per_s": round(len(writes) / span, 1),
        "write_p95_ms": round(p95([(w[1] - w[0]) * 1000 for w in writes]), 1),
        "nudges_missed": missed,
        "nudge_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "nudge_p95_ms": round(p95(latencies), 1) if latencies else None,
    }


def run_backend(name: str, db: str, tickets: int, clients: int, port: int) -> dict:
    engine = open_engine(db)
    started = time.perf_counter()
    report = seed_demo(engine, ticket_count=tickets)
    seed_seconds = time.perf_counter() - started
    token = auth.add_agent(engine, f"bench-{uuid.uuid4().hex[:6]}", Role.SUPERVISOR)
    engine.dispose()
    process = start_server(db, port)
    url = f"http://127.0.0.1:{port}"
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            pull = bench_pull(http)
            push = bench_push(http, list(range(1, 101)))
        live = asyncio.run(bench_live(url, token, list(range(101, 201)), clients))
    finally:
        process.terminate()
        process.wait(10)
    return {
        "backend": name,
        "seed": {"report": report.splitlines()[-1], "seconds": round(seed_seconds, 1)},
        "pull": pull,
        "push": push,
        "live": live,
        "loadavg": [round(x, 1) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--sse-clients", type=int, default=200)
    parser.add_argument("--port", type=int, default=18790)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "postgres":
            db = str(Path(tmp) / "bench.db")
            results.append(run_backend("sqlite", db, args.tickets, args.sse_clients, args.port))
            print(json.dumps(results[-1], ensure_ascii=False, indent=2), flush=True)
        admin = os.environ.get("AGENTCLI_TEST_PG")
        if admin and args.only != "sqlite":
            name = f"acli_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                db = admin.rsplit("/", 1)[0] + "/" + name
                results.append(
                    run_backend("postgres", db, args.tickets, args.sse_clients, args.port + 1)
                )
                print(json.dumps(results[-1], ensure_ascii=False, indent=2), flush=True)
            finally:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print()
    for r in results:
        pull, push, live = r["pull"], r["push"], r["live"]
        print(
            f"{r['backend']:>8}: seed {r['seed']['seconds']} s | pull {pull['changes_per_s']:,} "
            f"changes/s ({pull['tickets_per_s']:,} tickets/s vs Zendesk export "
            f"~{ZENDESK_TICKETS_PER_SECOND:.0f} tickets/s) | push p95 {push['p95_ms']} ms/100 | "
            f"SSE {live['clients']} clients: nudge p95 {live['nudge_p95_ms']} ms, "
            f"dropped {live['dropped']}, missed {live['nudges_missed']} | load {r['loadavg']}"
        )


if __name__ == "__main__":
    main()
