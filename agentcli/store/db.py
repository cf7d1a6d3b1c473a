"""Opening the local store: path resolution, connection pragmas, migrations."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from platformdirs import user_data_dir

from agentcli.store.migrations import migrate

DB_ENV = "AGENTCLI_DB"


def default_db_path() -> Path:
    """`$AGENTCLI_DB`, else `agentcli.db` in the user data dir."""
    if env := os.environ.get(DB_ENV):
        return Path(env)
    return Path(user_data_dir("agentcli", appauthor=False)) / "agentcli.db"


def open_store(path: str | Path, *, check_same_thread: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the store at `path`, in WAL mode, migrated to the latest schema."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves (db.atomic / explicit transactions).
    conn = sqlite3.connect(path, check_same_thread=check_same_thread, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # durable across app crashes in WAL mode
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache
    migrate(conn)
    return sqlite_utils.Database(conn)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """One write transaction: BEGIN IMMEDIATE (take the write lock up front), COMMIT or ROLLBACK."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
