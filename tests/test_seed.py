"""`agentcli seed`: deterministic, realistic, consistent demo data in a real store."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentcli.cli.main import main
from agentcli.domain.cases import CaseType
from agentcli.domain.clock import SLA_NEVER
from agentcli.domain.text import index_text, tokenize
from agentcli.domain.vocabulary import LANGUAGES, Channel, Status
from agentcli.store.bulk import seed_store
from agentcli.store.db import open_store
from agentcli.store.migrations import COUNTER_TRIGGER_NAMES

NOW = "2026-05-01T12:00:00"
NOW_EPOCH = int(datetime(2026, 5, 1, 12, tzinfo=UTC).timestamp())
TICKETS = 3000

TRACKING = {
    "SF Express": r"SF\d{13}",
    "JD Logistics": r"JDVA\d{11}",
    "YTO Express": r"YT\d{13}",
    "T-Cat": r"\d{12}",
    "Hsinchu Logistics": r"\d{10}",
    "Nova Poshta": r"20450\d{9}",
    "Ukrposhta": r"05\d{11}",
    "UPS": r"1Z[0-9A-Z]{6}03\d{8}",
    "USPS": r"9400\d{18}",
    "FedEx": r"\d{12}",
}
CURRENCY = {"zh-CN": "CNY", "zh-TW": "TWD", "uk": "UAH", "en": "USD"}


def run_seed(db: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", str(db), "seed", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    db = tmp_path_factory.mktemp("seed") / "store.db"
    output = run_seed(db, "--tickets", str(TICKETS), "--seed", "7", "--now", NOW)
    assert f"{TICKETS:,} tickets" in output and "tickets/s" in output
    conn = sqlite3.connect(db)
    yield conn
    conn.close()


def column(conn: sqlite3.Connection, sql: str) -> list:
    return [row[0] for row in conn.execute(sql)]


def test_same_seed_gives_same_texts_and_other_seed_differs(tmp_path: Path) -> None:
    texts = []
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        run_seed(tmp_path / f"{name}.db", "--tickets", "400", "--seed", seed, "--now", NOW)
        conn = sqlite3.connect(tmp_path / f"{name}.db")
        texts.append(
            (
                column(conn, "SELECT subject FROM tickets ORDER BY id"),
                column(conn, "SELECT body FROM messages ORDER BY id"),
                column(conn, "SELECT tracking_number FROM orders ORDER BY id"),
            )
        )
        conn.close()
    assert texts[0] == texts[1]
    assert texts[0][0] != texts[2][0] and texts[0][1] != texts[2][1]


def test_covers_every_channel_case_type_language_and_status(seeded: sqlite3.Connection) -> None:
    assert set(column(seeded, "SELECT DISTINCT channel FROM tickets")) == set(Channel)
    assert set(
        column(seeded, "SELECT DISTINCT case_type FROM tickets WHERE case_type IS NOT NULL")
    ) == set(CaseType)
    assert set(column(seeded, "SELECT DISTINCT language FROM tickets")) == set(LANGUAGES)
    assert set(column(seeded, "SELECT DISTINCT status FROM tickets")) == set(Status)
    assert set(column(seeded, "SELECT DISTINCT kind FROM messages")) == {"public", "note", "event"}
    assert len(column(seeded, "SELECT DISTINCT queue FROM tickets")) >= 6
    assert len(column(seeded, "SELECT DISTINCT assignee FROM tickets WHERE assignee != ''")) >= 10
    assert column(seeded, "SELECT count(*) FROM tickets WHERE assignee = ''")[0] > 0
    roles = column(seeded, "SELECT DISTINCT role FROM agents")
    assert {"agent", "supervisor"} <= set(roles)
    assert len(column(seeded, "SELECT DISTINCT priority FROM tickets")) == 4


def test_texts_are_in_the_ticket_language(seeded: sqlite3.Connection) -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    cyrillic = re.compile(r"[\u0400-\u04ff]")
    rows = seeded.execute(
        "SELECT t.language, m.body FROM messages m JOIN tickets t ON t.id = m.ticket_id "
        "WHERE m.kind = 'public'"
    ).fetchall()
    for language, body in rows:
        if language.startswith("zh"):
            # Chinese, or nothing but punctuation ("？？？" is a real chat message).
            assert (han.search(body) or not re.search(r"\w", body)) and not cyrillic.search(body)
        elif language == "uk":
            assert cyrillic.search(body) and not han.search(body), body
        else:
            assert not han.search(body) and not cyrillic.search(body), body
    bodies = "\n".join(body for _, body in rows)
    # zh-TW customers write Traditional characters; spot-check real wording in each language.
    for phrase in ("退货退款", "簽收", "повернення", "refund", "ТТН", "Нової пошти"):
        assert phrase in bodies, phrase
    assert "lorem" not in bodies.lower()


def test_sla_due_follows_the_domain_rules(seeded: sqlite3.Connection) -> None:
    rows = seeded.execute(
        "SELECT status, first_reply_due, next_reply_due, resolution_due, sla_due FROM tickets"
    ).fetchall()
    breached = upcoming = 0
    for status, first, nxt, resolution, sla_due in rows:
        if status in ("new", "open"):
            running = [due for due in (first, nxt, resolution) if due is not None]
            assert sla_due == min(running)
            breached += sla_due < NOW_EPOCH
            upcoming += sla_due > NOW_EPOCH
        else:
            assert sla_due == SLA_NEVER
    assert breached > 10 and upcoming > 10
    snoozed = column(seeded, "SELECT snoozed_until FROM tickets WHERE snoozed_until IS NOT NULL")
    assert snoozed and all(until > NOW_EPOCH for until in snoozed)
    assert set(column(seeded, "SELECT status FROM tickets WHERE snoozed_until IS NOT NULL")) == {
        "pending"
    }


def test_tickets_are_consistent_with_their_messages(seeded: sqlite3.Connection) -> None:
    assert column(seeded, "SELECT DISTINCT version FROM tickets") == [1]
    assert column(seeded, "SELECT DISTINCT pending FROM tickets") == [0]
    bad = seeded.execute(
        """
        SELECT count(*) FROM tickets t JOIN (
            SELECT ticket_id, max(id) AS last, count(*) AS n, max(created_at) AS latest,
                   min(created_at) AS first_at
            FROM messages GROUP BY ticket_id
        ) m ON m.ticket_id = t.id
        WHERE t.last_message_id != m.last OR m.n NOT BETWEEN 1 AND 6
           OR t.updated_at != m.latest OR m.first_at != t.created_at OR t.updated_at > ?
        """,
        (NOW_EPOCH,),
    ).fetchone()[0]
    assert bad == 0
    assert column(seeded, "SELECT count(DISTINCT ticket_id) FROM messages")[0] == TICKETS
    oldest = column(seeded, "SELECT min(created_at) FROM tickets")[0]
    assert NOW_EPOCH - oldest <= 61 * 86400
    # The opening message is always the customer's.
    openers = column(
        seeded,
        "SELECT m.author_kind FROM messages m WHERE m.id = "
        "(SELECT min(id) FROM messages WHERE ticket_id = m.ticket_id)",
    )
    assert set(openers) == {"customer"}


def test_orders_have_items_currency_and_carrier_tracking(seeded: sqlite3.Connection) -> None:
    rows = seeded.execute(
        "SELECT t.language, o.items, o.total, o.currency, o.carrier, o.tracking_number, "
        "o.customer_id = t.requester_id FROM tickets t JOIN orders o ON o.id = t.order_id"
    ).fetchall()
    assert len(rows) > TICKETS * 0.8
    carriers = set()
    for language, items, total, currency, carrier, tracking, same_customer in rows:
        assert same_customer and currency == CURRENCY[language]
        parsed = json.loads(items)
        assert 1 <= len(parsed) <= 3
        assert f"{sum(float(i['unit_price']) * i['quantity'] for i in parsed):.2f}" == total
        if carrier is not None:
            carriers.add(carrier)
            assert re.fullmatch(TRACKING[carrier], tracking), (carrier, tracking)
    assert carriers == set(TRACKING)


def test_tags_table_matches_tags_column(seeded: sqlite3.Connection) -> None:
    from_json = {
        (tag, ticket_id)
        for ticket_id, tags in seeded.execute("SELECT id, tags FROM tickets")
        for tag in json.loads(tags)
    }
    assert from_json == set(seeded.execute("SELECT tag, ticket_id FROM ticket_tags"))
    tags = set(column(seeded, "SELECT DISTINCT tag FROM ticket_tags"))
    assert {"破损", "物流异常", "vip", "差评", "催发货", "повернення"} <= tags


def view_counts_match(conn: sqlite3.Connection) -> None:
    counts = set(conn.execute("SELECT status, assignee, queue, n FROM view_counts WHERE n > 0"))
    grouped = set(
        conn.execute("SELECT status, assignee, queue, count(*) FROM tickets GROUP BY 1, 2, 3")
    )
    assert counts == grouped


def test_view_counts_equal_group_by(seeded: sqlite3.Connection) -> None:
    view_counts_match(seeded)


def test_every_message_is_in_the_search_index(seeded: sqlite3.Connection) -> None:
    ids = column(seeded, "SELECT id FROM messages ORDER BY id")
    # The index lists its rows through fts5vocab (a contentless table without document sizes,
    # columnsize=0 since migration 9, can't be scanned), which knows only rows with a token: a
    # body of punctuation alone ("？？？") is in no doclist, and is found by no search anyway.
    seeded.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.indexed"
        " USING fts5vocab(main, search_index, instance)"
    )
    indexed = set(column(seeded, "SELECT DISTINCT doc FROM temp.indexed"))
    with_words = {
        row[0] for row in seeded.execute("SELECT id, body FROM messages") if tokenize(row[1])
    }
    assert with_words <= indexed <= set(ids)
    with_refund = set(column(seeded, "SELECT id FROM messages WHERE body LIKE '%退款%'"))
    found = set(
        column(seeded, """SELECT rowid FROM search_index WHERE search_index MATCH '"退 款"'""")
    )
    assert with_refund and with_refund <= found
    # Extra hits can only be opening messages whose subject says 退款.
    for message_id in found - with_refund:
        subject = seeded.execute(
            "SELECT t.subject FROM tickets t JOIN messages m ON m.ticket_id = t.id WHERE m.id = ?",
            (message_id,),
        ).fetchone()[0]
        assert "退款" in subject
    assert column(seeded, "SELECT count(*) FROM search_index WHERE search_index MATCH 'ТТН'")[0]
    assert column(seeded, "SELECT count(*) FROM search_index WHERE search_index MATCH 'refund*'")[0]


def test_index_text_of_opening_message_carries_the_subject(tmp_path: Path) -> None:
    db = open_store(tmp_path / "s.db")
    seed_store(db, 50, seed=1, now=NOW_EPOCH)
    ticket_id, subject, body = db.conn.execute(
        "SELECT t.id, t.subject, m.body FROM tickets t JOIN messages m ON m.ticket_id = t.id "
        "WHERE t.language = 'zh-CN' ORDER BY m.id LIMIT 1"
    ).fetchone()
    # Contentless FTS keeps no text, so check it through a phrase only the subject+body form has.
    tokens = index_text(subject + "\n" + body).split()
    phrase = '"' + " ".join(tokens[:3]) + '"'
    hits = column(db.conn, f"SELECT rowid FROM search_index WHERE search_index MATCH '{phrase}'")
    first_message = column(db.conn, f"SELECT min(id) FROM messages WHERE ticket_id = {ticket_id}")
    assert first_message[0] in hits


def test_appending_twice_continues_ids_and_keeps_counts(tmp_path: Path) -> None:
    db_path = tmp_path / "store.db"
    run_seed(db_path, "--tickets", "1500", "--seed", "1", "--now", NOW)
    run_seed(db_path, "--tickets", "1500", "--seed", "2", "--now", NOW)
    conn = sqlite3.connect(db_path)
    assert column(conn, "SELECT count(*), min(id), max(id) FROM tickets") == [3000]
    assert conn.execute("SELECT min(id), max(id) FROM tickets").fetchone() == (1, 3000)
    assert (
        column(conn, "SELECT count(*) FROM messages")[0]
        == column(conn, "SELECT max(id) FROM messages")[0]
    )
    orphans = conn.execute(
        "SELECT count(*) FROM tickets t LEFT JOIN customers c ON c.id = t.requester_id "
        "WHERE c.id IS NULL"
    ).fetchone()[0]
    assert orphans == 0
    assert column(conn, "SELECT count(*) FROM agents")[0] == len(
        set(column(conn, "SELECT login FROM agents"))
    )
    view_counts_match(conn)
    # The counter triggers are back and working.
    names = set(column(conn, "SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    assert set(COUNTER_TRIGGER_NAMES) <= names
    conn.execute("UPDATE tickets SET status = 'closed' WHERE id <= 100")
    conn.execute("DELETE FROM tickets WHERE id > 2900")
    conn.commit()
    view_counts_match(conn)


def test_bulk_paths_leave_the_schema_intact(tmp_path: Path) -> None:
    """The worker process, the index drop/rebuild and the rollback journal, forced on for a
    small load."""
    db = open_store(tmp_path / "s.db")
    schema_before = set(db.conn.execute("SELECT type, name, sql FROM sqlite_master"))
    result = seed_store(
        db, 300, seed=5, now=NOW_EPOCH, worker=True, rebuild_indexes=True, rollback_journal=True
    )
    assert result.tickets == 300 and result.messages > 300
    assert set(db.conn.execute("SELECT type, name, sql FROM sqlite_master")) == schema_before
    # Back in WAL mode with the connection's own settings.
    assert db.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.conn.execute("PRAGMA synchronous").fetchone() == (1,)
    assert db.conn.execute("PRAGMA busy_timeout").fetchone() == (5000,)
    assert db.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    view_counts_match(db.conn)
    # The full-text index was loaded without merging and optimized once: merge settings are
    # back to FTS5's defaults and the index is consistent.
    assert dict(db.conn.execute("SELECT k, v FROM search_index_config WHERE k != 'version'")) == {
        "automerge": 4,
        "crisismerge": 16,
    }
    db.conn.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
    # Same rows as the in-process generator would write, and the same search hits.
    other = open_store(tmp_path / "t.db")
    seed_store(other, 300, seed=5, now=NOW_EPOCH, worker=False, rebuild_indexes=False)
    for query in (
        "SELECT * FROM messages ORDER BY id",
        "SELECT word FROM search_words ORDER BY word",  # whichever process extracted them
        "SELECT rowid FROM search_index WHERE search_index MATCH '\"退 款\" OR refund*'",
    ):
        assert db.conn.execute(query).fetchall() == other.conn.execute(query).fetchall()


def test_generated_search_text_is_index_text_of_the_indexed_source() -> None:
    """What the generator precomputes equals what every other writer of search_index writes."""
    from agentcli.demo.generator import generate
    from agentcli.domain.text import indexed_source

    batch = next(generate(400, seed=11, now=NOW_EPOCH))
    subjects = {row[0]: row[1] for row in batch.tickets}
    seen: set[int] = set()
    for (message_id, ticket_id, *_, body, _at), (rowid, text) in zip(
        batch.messages, batch.search, strict=True
    ):
        assert rowid == message_id
        subject = subjects[ticket_id] if ticket_id not in seen else None
        seen.add(ticket_id)
        assert text == index_text(indexed_source(body, subject))


def test_a_big_load_stays_in_wal_mode_while_another_connection_reads(tmp_path: Path) -> None:
    """The rollback journal needs the store to itself: with a reader open, the load runs in
    WAL mode and the reader keeps its snapshot until the commit."""
    db = open_store(tmp_path / "s.db")
    seed_store(db, 100, seed=1, now=NOW_EPOCH, worker=False)
    reader = open_store(tmp_path / "s.db").conn
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM tickets").fetchone() == (100,)
    seed_store(db, 200, seed=2, now=NOW_EPOCH, worker=False, rollback_journal=True)
    assert reader.execute("SELECT count(*) FROM tickets").fetchone() == (100,)
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM tickets").fetchone() == (300,)
    assert db.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    view_counts_match(db.conn)
