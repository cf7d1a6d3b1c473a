"""The console's reads and writes of the local store, each run from a worker thread.

SQLite connections must not cross threads, so `StoreAccess.db()` gives every thread its own
connection to the same file (WAL lets them read while one writes). Message bodies are read
with `substr` and their length, so a 1 MB message never reaches the UI whole.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from agentcli.store.db import open_store

# The most of one message body the ticket view loads; the rest is counted, not read.
THREAD_BODY_CHARS = 16_000
PREVIEW_BODY_CHARS = 4_000
OTHER_TICKETS = 8
WORKER_CACHE_KIB = 4 * 1024


class StoreAccess:
    """One store file, one connection per thread that asks for it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[tuple[threading.Thread, sqlite_utils.Database]] = []

    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            # check_same_thread=False only so close_all() may close it from the main thread.
            db = open_store(self.path, check_same_thread=False)
            # open_store's 64 MiB page cache is per connection; with one connection per worker
            # thread that reached ~460 MB peak RSS at 1M tickets. 8 MiB each is plenty for pages.
            db.conn.execute(f"PRAGMA cache_size = -{WORKER_CACHE_KIB}")
            self._local.db = db
            with self._lock:
                self._all.append((threading.current_thread(), db))
        return db

    def close_all(self) -> None:
        """At quit: stop every statement, and close the connections no other thread is
        still using. Closing one under a statement another thread is stepping (a count over
        1M rows, a page read) crashes the process; an interrupted statement ends soon, and
        a connection left open is closed by the process exit (WAL keeps the file sound)."""
        me = threading.current_thread()
        with self._lock:
            for _owner, db in self._all:
                with contextlib.suppress(sqlite3.Error):
                    db.conn.interrupt()
            for owner, db in self._all:
                if owner is me or not owner.is_alive():
                    with contextlib.suppress(sqlite3.Error):
                        db.conn.close()
            self._all.clear()


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(db: sqlite_utils.Database, sql: str, params: tuple[Any, ...]) -> dict[str, Any] | None:
    rows = _dicts(db.conn.execute(sql, params))
    return rows[0] if rows else None


@dataclass
class MessageView:
    id: int
    kind: str
    author_kind: str
    author: str
    channel: str
    body: str  # at most THREAD_BODY_CHARS characters
    length: int  # the whole body's length
    created_at: int
    pending: bool


@dataclass
class TicketDetail:
    ticket: dict[str, Any]  # raw tickets row (epoch times, priority rank, tags JSON)
    customer: dict[str, Any] | None
    order: dict[str, Any] | None
    messages: list[MessageView]
    others: list[dict[str, Any]] = field(default_factory=list)
    # {macro id: similar tickets it was used on}, for the macro picker's suggestions
    macro_usage: dict[str, int] = field(default_factory=dict)

    @property
    def tags(self) -> list[str]:
        try:
            tags = json.loads(self.ticket.get("tags") or "[]")
        except ValueError:
            return []
        return [str(tag) for tag in tags] if isinstance(tags, list) else []

    def last_customer_message(self) -> str:
        for message in reversed(self.messages):
            if message.author_kind == "customer":
                return message.body
        return ""


def load_ticket(db: sqlite_utils.Database, ticket_id: int) -> TicketDetail | None:
    ticket = _one(db, "SELECT * FROM tickets WHERE id = ?", (ticket_id,))
    if ticket is None:
        return None
    customer = _one(db, "SELECT * FROM customers WHERE id = ?", (ticket["requester_id"],))
    order = None
    if ticket.get("order_id"):
        order = _one(db, "SELECT * FROM orders WHERE id = ?", (ticket["order_id"],))
    cursor = db.conn.execute(
        "SELECT id, kind, author_kind, author, channel, substr(body, 1, ?), length(body),"
        " created_at, pending FROM messages WHERE ticket_id = ? ORDER BY created_at, id",
        (THREAD_BODY_CHARS, ticket_id),
    )
    messages = [
        MessageView(r[0], r[1], r[2], r[3], r[4], r[5] or "", r[6] or 0, r[7], bool(r[8]))
        for r in cursor.fetchall()
    ]
    others = _dicts(
        db.conn.execute(
            "SELECT id, subject, status, updated_at FROM tickets"
            " WHERE requester_id = ? AND id != ? ORDER BY updated_at DESC LIMIT ?",
            (ticket["requester_id"], ticket_id, OTHER_TICKETS),
        )
    )
    return TicketDetail(ticket, customer, order, messages, others)


def latest_message(db: sqlite_utils.Database, ticket_id: int) -> tuple[str, str, str, int] | None:
    """(body prefix, author, kind, whole length) of the newest message, or None."""
    row = db.conn.execute(
        "SELECT substr(body, 1, ?), author, kind, length(body) FROM messages"
        " WHERE ticket_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
        (PREVIEW_BODY_CHARS, ticket_id),
    ).fetchone()
    if row is None:
        return None
    return row[0] or "", row[1], row[2], row[3] or 0


def outbox_size(db: sqlite_utils.Database) -> int:
    return int(db.conn.execute("SELECT count(*) FROM outbox WHERE state = 'queued'").fetchone()[0])


def default_agent(db: sqlite_utils.Database) -> str | None:
    """The first active agent of the store, for a console started without --agent."""
    row = db.conn.execute(
        "SELECT login FROM agents WHERE active = 1 ORDER BY role = 'agent' DESC, login LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def agent_row(db: sqlite_utils.Database, login: str) -> dict[str, Any]:
    return _one(db, "SELECT * FROM agents WHERE login = ?", (login,)) or {
        "login": login,
        "name": login,
    }
