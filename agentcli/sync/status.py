"""Sync status in the store's `sync_state` table, so the CLI and the TUI read one truth.

Keys: server, agent, online (1/0), last_sync, last_attempt, last_error, last_error_at (Unix
seconds). Writers are the engine (each cycle) and `agentcli login`; readers never need the
network.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from agentcli.domain.clock import from_epoch, now_epoch
from agentcli.store.changes import read_cursor
from agentcli.store.conflicts import open_count
from agentcli.store.db import transaction

KEYS = ("server", "agent", "online", "last_sync", "last_attempt", "last_error", "last_error_at")


def set_state(db: sqlite_utils.Database, **values: str | int | None) -> None:
    """Write (or, with None, remove) sync_state keys in one transaction."""
    with transaction(db) as conn:
        for key, value in values.items():
            if value is None:
                conn.execute("DELETE FROM sync_state WHERE key = ?", (key,))
            else:
                conn.execute(
                    "INSERT INTO sync_state(key, value) VALUES (?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, str(value)),
                )


def record_success(db: sqlite_utils.Database) -> None:
    now = now_epoch()
    set_state(db, online=1, last_sync=now, last_attempt=now, last_error=None, last_error_at=None)


def record_error(db: sqlite_utils.Database, message: str, *, online: bool) -> None:
    now = now_epoch()
    set_state(db, online=int(online), last_attempt=now, last_error=message[:500], last_error_at=now)


def last_synced(db: sqlite_utils.Database) -> int | None:
    """When the last sync cycle succeeded (Unix seconds); None if this store never synced."""
    row = db.conn.execute("SELECT value FROM sync_state WHERE key = 'last_sync'").fetchone()
    return int(row[0]) if row else None


def _iso(value: str | None) -> str | None:
    if value is None:
        return None
    moment = from_epoch(int(value))
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def read_status(db: sqlite_utils.Database) -> dict[str, Any]:
    state = dict(db.conn.execute("SELECT key, value FROM sync_state").fetchall())
    counts = dict(db.conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    return {
        "server": state.get("server"),
        "agent": state.get("agent"),
        "online": state.get("online") == "1",
        "last_sync": _iso(state.get("last_sync")),
        "last_attempt": _iso(state.get("last_attempt")),
        "cursor": read_cursor(db),
        "outbox": counts.get("queued", 0),
        "awaiting_echo": counts.get("applied", 0),
        "rejected": counts.get("rejected", 0),
        "conflicts": open_count(db),
        "last_error": state.get("last_error"),
        "last_error_at": _iso(state.get("last_error_at")),
    }
