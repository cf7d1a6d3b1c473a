"""Migration 9: search_index recreated with FTS5 `columnsize=0` (no search_index_docsize) and
every message indexed again exactly as its writers index it: the opening message (lowest
positive id of its ticket) with the ticket's subject, every other one, local unsent replies
(negative ids) included, with its body alone.

Stores are real SQLite files built at schema version 8 by the migration runner itself, then
filled through the normal writers (the seeder, a queued reply)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlite_utils

from agentcli.domain.mutations import Mutation, MutationType
from agentcli.domain.text import index_words, indexed_source
from agentcli.store import migrations
from agentcli.store.bulk import seed_store
from agentcli.store.db import open_store, transaction
from agentcli.store.migrations import SCHEMA_VERSION, migrate
from agentcli.store.outbox import drop_local_message, enqueue
from agentcli.store.search import Order, reindex_message, search, unindex_message

NOW = int(datetime(2026, 5, 1, 12, tzinfo=UTC).timestamp())
LOCAL_REPLY = "Refund approved: 退款已原路退回. Повернення за замовленням оформлено."
ORDERS: tuple[Order, ...] = ("newest", "relevance")
QUERIES = (
    "退款",  # CJK two-character words (Simplified, Traditional)
    "包裹",
    "refund",  # English word forms (prefix: refund, refunded, refunds)
    "replacement",
    "замовлен",  # Ukrainian word forms (замовлення, замовленням, ...)
    "посилк",
    '"原路退回"',  # phrases
    '"has been repaired"',
    "退款 refund",  # terms ANDed across scripts
)


def _store_at_8(path: Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, 8) == 8
    return sqlite_utils.Database(conn)


def _subject_only_word(db: sqlite_utils.Database) -> tuple[int, str]:
    """A ticket (English or Ukrainian) and a word of its subject that no message body has, so
    only opening messages can match it."""
    bodies = [body for (body,) in db.conn.execute("SELECT body FROM messages")]
    body_words, _ = index_words(bodies)
    rows = db.conn.execute(
        "SELECT id, subject FROM tickets WHERE language IN ('en', 'uk') ORDER BY id"
    )
    for ticket_id, subject in rows:
        words, _ = index_words([subject])
        # Not even a prefix of a body word: the query below is an exact phrase anyway.
        only = sorted(w for w in words if not any(b.startswith(w) for b in body_words))
        if only:
            return ticket_id, max(only, key=len)
    raise AssertionError("the seeded store has no subject-only word")


def _seeded_v8(path: Path) -> tuple[sqlite_utils.Database, str, int]:
    """A version 8 store with 300 seeded tickets and one local (negative id) reply on a ticket
    whose subject carries a word no body has; returns (db, that word, the reply's id)."""
    db = _store_at_8(path)
    seed_store(db, 300, seed=7, now=NOW)
    ticket_id, word = _subject_only_word(db)
    version = db.conn.execute("SELECT version FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    reply = Mutation(MutationType.REPLY, ticket_id, base_version=version[0])
    reply.payload["body"] = LOCAL_REPLY
    seq = enqueue(db, reply, author="li")
    return db, word, -seq


def _results(db: sqlite_utils.Database, query: str) -> list[tuple]:
    return [
        (hit.message_id, hit.ticket_id, hit.subject, hit.snippet, hit.spans, hit.score)
        for order in ORDERS
        for hit in search(db, query, limit=500, order=order)
    ]


def _instances(conn: sqlite3.Connection) -> list[tuple]:
    """Every (term, message id, offset) in the index: equal lists mean equal indexed texts."""
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.index_instances"
        " USING fts5vocab(main, search_index, instance)"
    )
    return conn.execute(
        "SELECT term, doc, offset FROM temp.index_instances ORDER BY doc, offset, term"
    ).fetchall()


def _openings(conn: sqlite3.Connection) -> set[int]:
    rows = conn.execute("SELECT min(id) FROM messages WHERE id > 0 GROUP BY ticket_id")
    return {row[0] for row in rows}


def _search_index_sql(conn: sqlite3.Connection) -> str:
    return conn.execute("SELECT sql FROM sqlite_master WHERE name = 'search_index'").fetchone()[0]


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migration_9_reindexes_every_message_as_the_writers_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    db, subject_word, local_id = _seeded_v8(path)
    conn = db.conn
    assert "search_index_docsize" in _tables(conn)
    queries = (*QUERIES, f'"{subject_word}"')
    before = {query: _results(db, query) for query in queries}
    for query, hits in before.items():
        assert hits, f"{query!r} finds nothing in the seeded store: pick another query"
    # The local reply is found, and the subject word finds opening messages only: the
    # ticket with the local reply (whose negative id is its lowest) among them.
    assert local_id in {hit[0] for hit in before["refund"]}
    subject_hits = {hit[0] for hit in before[f'"{subject_word}"']}
    assert subject_hits <= _openings(conn)
    assert (
        conn.execute(
            "SELECT min(id) FROM messages WHERE id > 0 AND ticket_id = "
            "(SELECT ticket_id FROM messages WHERE id = ?)",
            (local_id,),
        ).fetchone()[0]
        in subject_hits
    )
    instances = _instances(conn)
    words = conn.execute("SELECT word FROM search_words ORDER BY word").fetchall()
    conn.close()

    monkeypatch.setattr(migrations, "REINDEX_BATCH", 97)  # many batches, one cut mid-ticket
    db = open_store(path)  # migrates 8 -> 9, as the app does
    conn = db.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 9
    assert "columnsize=0" in _search_index_sql(conn)
    assert "search_index_docsize" not in _tables(conn)
    assert {query: _results(db, query) for query in queries} == before
    assert _instances(conn) == instances
    assert conn.execute("SELECT word FROM search_words ORDER BY word").fetchall() == words
    conn.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")


def test_a_new_store_gets_version_9_directly(tmp_path: Path) -> None:
    db = open_store(tmp_path / "new.db")
    conn = db.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 9
    assert "columnsize=0" in _search_index_sql(conn)
    assert "search_index_docsize" not in _tables(conn)
    # Nothing to index, so no merge settings were written: FTS5's defaults apply.
    assert conn.execute("SELECT k FROM search_index_config WHERE k != 'version'").fetchall() == []
    seed_store(db, 50, seed=3, now=NOW)
    assert search(db, "退款")
    conn.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")


def test_unindexing_works_after_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    db, subject_word, local_id = _seeded_v8(path)
    db.conn.close()
    db = open_store(path)
    conn = db.conn
    opening, body, subject = conn.execute(
        "SELECT m.id, m.body, t.subject FROM messages m"
        " JOIN tickets t ON t.id = m.ticket_id WHERE m.id = ("
        "SELECT min(id) FROM messages WHERE id > 0 AND ticket_id = "
        "(SELECT ticket_id FROM messages WHERE id = ?))",
        (local_id,),
    ).fetchone()
    edited, edited_body = conn.execute(  # a reply (indexed without the subject)
        "SELECT id, body FROM messages m WHERE id > "
        "(SELECT min(id) FROM messages WHERE ticket_id = m.ticket_id AND id > 0)"
        " ORDER BY id LIMIT 1"
    ).fetchone()
    assert opening in {hit.message_id for hit in search(db, f'"{subject_word}"', limit=2000)}
    assert local_id in {hit.message_id for hit in search(db, "refund", limit=2000)}
    instances = _instances(conn)

    with transaction(db):
        # The opening message goes with exactly its subject + body; the local reply as the
        # outbox drops it (body alone); another message's text is replaced.
        unindex_message(conn, opening, indexed_source(body, subject))
        drop_local_message(conn, local_id)
        reindex_message(conn, edited, edited_body, "Zwischenablage edited")
    conn.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")

    # Nothing of the removed texts is left: a wrong text would leave stale tokens behind.
    gone = {opening, local_id, edited}
    assert [row for row in _instances(conn) if row[1] != edited] == [
        row for row in instances if row[1] not in gone
    ]
    assert [row for row in _instances(conn) if row[1] == edited] == [
        ("zwischenablage", edited, 0),
        ("edited", edited, 1),
    ]
    assert [hit.message_id for hit in search(db, "zwischenablage")] == [edited]
    assert opening not in {hit.message_id for hit in search(db, f'"{subject_word}"', limit=2000)}
    assert local_id not in {hit.message_id for hit in search(db, "refund", limit=2000)}


def test_merge_settings_carry_over_and_the_seeder_still_sets_them(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    db = _store_at_8(path)
    seed_store(db, 100, seed=2, now=NOW)
    for key, value in (("automerge", 8), ("usermerge", 6)):
        db.conn.execute("INSERT INTO search_index(search_index, rank) VALUES (?, ?)", (key, value))
    db.conn.close()

    db = open_store(path)
    conn = db.conn
    config = "SELECT k, v FROM search_index_config WHERE k != 'version' ORDER BY k"
    assert conn.execute(config).fetchall() == [
        ("automerge", 8),
        ("crisismerge", 16),
        ("usermerge", 6),
    ]
    # A big load (merging switched off, then one optimize) over the new index.
    seed_store(db, 100, seed=4, now=NOW, rebuild_indexes=True)
    assert conn.execute(config).fetchall() == [
        ("automerge", 8),
        ("crisismerge", 16),
        ("usermerge", 6),
    ]
    conn.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
    # Both loads are indexed (fts5vocab lists only rows with a token: see test_seed).
    ids = {row[0] for row in conn.execute("SELECT id FROM messages")}
    indexed = {row[1] for row in _instances(conn)}
    assert indexed <= ids and len(indexed) > 0.95 * len(ids)
    first_load = conn.execute("SELECT max(id) FROM messages WHERE ticket_id <= 100").fetchone()[0]
    assert min(indexed) < first_load < max(indexed) == max(ids)
