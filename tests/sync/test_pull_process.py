"""A big pull fetches in a child process (sync/fetcher.py). Real parts: `agentcli serve` on
loopback, real Clients, spawned children, the fault proxy, `kill -9` of a client process.

The process path must give the store the thread path gives (tickets, messages, every field,
search results), reject a bad page whole with the thread path's error, recover after faults,
and never leave a child behind: not after a pull, not after the client is killed."""

from __future__ import annotations

import multiprocessing
import pickle
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentcli.domain.mutations import Mutation, MutationType
from agentcli.domain.vocabulary import AuthorKind, Channel, MessageKind, Role
from agentcli.domain.wire import WireError
from agentcli.server import auth
from agentcli.server.db import open_engine, write_tx
from agentcli.server.records import (
    append_message,
    create_customer,
    create_ticket,
    message_values,
)
from agentcli.store.db import open_store
from agentcli.store.outbox import enqueue
from agentcli.store.search import search
from agentcli.sync.client import AuthError, Client, RateLimited, SyncError
from agentcli.sync.engine import Engine, Progress, SyncConfig
from agentcli.sync.live import SyncWorker
from agentcli.sync.status import last_synced
from tests.sync.harness import (
    FaultProxy,
    ServerProcess,
    alive,
    children_of,
    local_checksum,
    server_checksum,
)

TICKETS = 120
ROOT = Path(__file__).resolve().parents[2]
PROCESS = SyncConfig(page_size=40, process_from=1)  # any backlog: the child process
THREAD = SyncConfig(page_size=40)  # a small backlog: the fetcher thread


@dataclass
class Served:
    server: ServerProcess
    db: Path
    token: str
    tmp: Path

    @property
    def head(self) -> int:
        conn = sqlite3.connect(self.db)
        try:
            return int(conn.execute("SELECT max(seq) FROM change_log").fetchone()[0])
        finally:
            conn.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A server with TICKETS tickets of three messages each, then replies, notes, tags, status
    changes and assignments pushed by a client (ticket changes after their messages, events)."""
    db = tmp_path / "server.db"
    engine = open_engine(str(db))
    token = auth.add_agent(engine, "sup", Role.SUPERVISOR)
    auth.add_agent(engine, "li", Role.AGENT, languages=["zh-CN"], queues=["zh"])
    with write_tx(engine) as conn:
        customer = create_customer(conn, "王芳", locale="zh-CN", handles={"wechat": "wf"})
        for n in range(TICKETS):
            ticket = create_ticket(
                conn,
                subject=f"订单 {n} 物流",
                requester_id=customer["id"],
                channel=Channel.EMAIL,
                queue="zh",
                language="zh-CN",
                tags=["物流"] if n % 3 else [],
            )
            for k in range(3):
                append_message(
                    conn,
                    message_values(
                        ticket_id=ticket["id"],
                        kind=MessageKind.PUBLIC,
                        author_kind=AuthorKind.CUSTOMER,
                        author="王芳",
                        channel=Channel.EMAIL,
                        body=f"您好，订单 {n} 的包裹 {k} 还没到 parcel{n}x{k} Де моє замовлення?",
                    ),
                )
    engine.dispose()
    server = ServerProcess(db)
    server.start()
    try:
        writer = open_store(tmp_path / "writer.db")
        with Client(server.url, token) as client:
            engine_ = Engine(writer, client, THREAD)
            engine_.pull()
            for n in range(1, TICKETS + 1, 4):
                for mutation in (
                    Mutation(MutationType.REPLY, n, None, {"body": f"已为您查询 parcel{n} 🙂"}),
                    Mutation(MutationType.NOTE, n, None, {"body": f"内部备注 {n}"}),
                    Mutation(MutationType.TAG, n, None, {"add": ["催单", f"t{n % 5}"]}),
                    Mutation(MutationType.SET_STATUS, n, None, {"status": "pending"}),
                    Mutation(MutationType.ASSIGN, n + 1, None, {"assignee": "li"}),
                ):
                    enqueue(writer, mutation, author="sup")
            engine_.sync_once()
        writer.conn.close()
        yield Served(server, db, token, tmp_path)
    finally:
        server.stop()


def _pull(store: Path, url: str, token: str, config: SyncConfig, **kwargs) -> tuple[int, list]:
    """Pull into `store`; the pulled count and, per progress report, the children alive."""
    db = open_store(store)
    seen: list[list[str]] = []

    def on_progress(progress: Progress) -> None:
        seen.append([child.name for child in multiprocessing.active_children()])

    try:
        with Client(url, token) as client:
            report = Engine(db, client, config, on_progress=on_progress).pull(**kwargs)
        return report.pulled, seen
    finally:
        db.conn.close()


def _dump(path: Path) -> dict[str, list]:
    conn = sqlite3.connect(path)
    try:
        tables = ["tickets", "messages", "ticket_tags", "ticket_events", "customers", "agents"]
        out = {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in tables
        }
        # Every token of every indexed message, with its position (the index is contentless).
        conn.execute(
            "CREATE VIRTUAL TABLE temp.tokens USING fts5vocab(main, search_index, instance)"
        )
        out["indexed"] = conn.execute("SELECT * FROM temp.tokens ORDER BY doc, offset").fetchall()
        out["cursor"] = conn.execute("SELECT value FROM sync_state WHERE key = 'cursor'").fetchall()
        return out
    finally:
        conn.close()


def _searches(path: Path) -> list[list[tuple[int, int, str]]]:
    db = open_store(path)
    try:
        return [
            [(hit.ticket_id, hit.message_id, hit.snippet) for hit in search(db, text, order=order)]
            for text in ("订单 包裹", "parcel1*", "замовлення", "查询", "内部备注")
            for order in ("newest", "relevance")
        ]
    finally:
        db.conn.close()


def _consistent(served: Served, store: Path) -> int:
    """The store holds exactly the server's messages up to its cursor (no part of a page)."""
    conn = sqlite3.connect(store)
    try:
        row = conn.execute("SELECT value FROM sync_state WHERE key = 'cursor'").fetchone()
        cursor = int(row[0]) if row else 0
        local = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    finally:
        conn.close()
    server = sqlite3.connect(served.db)
    try:
        expected = server.execute(
            "SELECT count(*) FROM change_log WHERE kind = 'message' AND seq <= ?", (cursor,)
        ).fetchone()[0]
    finally:
        server.close()
    assert local == expected, f"cursor {cursor}: {local} messages, the server had {expected}"
    return cursor


def test_the_process_pull_gives_the_store_the_thread_pull_gives(served: Served) -> None:
    process_store, thread_store = served.tmp / "process.db", served.tmp / "thread.db"
    url, token = served.server.url, served.token
    # No head given: a store that never synced asks the server's (the stream's hello).
    pulled, seen = _pull(process_store, url, token, PROCESS)
    assert pulled == served.head
    assert any("agentcli-pull" in names for names in seen), "no child process fetched"
    assert multiprocessing.active_children() == []
    pulled_too, seen_too = _pull(thread_store, url, token, THREAD)
    assert pulled_too == pulled
    assert not any(seen_too), "a small pull must not start a process"

    assert local_checksum(process_store) == server_checksum(served.db)
    assert _dump(process_store) == _dump(thread_store)
    assert _searches(process_store) == _searches(thread_store)
    assert all(_searches(process_store)), "every query finds something"


def test_a_bad_page_is_rejected_whole_with_the_thread_paths_error_then_recovers(
    served: Served,
) -> None:
    head = served.head
    bad_seq = head // 2
    server = sqlite3.connect(served.db)
    (payload,) = server.execute(
        "SELECT payload FROM change_log WHERE seq = ?", (bad_seq,)
    ).fetchone()
    server.execute('UPDATE change_log SET payload = \'{"id": "x"}\' WHERE seq = ?', (bad_seq,))
    server.commit()
    url, token = served.server.url, served.token
    errors = []
    for name, config in (("process", PROCESS), ("thread", THREAD)):
        store = served.tmp / f"{name}.db"
        with pytest.raises(WireError) as caught:
            _pull(store, url, token, config, head=head)
        errors.append(str(caught.value))
        cursor = _consistent(served, store)
        assert bad_seq - PROCESS.page_size <= cursor < bad_seq  # the pages before it applied
    assert errors[0] == errors[1] and "data.id: expected an integer (got 'x')" in errors[0]
    assert multiprocessing.active_children() == []

    server.execute("UPDATE change_log SET payload = ? WHERE seq = ?", (payload, bad_seq))
    server.commit()
    server.close()
    pulled, _ = _pull(served.tmp / "process.db", url, token, PROCESS, head=head)
    assert pulled == head - cursor
    assert local_checksum(served.tmp / "process.db") == server_checksum(served.db)


def test_answers_cut_mid_stream_apply_nothing_of_their_page_and_the_pull_recovers(
    served: Served,
) -> None:
    """Through the fault proxy, cutting answers (truncated or reset) some pages into a
    connection: each failed pull keeps only whole pages, and pulling again converges."""
    cuts = {"clean": 1, "truncate": 2, "reset": 2}  # a page is ~10 kB: cut pages into a pull
    proxy = FaultProxy(served.server.port, seed=11, cut_within=(5_000, 50_000), weights=cuts)
    proxy.start()
    store = served.tmp / "faulty.db"
    head = served.head
    failures, cursors = 0, []
    try:
        for _ in range(60):
            try:
                _pull(store, proxy.url, served.token, PROCESS, head=head)
                break
            except SyncError:
                failures += 1
                cursors.append(_consistent(served, store))
                assert multiprocessing.active_children() == []
        else:
            pytest.fail("the pull never got through the proxy")
    finally:
        proxy.stop()
    assert failures and proxy.counts["truncate"] + proxy.counts["reset"]
    assert any(0 < cursor < head for cursor in cursors), f"no cut mid-stream: {cursors}"
    assert local_checksum(store) == server_checksum(served.db)


def test_errors_cross_from_the_child_as_the_thread_path_raises_them(served: Served) -> None:
    with pytest.raises(AuthError) as caught:
        _pull(served.tmp / "denied.db", served.server.url, "wrong", PROCESS, head=served.head)
    assert "401" in str(caught.value) and not caught.value.retryable
    limited = pickle.loads(pickle.dumps(RateLimited("429 rate limited", 2.5)))
    assert (type(limited), str(limited), limited.retry_after) == (
        RateLimited,
        "429 rate limited",
        2.5,
    )


def test_the_consoles_background_worker_pulls_through_the_child_process(served: Served) -> None:
    """The console runs the engine in SyncWorker's thread, beside its UI thread: the child is
    spawned from there, the pull completes, and the store matches the server's."""
    store = served.tmp / "console.db"
    open_store(store).conn.close()
    cycles: list[BaseException | None] = []
    worker = SyncWorker(
        store,
        lambda: Client(served.server.url, served.token),
        PROCESS,
        live=False,
        on_cycle=lambda report, error: cycles.append(error),
    )
    seen: set[str] = set()
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while not cycles and time.monotonic() < deadline:
            seen.update(child.name for child in multiprocessing.active_children())
            time.sleep(0.005)
    finally:
        worker.stop()
    assert cycles == [None], "the first cycle failed or never ended"
    assert "agentcli-pull" in seen, "no child process fetched"
    assert multiprocessing.active_children() == []
    assert _cursor(store) == served.head
    assert local_checksum(store) == server_checksum(served.db)


def test_stopping_the_worker_ends_a_first_sync_between_transactions(served: Served) -> None:
    """Quitting the console during a long first sync: the worker's pull stops after the
    transaction it is in (not after the whole backlog), its child ends, nothing is recorded as
    synced, and the next pull resumes from the cursor to the server's state."""
    store = served.tmp / "quitting.db"
    open_store(store).conn.close()
    slow = SyncConfig(page_size=1, process_from=1)  # ~1,000 requests: seconds to pull all
    worker = SyncWorker(store, lambda: Client(served.server.url, served.token), slow, live=False)
    worker.start()
    deadline = time.monotonic() + 60
    while _cursor(store) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    worker.stop(timeout=10)
    assert time.monotonic() - started < 2, "stop waited for the rest of the backlog"
    assert not worker.running
    stopped_at = _cursor(store)
    assert 0 < stopped_at < served.head
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []
    reader = open_store(store)
    assert last_synced(reader) is None
    reader.conn.close()

    pulled, _ = _pull(store, served.server.url, served.token, PROCESS)
    assert pulled == served.head - stopped_at
    assert local_checksum(store) == server_checksum(served.db)


# A client process: the real engine pulling a big backlog (any, here) into its store.
_CLIENT = """
import sys
from agentcli.store.db import open_store
from agentcli.sync.client import Client
from agentcli.sync.engine import Engine, SyncConfig
store, url, token, head = sys.argv[1:]
Engine(open_store(store), Client(url, token), SyncConfig(page_size=1, process_from=1)).pull(
    head=int(head)
)
"""


def test_kill_9_of_the_client_leaves_no_child_and_the_next_sync_resumes(served: Served) -> None:
    store, head = served.tmp / "killed.db", served.head
    open_store(store).conn.close()  # its schema exists before the client starts
    client = subprocess.Popen(
        [sys.executable, "-c", _CLIENT, str(store), served.server.url, served.token, str(head)],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        children: list[int] = []
        while time.monotonic() < deadline and client.poll() is None:
            children = children_of(client.pid)
            if children and _cursor(store) > head // 10:  # mid-pull, pages applied
                break
            time.sleep(0.02)
        assert children and client.poll() is None, "the client ended before the kill"
        client.kill()
    finally:
        client.kill()
        client.wait()
    killed_at = _consistent(served, store)
    assert 0 < killed_at < head
    deadline = time.monotonic() + 10
    while any(map(alive, children)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(alive, children)), "the pull process outlived its client"

    pulled, _ = _pull(store, served.server.url, served.token, PROCESS, head=head)
    assert pulled == head - killed_at
    assert local_checksum(store) == server_checksum(served.db)


def _cursor(store: Path) -> int:
    conn = sqlite3.connect(store, timeout=5)
    try:
        row = conn.execute("SELECT value FROM sync_state WHERE key = 'cursor'").fetchone()
        return int(row[0]) if row else 0
    finally:
        conn.close()
