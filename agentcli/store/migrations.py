"""Numbered schema migrations for the local store, tracked in `PRAGMA user_version`.

Append a new entry to MIGRATIONS to change the schema; never edit a released one. An entry is
an SQL script, or a function of the connection for a step that needs Python (re-indexing
text); either runs in one transaction that also sets user_version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from agentcli.domain.text import index_text, indexed_source
from agentcli.store import fts_config

# Counters per (status, assignee, queue) so sidebar counts never scan the tickets table.
_COUNTER_TRIGGERS = """
CREATE TRIGGER tickets_count_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO view_counts(status, assignee, queue, n)
    VALUES (new.status, new.assignee, new.queue, 1)
    ON CONFLICT(status, assignee, queue) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER tickets_count_delete AFTER DELETE ON tickets BEGIN
    UPDATE view_counts SET n = n - 1
    WHERE status = old.status AND assignee = old.assignee AND queue = old.queue;
END;
CREATE TRIGGER tickets_count_update AFTER UPDATE OF status, assignee, queue ON tickets
WHEN old.status IS NOT new.status OR old.assignee IS NOT new.assignee OR old.queue IS NOT new.queue
BEGIN
    UPDATE view_counts SET n = n - 1
    WHERE status = old.status AND assignee = old.assignee AND queue = old.queue;
    INSERT INTO view_counts(status, assignee, queue, n)
    VALUES (new.status, new.assignee, new.queue, 1)
    ON CONFLICT(status, assignee, queue) DO UPDATE SET n = n + 1;
END;
"""

COUNTER_TRIGGER_NAMES = ("tickets_count_insert", "tickets_count_delete", "tickets_count_update")

Migration = str | Callable[[sqlite3.Connection], None]

# Messages re-indexed per executemany by migration 9 (bounded memory at millions of messages).
REINDEX_BATCH = 10_000
# Messages in id order (local unsent ones, negative, first), each with its ticket's subject if
# it is the ticket's opening message (lowest positive id), as every writer indexes them.
_REINDEX_ROWS = """
    SELECT m.id, m.body,
           CASE WHEN m.id > 0 AND m.id = (
               SELECT min(o.id) FROM messages o WHERE o.ticket_id = m.ticket_id AND o.id > 0
           ) THEN (SELECT t.subject FROM tickets t WHERE t.id = m.ticket_id) END
    FROM messages m {where} ORDER BY m.id LIMIT ?
"""


def _recreate_search_index(conn: sqlite3.Connection) -> None:
    """Migration 9: search_index without document sizes, every message indexed again."""
    config = conn.execute("SELECT k, v FROM search_index_config WHERE k != 'version'").fetchall()
    conn.execute("DROP TABLE search_index")
    conn.execute(
        """CREATE VIRTUAL TABLE search_index USING fts5(
            text, content='', columnsize=0, tokenize='unicode61 remove_diacritics 0'
        )"""
    )
    fts_config.set_options(conn, dict(config))  # what the old index had (e.g. the seeder's)
    if conn.execute("SELECT 1 FROM messages LIMIT 1").fetchone() is None:
        return  # a new store: nothing to index
    fts_config.set_options(conn, fts_config.LOAD)  # merged once, at the end
    insert = "INSERT INTO search_index(rowid, text) VALUES (?, ?)"
    rows = conn.execute(_REINDEX_ROWS.format(where=""), (REINDEX_BATCH,)).fetchall()
    while rows:
        conn.executemany(
            insert,
            [
                (message_id, index_text(indexed_source(body, subject)))
                for message_id, body, subject in rows
            ],
        )
        if len(rows) < REINDEX_BATCH:
            break
        rows = conn.execute(
            _REINDEX_ROWS.format(where="WHERE m.id > ?"), (rows[-1][0], REINDEX_BATCH)
        ).fetchall()
    fts_config.optimize(conn)
    old = dict(config)
    fts_config.set_options(
        conn, {key: old.get(key, default) for key, default in fts_config.DEFAULTS.items()}
    )


MIGRATIONS: list[Migration] = [
    # 1: the base schema.
    """
    CREATE TABLE customers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        locale TEXT NOT NULL,
        tier TEXT NOT NULL DEFAULT 'regular',
        email TEXT,
        phone TEXT,
        handles TEXT NOT NULL DEFAULT '{}'          -- JSON: channel -> handle
    );
    CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        number TEXT NOT NULL,
        customer_id INTEGER NOT NULL,
        items TEXT NOT NULL,                        -- JSON list of {sku,title,quantity,unit_price}
        total TEXT NOT NULL,                        -- decimal string
        currency TEXT NOT NULL,
        placed_at INTEGER NOT NULL,
        carrier TEXT,
        tracking_number TEXT,
        shipped_at INTEGER,
        delivered_at INTEGER
    );
    CREATE TABLE agents (
        login TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        languages TEXT NOT NULL DEFAULT '',         -- comma separated
        capacity INTEGER NOT NULL DEFAULT 20,
        queues TEXT NOT NULL DEFAULT '',            -- comma separated
        active INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        subject TEXT NOT NULL,
        status TEXT NOT NULL,
        priority INTEGER NOT NULL,                  -- Priority.rank: 0 low .. 3 urgent
        channel TEXT NOT NULL,
        queue TEXT NOT NULL,
        assignee TEXT NOT NULL DEFAULT '',          -- '' = unassigned, so indexes can seek it
        requester_id INTEGER NOT NULL,
        language TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '[]',            -- JSON list, for display; ticket_tags to filter
        order_id INTEGER,
        case_type TEXT,
        case_state TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        first_reply_due INTEGER,
        next_reply_due INTEGER,
        resolution_due INTEGER,
        sla_due INTEGER NOT NULL,                   -- earliest running due time, or SLA_NEVER
        snoozed_until INTEGER,
        version INTEGER NOT NULL DEFAULT 1,
        pending INTEGER NOT NULL DEFAULT 0,         -- local mutations not yet settled
        last_message_id INTEGER
    );
    CREATE TABLE ticket_tags (
        tag TEXT NOT NULL,
        ticket_id INTEGER NOT NULL,
        PRIMARY KEY (tag, ticket_id)
    ) WITHOUT ROWID;
    CREATE INDEX ticket_tags_by_ticket ON ticket_tags(ticket_id);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,                     -- server id; negative for local unsent ones
        ticket_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        author_kind TEXT NOT NULL,
        author TEXT NOT NULL,
        channel TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        pending INTEGER NOT NULL DEFAULT 0
    );
    -- Full-text index of message bodies (the opening message also carries the subject).
    -- Contentless: rowid = messages.id; text is pre-tokenized (see agentcli.domain.text).
    CREATE VIRTUAL TABLE search_index USING fts5(
        text, content='', tokenize='unicode61 remove_diacritics 0'
    );
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        ticket_id INTEGER NOT NULL,
        base_version INTEGER,
        payload TEXT NOT NULL,                      -- JSON
        created_at INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued',       -- queued | rejected
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE INDEX outbox_by_ticket ON outbox(ticket_id, seq);
    CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE saved_views (name TEXT PRIMARY KEY, query TEXT NOT NULL);
    CREATE TABLE view_counts (
        status TEXT NOT NULL,
        assignee TEXT NOT NULL,
        queue TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (status, assignee, queue)
    ) WITHOUT ROWID;
    """
    + _COUNTER_TRIGGERS,
    # 2: indexes for the inbox views (each ends in its sort key so a page is an index range).
    """
    CREATE INDEX messages_by_ticket ON messages(ticket_id, id);
    CREATE INDEX tickets_by_assignee_sla ON tickets(assignee, sla_due, id);
    CREATE INDEX tickets_by_queue_sla ON tickets(queue, sla_due, id);
    CREATE INDEX tickets_by_status_sla ON tickets(status, sla_due, id);
    CREATE INDEX tickets_by_sla ON tickets(sla_due, id);
    CREATE INDEX tickets_by_updated ON tickets(updated_at, id);
    CREATE INDEX tickets_by_created ON tickets(created_at, id);
    CREATE INDEX tickets_by_requester ON tickets(requester_id, updated_at);
    CREATE INDEX tickets_snoozed ON tickets(snoozed_until) WHERE snoozed_until IS NOT NULL;
    """,
    # 3: inbox gaps measured at 1M tickets (tests/benchmarks/bench_inbox.py): `sort:priority`
    # had no index, so every page was a full sort; `is:pending` (unsynced) scanned every row,
    # 164 ms to count. The partial index holds only the few unsettled tickets.
    """
    CREATE INDEX tickets_by_priority ON tickets(priority, id);
    CREATE INDEX tickets_unsynced ON tickets(updated_at) WHERE pending != 0;
    """,
    # 4: composer drafts, saved as the agent types so a crash never loses text (one per ticket
    # and kind); `macros` is the JSON list of macros stacked into it, queued on send.
    """
    CREATE TABLE drafts (
        ticket_id INTEGER NOT NULL,
        kind TEXT NOT NULL,                         -- reply | note
        body TEXT NOT NULL,
        macros TEXT NOT NULL DEFAULT '[]',          -- JSON: [{"id": ..., "vars": {...}}]
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (ticket_id, kind)
    ) WITHOUT ROWID;
    """,
    # 5: sync settling. An applied outbox row stays until the change feed brings its effect
    # (`result_version`, or the server's copy of a reply, `message_id`), so a reply never shows
    # twice and a pending change never vanishes; `ticket_base` holds the server's state of a
    # ticket with unsettled changes (agentcli.store.overlay); lost compare-and-set races are
    # kept as conflict records for the user to re-apply or discard.
    """
    ALTER TABLE outbox ADD COLUMN result_version INTEGER;
    ALTER TABLE outbox ADD COLUMN message_id INTEGER;
    CREATE INDEX outbox_by_state ON outbox(state, seq);
    CREATE INDEX outbox_by_message ON outbox(message_id) WHERE message_id IS NOT NULL;
    CREATE TABLE ticket_base (ticket_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE conflicts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        ticket_id INTEGER NOT NULL,
        base_version INTEGER,
        payload TEXT NOT NULL,                      -- JSON: the user's intent
        reason TEXT,
        server_version INTEGER,
        server_state TEXT,                          -- JSON wire ticket the server answered with
        created_at INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'open',         -- open | reapplied | discarded
        resolved_at INTEGER,
        reapplied_as TEXT                           -- client_id of the re-applied mutation
    );
    CREATE INDEX conflicts_by_state ON conflicts(state, id);
    """,
    # 6: the per-ticket audit trail, as the server's `event` changes bring it (append-only,
    # server ids). Read by ticket (history pane), by actor (an agent's last activity on the
    # supervisor board) and by field and time (status and CSAT metrics).
    """
    CREATE TABLE ticket_events (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,                        -- agent login, 'system' or 'customer'
        client TEXT,                                -- e.g. 'agentcli/0.1.0 <mutation id>', 'smtp'
        field TEXT NOT NULL,                        -- status, priority, assignee, reply, csat, ...
        old TEXT,
        new TEXT
    );
    CREATE INDEX ticket_events_by_ticket ON ticket_events(ticket_id, id);
    CREATE INDEX ticket_events_by_actor ON ticket_events(actor, at);
    CREATE INDEX ticket_events_by_field ON ticket_events(field, at);
    """,
    # 7: every non-CJK token ever indexed, so search expands a prefix (`refund` *) into its
    # exact words, which FTS5 walks newest-first instead of merging every hit of the prefix
    # first (agentcli.store.search). Filled here once from the index's own term list (fts5vocab
    # counts every doclist: ~7 s at 3.4M messages); every writer of search_index adds to it.
    # CJK characters (single-character tokens, see agentcli.domain.text) are left out.
    """
    CREATE TABLE search_words (word TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE VIRTUAL TABLE temp.search_words_source USING fts5vocab(main, search_index, row);
    INSERT INTO search_words(word)
    SELECT term FROM temp.search_words_source
    WHERE length(term) > 1 OR NOT (
        unicode(term) BETWEEN 0x3040 AND 0x30ff OR unicode(term) BETWEEN 0x3400 AND 0x4dbf
        OR unicode(term) BETWEEN 0x4e00 AND 0x9fff OR unicode(term) BETWEEN 0xac00 AND 0xd7af
        OR unicode(term) BETWEEN 0xf900 AND 0xfaff
    );
    DROP TABLE temp.search_words_source;
    """,
    # 8: the supervisor board's waiting line per queue (oldest unassigned unresolved ticket and
    # the channel mix). A partial index holds only those tickets (a few percent of the store),
    # so the board reads it index-only instead of visiting every unassigned row (55 -> 5 ms at
    # 1M), and inserts of assigned or resolved tickets never touch it.
    """
    CREATE INDEX tickets_waiting ON tickets(queue, channel, created_at)
    WHERE assignee = '' AND status IN ('new', 'open', 'pending', 'on-hold');
    """,
    # 9: the full-text index without FTS5's document sizes (`columnsize=0`: no
    # search_index_docsize row per message). Nothing reads them (no bm25()/rank: relevance is
    # scored in Python, agentcli.store.search), and writing them was ~20% of the index's insert
    # CPU when seeding or on a first sync (insert + optimize of 679k rows: 3.42 -> 2.63 s).
    # FTS5 options can't be altered, so the index is recreated and every message indexed again
    # as its writers index it (_recreate_search_index); search_words lists words, not rows,
    # and stays as it is. Without document sizes a contentless FTS5 table can't be scanned:
    # only MATCH queries work on it (nothing else ever queried it).
    _recreate_search_index,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, version: int = SCHEMA_VERSION) -> int:
    """Bring the schema to `version` (default: the latest), one transaction per step; return
    the version. Tests pass an older `version` to build a store as a released agentcli did."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise RuntimeError(
            f"store schema version {current} is newer than this agentcli ({SCHEMA_VERSION})"
        )
    for number in range(current + 1, version + 1):
        step = MIGRATIONS[number - 1]
        if isinstance(step, str):
            conn.executescript(f"BEGIN;\n{step}\nPRAGMA user_version = {number};\nCOMMIT;")
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return max(current, version)
