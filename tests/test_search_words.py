"""Prefix expansion: the word list `search_words`, kept by every writer of the search index,
turns `refund` into `refund OR refunded OR refunds` so FTS5 walks hits newest-first instead
of merging every hit of the prefix first. What a user finds must not change."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from agentcli.domain.mutations import Mutation, MutationType
from agentcli.domain.text import (
    _DISAGREED,
    CJK_CHAR,
    fts_query,
    index_text,
    index_words,
    indexed_source,
    parse_query,
    to_fts_match,
)
from agentcli.store.bulk import seed_store
from agentcli.store.changes import apply_page, read_cursor
from agentcli.store.db import open_store, transaction
from agentcli.store.migrations import MIGRATIONS, migrate
from agentcli.store.outbox import enqueue
from agentcli.store.search import (
    EXPAND_LIMIT,
    TOKENIZER,
    expand_prefix,
    index_message,
    match_expression,
    search,
)
from tests.wire_pages import message_change, ticket_change

NOW = 1_800_000_000
WORDS = ["refund", "refunded", "refunds", "order", "orders", "mail", "mails", "пʼять", "ять"]


def _expand(prefix: str) -> list[str]:
    return [word for word in WORDS if word.startswith(prefix)]


# --- The MATCH expression ---------------------------------------------------------------------


def test_a_prefix_becomes_its_words_ored() -> None:
    match = to_fts_match(parse_query("Refund"), _expand)
    assert match == '("refund" OR "refunded" OR "refunds")'
    assert to_fts_match(parse_query("refunded order"), _expand) == (
        '"refunded" AND ("order" OR "orders")'
    )


def test_odd_words_are_quoted_and_operators_stay_words() -> None:
    odd = ["or", 'o"neil', "near", "and*", "^x"]
    match = to_fts_match(parse_query("o"), lambda prefix: odd)
    assert match == '("or" OR "o""neil" OR "near" OR "and*" OR "^x")'
    with sqlite3.connect(":memory:") as conn:  # SQLite accepts it: no syntax leaks through
        conn.execute(f"CREATE VIRTUAL TABLE s USING fts5(text, tokenize='{TOKENIZER}')")
        conn.execute("INSERT INTO s(rowid, text) VALUES (1, 'near or neil')")
        found = conn.execute("SELECT rowid FROM s WHERE s MATCH ?", (match,)).fetchall()
    assert found == [(1,)]


def test_no_words_or_too_many_keep_the_prefix_query() -> None:
    assert to_fts_match(parse_query("zzz"), _expand) == '"zzz" *'
    assert to_fts_match(parse_query("refund"), lambda prefix: None) == '"refund" *'
    assert to_fts_match(parse_query("refund"), None) == fts_query("refund") == '"refund" *'


def test_phrases_cjk_and_untrusted_text_are_not_expanded() -> None:
    asked: list[str] = []

    def expand(prefix: str) -> list[str]:
        asked.append(prefix)
        return _expand(prefix)

    assert to_fts_match(parse_query('"tracking number"'), expand) == '"tracking number"'
    assert to_fts_match(parse_query("退款"), expand) == '"退 款"'
    # Characters our tokenizer may fold or split unlike SQLite's: the prefix query, unasked.
    assert to_fts_match(parse_query("İst"), expand) == '"İst" *'
    assert to_fts_match(parse_query("ΟΔΟΣ"), expand) == '"ΟΔΟΣ" *'  # σ, not Python's ς
    assert asked == []


def test_a_phrase_term_keeps_its_head_and_expands_its_last_word() -> None:
    assert to_fts_match(parse_query("e-mail"), _expand) == '("e mail" OR "e mails")'
    assert to_fts_match(parse_query("iPhone退款ord"), _expand) == (
        '("iphone 退 款 order" OR "iphone 退 款 orders")'
    )
    # Both Ukrainian apostrophe spellings, each expanded by its own last word.
    assert to_fts_match(parse_query("п'ять"), _expand) == '("п ять" OR "пʼять")'


def test_index_words_are_lower_case_non_cjk_tokens() -> None:
    words, left = index_words(["Refund 退款 ORDER-123 пʼять", "refund", "доставка👌!"])
    assert words == {"refund", "order", "123", "пʼять", "доставка"}
    assert left == []
    words, left = index_words(["plain text", "İstanbul", "refund🤔", "ΟΔΟΣ"])
    assert words == {"plain", "text"}
    assert left == ["İstanbul", "refund🤔", "ΟΔΟΣ"]


def test_every_agreed_character_tokenizes_as_sqlite_does() -> None:
    """index_words trusts our tokenizer on every character _DISAGREED leaves (the agreed and
    CJK ones): check each against SQLite alone, inside a word and doubled (a newer SQLite or
    Python must pass this again)."""
    agreed = [
        chr(cp)
        for cp in range(0x110000)
        if not 0xD800 <= cp < 0xE000 and not _DISAGREED.match(chr(cp))
    ]
    docs = {ord(c): f"ab{c}cd {c} {c}{c}" for c in agreed}
    with sqlite3.connect(":memory:") as conn:
        conn.execute(f"CREATE VIRTUAL TABLE s USING fts5(text, content='', tokenize='{TOKENIZER}')")
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(s, instance)")
        conn.executemany(
            "INSERT INTO s(rowid, text) VALUES (?, ?)",
            [(rowid, index_text(doc)) for rowid, doc in docs.items()],
        )
        sqlite_words: dict[int, set[str]] = {rowid: set() for rowid in docs}
        for rowid, term in conn.execute("SELECT doc, term FROM v"):
            if not (len(term) == 1 and CJK_CHAR.match(term)):
                sqlite_words[rowid].add(term)
    disagree = [
        hex(rowid) for rowid, doc in docs.items() if index_words([doc]) != (sqlite_words[rowid], [])
    ]
    assert disagree == []
    assert len(docs) > 40_000  # Latin, Cyrillic, punctuation, CJK, Hangul, kana, some emoji


# --- On a real store --------------------------------------------------------------------------

QUERIES = [
    # English, Ukrainian, Simplified and Traditional Chinese, mixed, phrases, short prefixes
    "refund", "order", "tracking", "track", "deliver", '"tracking number"', "e-mail",
    "доставк", "повернення", "замовлення", "дякую", "звʼяз", "кур'єр",
    "退款", "物流", "外包装", "換貨", "退款 доставка", "refund 物流", "iPhone退款",
    "r", "1", "з",
]  # fmt: skip


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> sqlite_utils.Database:
    db = open_store(tmp_path_factory.mktemp("words") / "store.db")
    seed_store(db, 3000, seed=5, now=NOW, worker=False)
    return db


def _ids(conn: sqlite3.Connection, match: str | None) -> set[int]:
    if match is None:
        return set()
    rows = conn.execute("SELECT rowid FROM search_index WHERE search_index MATCH ?", (match,))
    return {row[0] for row in rows}


@pytest.mark.parametrize("query", QUERIES)
def test_expansion_finds_exactly_what_the_prefix_query_finds(
    seeded: sqlite_utils.Database, query: str
) -> None:
    expanded = match_expression(seeded.conn, query)
    assert _ids(seeded.conn, expanded) == _ids(seeded.conn, fts_query(query))
    # And the first page a user sees is the newest of those hits.
    page = [hit.message_id for hit in search(seeded, query, limit=20)]
    assert page == sorted(_ids(seeded.conn, expanded), reverse=True)[: len(page)]


def test_common_words_are_expanded_and_short_prefixes_are_not(
    seeded: sqlite_utils.Database,
) -> None:
    for query in ("refund", "order", "доставк", "refund 物流", "退款 доставка"):
        match = match_expression(seeded.conn, query)
        assert match is not None and "*" not in match, (query, match)
    for query in ("refund", "order", "доставк"):
        assert len(search(seeded, query, limit=5)) == 5, query
    assert expand_prefix(seeded.conn, "1") is None  # order numbers: thousands of words
    assert match_expression(seeded.conn, "1") == '"1" *'
    assert len(expand_prefix(seeded.conn, "refund") or []) <= EXPAND_LIMIT


def test_seeded_word_list_is_every_non_cjk_token_of_the_index(
    seeded: sqlite_utils.Database,
) -> None:
    assert _word_list(seeded.conn) == _vocabulary(seeded.conn)


def _word_list(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT word FROM search_words")}


def _vocabulary(conn: sqlite3.Connection) -> set[str]:
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.test_vocab"
        " USING fts5vocab(main, search_index, row)"
    )
    terms = {row[0] for row in conn.execute("SELECT term FROM temp.test_vocab")}
    return {term for term in terms if not (len(term) == 1 and CJK_CHAR.match(term))}


def _store_with_ticket(path: Path) -> sqlite_utils.Database:
    db = open_store(path)
    apply_page(db, [ticket_change(1, 1)], 1)
    return db


# Letters SQLite folds or splits unlike Python (İ, ς, ſ, µ, a combining mark, 🤔 which SQLite
# takes for a letter), both Ukrainian apostrophes, CJK, digits and punctuation.
ODD_ALPHABET = list("abrefundо доставкаʼ'’İΣσςſµ\u0301🤔😀退款の한19 -.,:\n")


@pytest.fixture(scope="module")
def odd_store(tmp_path_factory: pytest.TempPathFactory) -> sqlite_utils.Database:
    """Messages of random odd text, indexed by the store's own writer."""
    db = open_store(tmp_path_factory.mktemp("odd") / "store.db")
    rng = random.Random(3)
    with transaction(db) as conn:
        for message_id in range(1, 400):
            body = "".join(rng.choice(ODD_ALPHABET) for _ in range(rng.randint(1, 40)))
            index_message(conn, message_id, body)
    return db


@settings(max_examples=300, deadline=None)
@given(query=st.text(alphabet=st.sampled_from([*ODD_ALPHABET, '"']), min_size=1, max_size=6))
def test_odd_text_expanded_finds_what_the_prefix_query_finds(
    odd_store: sqlite_utils.Database, query: str
) -> None:
    conn = odd_store.conn
    assert _ids(conn, match_expression(conn, query)) == _ids(conn, fts_query(query))


def test_words_of_synced_messages_are_searchable_by_prefix(tmp_path: Path) -> None:
    db = _store_with_ticket(tmp_path / "store.db")
    bodies = [
        "Your reimbursement was approved",
        "Повідомлення про відшкодування",
        # SQLite keeps İ unfolded and takes 🤔 for a letter: words only it can tell
        "İstanbul warehouse: refundable🤔 items",
    ]
    changes = [message_change(2 + i, 100 + i, 1, body) for i, body in enumerate(bodies)]
    apply_page(db, changes, 2 + len(changes))
    assert read_cursor(db) == 2 + len(changes)
    assert {"reimbursement", "відшкодування", "İstanbul", "refundable🤔"} <= _word_list(db.conn)
    for query, message_id in [("reimburs", 100), ("відшкод", 101), ("refundab", 102)]:
        assert "*" not in (match_expression(db.conn, query) or "*")
        assert [hit.message_id for hit in search(db, query)] == [message_id], query
    assert [hit.message_id for hit in search(db, "İst")] == [102]
    assert _word_list(db.conn) == _vocabulary(db.conn)


def test_words_of_a_local_reply_are_searchable_by_prefix(tmp_path: Path) -> None:
    db = _store_with_ticket(tmp_path / "store.db")
    reply = Mutation(MutationType.REPLY, 1, base_version=1, payload={"body": "Compensation sent"})
    seq = enqueue(db, reply, author="li")
    assert "*" not in (match_expression(db.conn, "compens") or "*")
    assert [hit.message_id for hit in search(db, "compens")] == [-seq]


def test_migration_fills_the_word_list_of_an_existing_store(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    before = MIGRATIONS.index(
        next(m for m in MIGRATIONS if isinstance(m, str) and "search_words" in m)
    )
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, before)
    texts = {
        1: indexed_source("我要申请退款 refund please", "Refund request"),
        2: "Де моя доставка? Замовлення 12345",
        3: "İstanbul 🤔 ΟΔΟΣ",
    }
    conn.executemany(
        "INSERT INTO search_index(rowid, text) VALUES (?, ?)",
        [(rowid, index_text(text)) for rowid, text in texts.items()],
    )
    # Up to the word list's migration only: a later one (9) indexes the store's messages
    # again, and these index rows have none.
    migrate(conn, before + 1)
    words = _word_list(conn)
    assert words == _vocabulary(conn)
    assert {"refund", "request", "please", "доставка", "12345", "İstanbul", "οδοσ"} <= words
    assert not any(CJK_CHAR.match(word) for word in words)
    assert "*" not in (match_expression(conn, "достав") or "*")
    assert _ids(conn, match_expression(conn, "достав")) == {2}
    # Re-indexing (migration 9) keeps the word list: it lists words, not rows.
    migrate(conn)
    assert _word_list(conn) == words
