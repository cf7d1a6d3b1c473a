# ruff: noqa: E501
"""Sync benchmarks against a real local server: `agentcli serve` as a separate process on
loopback over a seeded SQLite file (so server and client do not share one GIL):

1. first sync of N tickets / 3N messages: client changes/s beside the server's raw pull rate
   (the same pages fetched and JSON-decoded, nothing applied) measured in the same run;
2. a change made by one client appearing in another client's store over SSE: p95 latency;
3. draining an outbox of 1,000 mutations.

Wall time is distorted when the machine is shared: CPU time of this (client) process and
the load average are printed beside each figure.

Run: python -m tests.benchmarks.bench_sync [--tickets 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from agentcli.domain.mutations import Mutation, MutationType
from agentcli.domain.vocabulary import Role
from agentcli.store.db import open_store
from agentcli.store.outbox import enqueue
from agentcli.sync.client import Client
from agentcli.sync.engine import Engine, SyncConfig
from agentcli.sync.live import SyncWorker
from tests.sync.harness import free_port

BASE = 1_763_000_000


def seed(url: str, n_tickets: int) -> None:
    # Server modules are imported where used: the pull's spawned child process imports this
    # main module first, and would pay for them (~0.25 s) where `agentcli`'s main is light.
    from agentcli.server.db import open_engine, write_tx
    from agentcli.server.schema import change_log, customers, messages, tickets
    from agentcli.server.wire import to_wire

    engine = open_engine(url)
    with write_tx(engine) as conn:
        customer = {
            "id": 1,
            "name": "王芳",
            "locale": "zh-CN",
            "tier": "gold",
            "email": None,
            "phone": None,
            "handles": "{}",
        }
        conn.execute(customers.insert(), [customer])
        log = [
            {
                "kind": "customer",
                "entity_id": "1",
                "payload": json.dumps(to_wire("customer", customer)),
                "created_at": BASE,
            }
        ]
        batch_t, batch_m = [], []
        message_id = 0
        for i in range(1, n_tickets + 1):
            t = {
                "id": i,
                "subject": f"订单 {i} 物流",
                "status": "open",
                "priority": "normal",
                "channel": "email",
                "queue": "zh",
                "assignee": None,
                "requester_id": 1,
                "language": "zh-CN",
                "tags": '["物流"]',
                "order_id": None,
                "case_type": None,
                "case_state": None,
                "created_at": BASE + i,
                "updated_at": BASE + i,
                "first_reply_due": None,
                "next_reply_due": None,
                "resolution_due": None,
                "snoozed_until": None,
                "version": 1,
                "assignee_version": 1,
                "status_version": 1,
                "case_version": 1,
            }
            batch_t.append(t)
            log.append(
                {
                    "kind": "ticket",
                    "entity_id": str(i),
                    "payload": json.dumps(to_wire("ticket", t), ensure_ascii=False),
                    "created_at": BASE,
                }
            )
            for k in range(3):
                message_id += 1
                m = {
                    "id": message_id,
                    "ticket_id": i,
                    "kind": "public",
                    "author_kind": "customer",
                    "author": "王芳",
                    "channel": "email",
                    "body": f"您好，我的订单 {i} 还没有到，物流信息 {k} 没有更新，请帮忙查询 Де моє замовлення?",
                    "created_at": BASE + i + k,
                }
                batch_m.append(m)
                log.append(
                    {
                        "kind": "message",
                        "entity_id": str(message_id),
                        "payload": json.dumps(to_wire("message", m), ensure_ascii=False),
                        "created_at": BASE,
                    }
                )
            if len(batch_t) >= 5000:
                conn.execute(tickets.insert(), batch_t)
                conn.execute(messages.insert(), batch_m)
                conn.execute(change_log.insert(), log)
                batch_t, batch_m, log = [], [], []
        if batch_t or log:
            if batch_t:
                conn.execute(tickets.insert(), batch_t)
                conn.execute(messages.insert(), batch_m)
            conn.execute(change_log.insert(), log)
    engine.dispose()


def raw_pull(url: str, token: str) -> tuple[int, float]:
    start = time.perf_counter()
    count, after = 0, 0
    with httpx.Client(
        base_url=url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        while True:
            page = http.get("/changes", params={"after": after, "limit": 1000}).json()
            count += len(page["changes"])
            after = page["next"]
            if not page["more"]:
                break
    return count, time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    """User + system CPU of another process (Linux /proc), to show which side did the work."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@contextmanager
def serve(db: str) -> Iterator[Server]:
    """`agentcli serve` in its own process (no SLA checker: it would compete for the CPU)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentcli", "serve", "--db", db, "--port", str(port), "--no-sla"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("agentcli serve did not start")
            time.sleep(0.1)
        yield Server(url, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def children_cpu() -> float:
    """CPU of this process's ended children: the pull's fetcher process (the server is still
    running, so it is not counted here)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Clock:
    """Wall time, the client's CPU time (this process and its pull process, if one ran), the
    server's, and the load average at the end."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        self.child0 = children_cpu()
        self.server0 = cpu_seconds(server_pid)

    def stop(self) -> Clock:
        self.wall = time.perf_counter() - self.wall0
        self.child = children_cpu() - self.child0
        self.cpu = time.process_time() - self.cpu0 + self.child
        self.server = cpu_seconds(self.pid) - self.server0
        self.load = os.getloadavg()[0]
        return self

    def __str__(self) -> str:
        child = f" (pull process {self.child:.1f}s)" if self.child else ""
        return (
            f"wall {self.wall:.1f}s, client CPU {self.cpu:.1f}s{child},"
            f" server CPU {self.server:.1f}s, load {self.load:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    # The server file and three stores: hundreds of MB at 100k tickets.
    tmp = Path(tempfile.mkdtemp(prefix="bench_sync_"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> None:
    from agentcli.server import auth  # see seed()
    from agentcli.server.db import open_engine

    server_db = str(tmp / "server.db")
    t0 = time.perf_counter()
    seed(server_db, args.tickets)
    engine = open_engine(server_db)
    token_a = auth.add_agent(engine, "sup_a", Role.SUPERVISOR)
    token_b = auth.add_agent(engine, "sup_b", Role.SUPERVISOR)
    engine.dispose()
    print(
        f"seeded {args.tickets:,} tickets / {3 * args.tickets:,} messages in {time.perf_counter() - t0:.1f}s;"
        f" {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    with serve(server_db) as server:
        url = server.url
        # 1. first sync vs raw pull (raw first, then the client; each warm from the same file)
        clock = Clock(server.pid)
        raw_n, raw_s = raw_pull(url, token_a)
        raw_clock = clock.stop()
        store_a = open_store(tmp / "a.db")
        client_a = Client(url, token_a)
        clock = Clock(server.pid)
        report = Engine(store_a, client_a, SyncConfig()).pull()
        sync_clock = clock.stop()
        client_s = sync_clock.wall
        raw_rate, client_rate = raw_n / raw_s, report.pulled / client_s
        print(
            f"server raw pull: {raw_n:,} changes in {raw_s:.1f}s = {raw_rate:,.0f} changes/s ({raw_clock})"
        )
        print(
            f"first sync: {report.pulled:,} changes in {client_s:.1f}s = {client_rate:,.0f} changes/s"
            f" ({sync_clock}); client/raw = {client_rate / raw_rate:.0%} (target >= 50%)"
        )
        # 3. drain 1,000 outbox mutations (replies and tags across tickets)
        for i in range(1000):
            kind = MutationType.REPLY if i % 2 == 0 else MutationType.TAG
            payload = {"body": f"bench reply {i}"} if i % 2 == 0 else {"add": [f"b{i % 7}"]}
            enqueue(store_a, Mutation(kind, i % 500 + 1, None, payload), author="sup_a")
        clock = Clock(server.pid)
        pushed = Engine(store_a, client_a, SyncConfig()).push()
        drain_clock = clock.stop()
        print(
            f"outbox drain: {pushed.pushed} mutations in {drain_clock.wall:.2f}s ({pushed.outcomes})"
            f" ({drain_clock}) (target <= 5 s)"
        )
        Engine(store_a, client_a).pull()
        # 2. change-to-other-client latency over SSE: B copies A's store file (already synced)
        store_a.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (tmp / "b.db").write_bytes((tmp / "a.db").read_bytes())
        store_b_path = tmp / "b.db"
        worker = SyncWorker(
            store_b_path, lambda: Client(url, token_b), SyncConfig(poll_interval=60)
        )
        worker.start()
        time.sleep(1.0)
        watcher = open_store(store_b_path, check_same_thread=False)
        latencies = []
        for n in range(args.samples):
            body = f"latency probe {n}"
            enqueue(
                store_a, Mutation(MutationType.REPLY, n + 1, None, {"body": body}), author="sup_a"
            )
            sent = time.perf_counter()
            Engine(store_a, client_a).push()
            while True:
                row = watcher.conn.execute(
                    "SELECT 1 FROM messages WHERE body = ? AND id > 0", (body,)
                ).fetchone()
                if row:
                    latencies.append((time.perf_counter() - sent) * 1000)
                    break
                if time.perf_counter() - sent > 10:
                    latencies.append(10_000)
                    break
                time.sleep(0.002)
        worker.stop()
        client_a.close()
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(
            f"SSE change-to-other-client: p50 {statistics.median(latencies):.0f} ms,"
            f" p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms over {len(latencies)} (target p95 <= 500 ms);"
            f" load {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
