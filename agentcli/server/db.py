"""Opening the server database (SQLite file or PostgreSQL URL) and its two kinds of transaction.

Every write transaction is serialized against every other writer *before* it takes a change-log
seq, so seqs become visible in commit order and a client polling `after=SEQ` never skips one:
- PostgreSQL: `pg_advisory_xact_lock`, held to commit (a plain BIGSERIAL cursor loses changes:
  seq 2 can commit and be read before seq 1 commits).
- SQLite: `BEGIN IMMEDIATE` takes the database write lock up front. The sqlite3 driver's own
  implicit BEGIN is switched off so we can issue it ourselves.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import IntegrityError

from agentcli.server.schema import migrate

SERVER_DB_ENV = "AGENTCLI_SERVER_DB"
# One application-wide advisory lock key ("acli" in ASCII) for the change-log writer.
CHANGE_LOG_LOCK = 0x61636C69


def default_db_url() -> str:
    """`$AGENTCLI_SERVER_DB`, else `server.db` in the user data dir."""
    if env := os.environ.get(SERVER_DB_ENV):
        return env
    return str(Path(user_data_dir("agentcli", appauthor=False)) / "server.db")


def to_sqlalchemy_url(db: str) -> str:
    """A `postgresql://` URL (psycopg 3 driver), a `sqlite:///` URL, or a plain file path."""
    if db.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    if "://" in db:
        return db
    path = Path(db).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def open_engine(db: str, *, migrate_schema: bool = True) -> Engine:
    url = to_sqlalchemy_url(db)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
        )
        _configure_sqlite(engine)
        _SQLITE_WRITERS[engine] = threading.Lock()
    else:
        engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    if migrate_schema:
        with write_tx(engine) as conn:
            migrate(conn)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see "begin")
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def is_postgres(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "postgresql"


# This process's SQLite writers queue on a lock and start the moment the writer before them
# commits; SQLite's busy handler (left to other processes) retries a locked BEGIN IMMEDIATE
# after sleeps growing to 100 ms, which concurrent pushes paid as latency.
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the writer lock from its start to commit."""
    with _SQLITE_WRITERS.get(engine) or contextlib.nullcontext(), engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            if is_postgres(conn):
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOG_LOCK})
            yield conn


@contextmanager
def read_tx(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction: one consistent snapshot, no writer lock."""
    with engine.connect() as conn, conn.begin():
        yield conn


@contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """Undo the block's writes when it raises IntegrityError (re-raised), keeping the rest of
    the transaction. Plain SAVEPOINT statements: `begin_nested()` compiles a new clause per
    call (a fifth of a push's time once); these savepoints are never nested.
    """
    conn.exec_driver_sql("SAVEPOINT acli_savepoint")
    try:
        yield
    except IntegrityError:
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT acli_savepoint")
        conn.exec_driver_sql("RELEASE SAVEPOINT acli_savepoint")
        raise
    conn.exec_driver_sql("RELEASE SAVEPOINT acli_savepoint")


@contextmanager
def read_one(engine: Engine) -> Iterator[Connection]:
    """A connection for a single read statement (every request's token lookup). PostgreSQL:
    in autocommit, which saves the BEGIN and COMMIT round trips (one statement reads one
    snapshot anyway); SQLite: a plain `read_tx`.
    """
    if engine.dialect.name != "postgresql":
        with read_tx(engine) as conn:
            yield conn
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn
