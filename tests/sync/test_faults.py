"""Proof with real processes: a real `agentcli serve` subprocess, a fault-injecting TCP proxy,
`kill -9` of `agentcli sync --once` client processes at random points of push and pull, a
server restart mid-push, and two clients racing for one ticket. After faults stop and sync
settles, every reply exists on the server exactly once and each local store matches the
server (tickets, messages and their fields)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentcli.domain.mutations import Mutation, MutationType
from agentcli.domain.vocabulary import AuthorKind, Channel, MessageKind, Role
from agentcli.server import auth
from agentcli.server.db import open_engine, write_tx
from agentcli.server.records import append_message, create_customer, create_ticket, message_values
from agentcli.store.conflicts import list_conflicts
from agentcli.store.db import open_store
from agentcli.store.outbox import enqueue
from agentcli.sync.client import Client
from agentcli.sync.engine import Engine
from agentcli.sync.status import read_status
from tests.sync.harness import (
    FaultProxy,
    Launcher,
    ServerProcess,
    client_env,
    local_checksum,
    run_cli,
    server_checksum,
)

TICKETS = 12


@dataclass
class Setup:
    server: ServerProcess
    server_db: Path
    tokens: dict[str, str]
    tmp: Path

    def login(self, name: str, url: str) -> dict[str, str]:
        env = client_env(self.tmp / f"{name}.db", self.tmp / f"{name}-config")
        done = run_cli(env, "login", url, "--token", self.tokens[name])
        assert done.returncode == 0, done.stderr
        return env


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    server_db = tmp_path / "server.db"
    engine = open_engine(str(server_db))
    tokens = {
        "sup1": auth.add_agent(engine, "sup1", Role.SUPERVISOR),
        "sup2": auth.add_agent(engine, "sup2", Role.SUPERVISOR),
        "li": auth.add_agent(engine, "li", Role.AGENT, languages=["zh-CN"], queues=["zh"]),
    }
    with write_tx(engine) as conn:
        customer = create_customer(conn, "王芳", locale="zh-CN")
        for n in range(TICKETS):
            ticket = create_ticket(
                conn,
                subject=f"订单 {n}",
                requester_id=customer["id"],
                channel=Channel.EMAIL,
                queue="zh",
            )
            _customer_message(conn, ticket["id"], f"第一条 {n}")
    engine.dispose()
    server = ServerProcess(server_db)
    server.start()
    yield Setup(server, server_db, tokens, tmp_path)
    server.stop()


def _customer_message(conn, ticket_id: int, body: str) -> None:
    append_message(
        conn,
        message_values(
            ticket_id=ticket_id,
            kind=MessageKind.PUBLIC,
            author_kind=AuthorKind.CUSTOMER,
            author="王芳",
            channel=Channel.EMAIL,
            body=body,
        ),
    )


def _queue_work(store: Path, login: str, round_no: int, rng: random.Random) -> list[str]:
    """Replies (unique bodies) and tag changes, queued offline in the client's store."""
    db = open_store(store)
    bodies = []
    try:
        for k in range(3):
            ticket_id = rng.randint(1, TICKETS)
            body = f"reply {login} {round_no}.{k}"
            enqueue(db, Mutation(MutationType.REPLY, ticket_id, None, {"body": body}), author=login)
            bodies.append(body)
        tag = Mutation(
            MutationType.TAG, rng.randint(1, TICKETS), None, {"add": [f"{login}-{round_no % 5}"]}
        )
        enqueue(db, tag, author=login)
    finally:
        db.conn.close()
    return bodies


def _settle(env: dict[str, str], launcher: Launcher | None = None, attempts: int = 30) -> None:
    """Sync until the outbox is empty and no sent reply awaits its echo. With a launcher the
    `agentcli sync --once` runs forked from it (no interpreter start); the status is read from
    the store directly (what `agentcli status --json` prints)."""
    error = ""
    for _ in range(attempts):
        if launcher is not None:
            ok = launcher.run(env, "sync", "--once", "--json") == 0
        else:
            done = run_cli(env, "sync", "--once", "--json")
            ok, error = done.returncode == 0, done.stderr
        db = open_store(Path(env["AGENTCLI_DB"]))
        try:
            status = read_status(db)
        finally:
            db.conn.close()
        if ok and status["outbox"] == 0 and status["awaiting_echo"] == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"sync did not settle: {error} {status}")


def _assert_exactly_once_and_equal(setup: Setup, bodies: list[str], stores: list[Path]) -> None:
    conn = sqlite3.connect(setup.server_db)
    counts = dict(
        conn.execute(
            "SELECT body, count(*) FROM messages WHERE author_kind = 'agent' GROUP BY body"
        ).fetchall()
    )
    conn.close()
    missing = [b for b in bodies if counts.get(b, 0) == 0]
    twice = {b: n for b, n in counts.items() if n != 1}
    assert not missing, f"{len(missing)} replies never reached the server: {missing[:5]}"
    assert not twice, f"replies stored more than once: {twice}"
    expected = server_checksum(setup.server_db)
    for store in stores:
        assert local_checksum(store) == expected, f"{store.name} differs from the server"
        local = sqlite3.connect(store)
        assert local.execute("SELECT count(*) FROM messages WHERE id < 0").fetchone()[0] == 0
        assert local.execute("SELECT count(*) FROM ticket_base").fetchone()[0] == 0
        local.close()


KILLS = 100


@pytest.mark.timeout(300)
def test_kill_9_clients_through_a_faulty_proxy_then_everything_converges(setup: Setup) -> None:
    """Two clients, each in its own thread of rounds: queue replies and tags offline, start
    `agentcli sync --once` (forked from a warm launcher), wait for its first connection, then
    SIGKILL it at a random point of its push and pull. A kill counts only if the process was
    still running (died of SIGKILL) and had already connected: dying during interpreter start
    would prove nothing, and was what every kill of the old spawn-and-sleep loop hit."""
    names = ["sup1", "sup2"]
    # One proxy per client: its connection count says when that client is on the wire.
    proxies = {name: FaultProxy(setup.server.port, seed=7 + i) for i, name in enumerate(names)}
    for proxy in proxies.values():
        proxy.faults = False  # login and a first sync with no faults: tickets to work on
        proxy.start()
    phase = time.monotonic()
    envs = {name: setup.login(name, proxies[name].url) for name in names}
    stores = {name: setup.tmp / f"{name}.db" for name in names}
    launchers = {name: Launcher() for name in names}
    for name in names:
        _settle(envs[name], launchers[name])
    for proxy in proxies.values():
        proxy.faults = True
    times = {"setup": time.monotonic() - phase}
    engine = open_engine(str(setup.server_db))
    bodies: list[str] = []
    kills = dict.fromkeys(names, 0)
    rounds = dict.fromkeys(names, 0)
    lock = threading.Lock()
    started = time.monotonic()

    spent = {"queue": 0.0, "to_connect": 0.0, "wait": 0.0}

    def client_rounds(name: str, seed: int) -> None:
        rng = random.Random(seed)
        proxy, launcher = proxies[name], launchers[name]
        while sum(kills.values()) < KILLS and time.monotonic() - started < 150:
            rounds[name] += 1
            mark = time.monotonic()
            queued = _queue_work(stores[name], name, rounds[name], rng)
            with lock:
                bodies.extend(queued)
            if name == names[0] and rounds[name] % 2:  # something new to pull, too
                with write_tx(engine) as conn:
                    _customer_message(conn, rng.randint(1, TICKETS), f"customer {rounds[name]}")
            before = proxy.connections
            pid = launcher.spawn(envs[name], "sync", "--once", "--batch", "2", "--page", "5")
            spent["queue"] += time.monotonic() - mark
            mark = time.monotonic()
            deadline = mark + 10
            while proxy.connections == before and time.monotonic() < deadline:
                time.sleep(0.002)
            spent["to_connect"] += time.monotonic() - mark
            time.sleep(rng.uniform(0.0, 0.3))  # a random point of its push and pull
            mark = time.monotonic()
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            ended = launcher.wait(pid)
            spent["wait"] += time.monotonic() - mark
            if ended["signal"] == signal.SIGKILL and proxy.connections > before:
                kills[name] += 1

    threads = [
        threading.Thread(target=client_rounds, args=(name, 42 + i)) for i, name in enumerate(names)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    times["kills"] = time.monotonic() - started
    phase = time.monotonic()
    total = sum(kills.values())
    assert total >= KILLS, f"only {kills} kills mid-sync in {rounds} rounds"
    for proxy in proxies.values():
        proxy.faults = False
    for name in names:
        _settle(envs[name], launchers[name])
    for name in names:  # each pulls what the other pushed last
        _settle(envs[name], launchers[name])
    for name in names:
        launchers[name].close()
        proxies[name].stop()
    times["settle"] = time.monotonic() - phase
    faults = {name: proxies[name].counts for name in names}
    print(
        f"\n{kills} kills mid-sync in {rounds} rounds, {len(bodies)} replies, proxies {faults};"
        f" seconds {', '.join(f'{k} {v:.1f}' for k, v in times.items())}"
        f" (in rounds: {', '.join(f'{k} {v:.1f}' for k, v in spent.items())}),"
        f" load {os.getloadavg()[0]:.1f}"
    )
    _assert_exactly_once_and_equal(setup, bodies, list(stores.values()))


@pytest.mark.timeout(180)
def test_server_restart_mid_push(setup: Setup) -> None:
    env = setup.login("sup1", setup.server.url)
    store = setup.tmp / "sup1.db"
    _settle(env)
    db = open_store(store)
    bodies = [f"restart {n}" for n in range(300)]
    for n, body in enumerate(bodies):
        enqueue(
            db, Mutation(MutationType.REPLY, n % TICKETS + 1, None, {"body": body}), author="sup1"
        )
    db.conn.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentcli", "sync", "--once", "--batch", "3"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    conn = sqlite3.connect(setup.server_db)
    deadline = time.monotonic() + 30
    while (
        conn.execute("SELECT count(*) FROM messages WHERE author_kind='agent'").fetchone()[0] < 20
    ):
        assert time.monotonic() < deadline, "the push never started"
        time.sleep(0.02)
    setup.server.kill()  # mid-push: some batches applied, the rest not
    sent_before = conn.execute(
        "SELECT count(*) FROM messages WHERE author_kind='agent'"
    ).fetchone()[0]
    conn.close()
    assert proc.wait(timeout=60) != 0  # the client notices and keeps its outbox
    assert sent_before < len(bodies)
    setup.server.start()
    _settle(env)
    _assert_exactly_once_and_equal(setup, bodies, [store])


def test_agent_and_supervisor_race_for_one_assignee(setup: Setup) -> None:
    stores = {}
    for name in ("li", "sup1"):
        setup.login(name, setup.server.url)
        stores[name] = open_store(setup.tmp / f"{name}.db", check_same_thread=False)
    clients = {name: Client(setup.server.url, setup.tokens[name]) for name in stores}
    engines = {name: Engine(stores[name], clients[name]) for name in stores}
    for engine in engines.values():
        engine.sync_once()
    version = stores["li"].conn.execute("SELECT version FROM tickets WHERE id = 1").fetchone()[0]
    enqueue(
        stores["li"], Mutation(MutationType.ASSIGN, 1, version, {"assignee": "li"}), author="li"
    )
    enqueue(
        stores["sup1"],
        Mutation(MutationType.ASSIGN, 1, version, {"assignee": "sup2"}),
        author="sup1",
    )
    barrier = threading.Barrier(2)
    reports = {}

    def push(name: str) -> None:
        barrier.wait()
        reports[name] = engines[name].push()

    threads = [threading.Thread(target=push, args=(name,)) for name in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    outcomes = sorted(next(iter(r.outcomes)) for r in reports.values())
    assert outcomes == ["applied", "conflict"]
    for engine in engines.values():
        engine.sync_once()
    winner = next(name for name, r in reports.items() if "applied" in r.outcomes)
    loser = next(name for name in engines if name != winner)
    expected = "li" if winner == "li" else "sup2"
    for name, db in stores.items():
        assignee = db.conn.execute("SELECT assignee FROM tickets WHERE id = 1").fetchone()[0]
        assert assignee == expected, name
    [record] = list_conflicts(stores[loser])
    assert record["ticket_id"] == 1 and record["server_state"]["assignee"] == expected
    assert list_conflicts(stores[winner]) == []
    for client in clients.values():
        client.close()
