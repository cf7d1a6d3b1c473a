"""Full-text search over the local store's `search_index` (contentless FTS5, rowid = message id).

Pages come from FTS5 alone: `ORDER BY rowid DESC LIMIT n` walks the doclists newest-first and
stops after n hits, so a first page of a CJK phrase costs about the same for a term in 40% of
messages as for a rare one. Prefix terms (Latin/Cyrillic word forms: "доставк" *) would be the
exception: FTS5 merges the whole doclist of every matching word before the first row (20-90 ms
for a word in 10-15% of 3M messages). So a prefix is expanded into the words starting with it
from the store's word list `search_words` (every non-CJK token ever indexed, kept by every writer of
the index), which FTS5 walks newest-first like any other OR; only a prefix of more than
EXPAND_LIMIT words (one or two letters, digits) stays a prefix query.

Relevance ranks only the newest RELEVANCE_WINDOW hits, scored in Python from their text: FTS5's
bm25() over every hit of a common term costs about a second at a million messages, and even
over a 2,000-row window it walks every hit to count document frequencies (0.1-0.4 s at 3M
messages). Snippets are cut in Python from the original text of the returned hits only.

Message ids order "newest": local unsent messages (negative ids) come last.

The index keeps no document sizes (FTS5 `columnsize=0`, migration 9: nothing here uses bm25()
or rank), so it answers MATCH queries only: a scan or a rowid lookup without MATCH fails with
"table does not support scanning" (list its rows through fts5vocab).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Literal

import sqlite_utils

from agentcli.domain.text import (
    CJK_CHAR,
    QueryTerm,
    Snippet,
    bm25_without_idf,
    index_text,
    index_words,
    indexed_source,
    make_snippet,
    match_spans,
    parse_query,
    term_frequencies,
    to_fts_match,
)

Order = Literal["newest", "relevance"]
RELEVANCE_WINDOW = 2000
# How many index hits one newest-first call examines at most to fill a page with true hits.
MAX_CANDIDATES = 5000
# A prefix with more words than this stays a prefix query (as before expansion): a letter or
# two, or a few digits, can start thousands of words, too many to spell out in one expression.
EXPAND_LIMIT = 64
# The tokenizer of search_index (migrations 1 and 9); the word list's scratch index must use
# the same.
TOKENIZER = "unicode61 remove_diacritics 0"


@dataclass(frozen=True, slots=True)
class SearchHit:
    ticket_id: int
    message_id: int
    subject: str
    snippet: str  # one line of plain text: never interpret it as markup
    created_at: int  # Unix seconds
    score: float | None  # relevance order: bm25-style, higher is better; newest order: None
    spans: tuple[tuple[int, int], ...] = ()  # character spans of matches in `snippet`
    snippet_marked: str = ""  # `snippet` with matches wrapped in «…»


def search(
    db: sqlite_utils.Database,
    text: str,
    *,
    limit: int = 50,
    order: Order = "newest",
    before: int | None = None,
) -> list[SearchHit]:
    """Messages matching every term of `text`, newest first or by relevance.

    `before`: only messages with id < before (keyset paging: pass the last hit's message_id).
    In relevance order it moves the ranked window of the newest hits back instead.
    Text that has no searchable characters finds nothing; no input raises.
    """
    terms = parse_query(text)
    match = to_fts_match(terms, partial(expand_prefix, db.conn))
    if match is None or limit <= 0:
        return []
    if order == "newest":
        return _newest(db.conn, match, terms, limit, before)
    if order == "relevance":
        return _ranked(db.conn, match, terms, limit, before)
    raise ValueError(f"unknown order {order!r}: use 'newest' or 'relevance'")


def _newest(
    conn: sqlite3.Connection, match: str, terms: list[QueryTerm], limit: int, before: int | None
) -> list[SearchHit]:
    """Pages of index hits newest-first until `limit` survive the subject/body check."""
    hits: list[SearchHit] = []
    scanned = 0
    while len(hits) < limit and scanned < MAX_CANDIDATES:
        ids = _newest_ids(conn, match, limit, before)
        rows = _rows(conn, ids)
        hits += _hits(rows, [(message_id, None) for message_id in ids], terms, limit - len(hits))
        scanned += len(ids)
        if len(ids) < limit:
            break
        before = ids[-1]
    return hits


def _ranked(
    conn: sqlite3.Connection, match: str, terms: list[QueryTerm], limit: int, before: int | None
) -> list[SearchHit]:
    """The newest RELEVANCE_WINDOW hits, scored in Python from their text (see bm25_without_idf)."""
    ids = _newest_ids(conn, match, RELEVANCE_WINDOW, before)
    if not ids:
        return []
    bodies = conn.execute(
        f"SELECT id, body FROM messages WHERE id IN ({','.join('?' * len(ids))})", ids
    ).fetchall()
    average = sum(len(body) for _, body in bodies) / len(bodies) if bodies else 1.0
    scored: list[tuple[int, float | None]] = []
    for message_id, body in bodies:
        # A term absent from the body matched in the subject (opening message): count it once.
        frequencies = [tf or 1 for tf in term_frequencies(body, terms)]
        scored.append((message_id, bm25_without_idf(frequencies, len(body), average)))
    scored.sort(key=lambda item: (-(item[1] or 0.0), -item[0]))
    hits: list[SearchHit] = []
    for start in range(0, len(scored), limit):
        page = scored[start : start + limit]
        rows = _rows(conn, [message_id for message_id, _ in page])
        hits += _hits(rows, page, terms, limit - len(hits))
        if len(hits) >= limit:
            break
    return hits


def _newest_ids(conn: sqlite3.Connection, match: str, limit: int, before: int | None) -> list[int]:
    if before is None:
        where, params = "search_index MATCH ?", (match,)
    else:
        where, params = "search_index MATCH ? AND rowid < ?", (match, before)
    sql = f"SELECT rowid FROM search_index WHERE {where} ORDER BY rowid DESC LIMIT ?"
    return [row[0] for row in conn.execute(sql, (*params, limit))]


Row = tuple[int, str, int, str]  # ticket_id, body, created_at, subject


def _rows(conn: sqlite3.Connection, ids: list[int]) -> dict[int, Row]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"""SELECT m.id, m.ticket_id, m.body, m.created_at, coalesce(t.subject, '')
            FROM messages m LEFT JOIN tickets t ON t.id = m.ticket_id
            WHERE m.id IN ({marks})""",
        ids,
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def _hits(
    rows: dict[int, Row],
    scored: list[tuple[int, float | None]],
    terms: list[QueryTerm],
    limit: int,
) -> list[SearchHit]:
    """Up to `limit` hits in `scored` order, with snippets; false hits and orphans dropped."""
    hits: list[SearchHit] = []
    for message_id, score in scored:
        if len(hits) >= limit:
            break
        # An index row whose message is gone (not yet unindexed) is skipped, not shown empty.
        if (row := rows.get(message_id)) is None:
            continue
        ticket_id, body, created_at, subject = row
        snippet = _snippet(body, subject, terms)
        if snippet is None:
            continue
        hits.append(
            SearchHit(
                ticket_id=ticket_id,
                message_id=message_id,
                subject=subject,
                snippet=snippet.text,
                created_at=created_at,
                score=score,
                spans=snippet.spans,
                snippet_marked=snippet.marked,
            )
        )
    return hits


def _snippet(body: str, subject: str, terms: list[QueryTerm]) -> Snippet | None:
    """From the body, or the subject when only it matched; None for a false hit.

    The opening message is indexed as subject + "\n" + body, and FTS5 has no way to keep a
    phrase from running across that newline: subject 退款申请 + body 退款… matches 申请退款.
    Such a hit matches in neither part alone but does in the joined text; we drop it. Any other
    hit without a visible match is kept (our tokenizer may differ from SQLite's on rare
    characters, and a missed highlight is better than a missed message).
    """
    snippet = make_snippet(body, terms)
    if snippet.spans or not subject:
        return snippet
    from_subject = make_snippet(subject, terms)
    if from_subject.spans:
        return from_subject
    if match_spans(indexed_source(body, subject), terms):
        return None
    return snippet


def match_expression(conn: sqlite3.Connection, text: str) -> str | None:
    """The MATCH expression `search` uses for a user's text (prefixes expanded), or None."""
    return to_fts_match(parse_query(text), partial(expand_prefix, conn))


def expand_prefix(conn: sqlite3.Connection, prefix: str) -> list[str] | None:
    """The indexed words starting with `prefix` (as indexed: lower-case), None above EXPAND_LIMIT.

    One range of the word list's primary key, read in order until a word no longer starts with
    the prefix (all that do sort together): at most EXPAND_LIMIT + 1 rows, microseconds.
    """
    rows = conn.execute(
        "SELECT word FROM search_words WHERE word >= ? ORDER BY word LIMIT ?",
        (prefix, EXPAND_LIMIT + 1),
    )
    words: list[str] = []
    for (word,) in rows:
        if not word.startswith(prefix):
            break
        words.append(word)
    return None if len(words) > EXPAND_LIMIT else words


def add_words(conn: sqlite3.Connection, texts: Sequence[str]) -> None:
    """Record the words of messages being indexed (raw or indexed text) for prefix expansion.

    Every writer of search_index calls this (or writes index_words' output itself, as the
    seeder does). Words are never removed when a message is unindexed: a word no message holds
    any more expands to a phrase that matches nothing, which costs nothing.
    """
    record_words(conn, *index_words(texts))


def record_words(conn: sqlite3.Connection, words: set[str], left: Sequence[str]) -> None:
    """add_words for `index_words(texts)` made beforehand (the sync pull makes it off the store's
    thread): the words, and the texts whose words SQLite itself must tell."""
    if left:
        words = words | _sqlite_words(conn, list(left))
    # Sorted: b-tree inserts in key order touch each page once.
    conn.executemany(
        "INSERT OR IGNORE INTO search_words(word) VALUES (?)", [(word,) for word in sorted(words)]
    )


def _sqlite_words(conn: sqlite3.Connection, texts: list[str]) -> set[str]:
    """The tokens SQLite itself makes of `texts` (ones our tokenizer may split differently).

    They go through a scratch contentless index in the connection's temp schema and its
    fts5vocab listing, emptied again at once; such texts are rare (see text._AGREED).
    """
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.words_scratch USING fts5("
        f"text, content='', detail=none, tokenize='{TOKENIZER}')"
    )
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.words_scratch_vocab"
        " USING fts5vocab(temp, words_scratch, row)"
    )
    conn.executemany(
        "INSERT INTO temp.words_scratch(rowid, text) VALUES (?, ?)",
        [(rowid, index_text(text)) for rowid, text in enumerate(texts, 1)],
    )
    terms = {term for (term,) in conn.execute("SELECT term FROM temp.words_scratch_vocab")}
    conn.execute("INSERT INTO temp.words_scratch(words_scratch) VALUES ('delete-all')")
    # A CJK character is a token of its own (index_text), never a prefix's expansion.
    return {term for term in terms if not (len(term) == 1 and CJK_CHAR.match(term))}


def index_message(conn: sqlite3.Connection, message_id: int, text: str) -> None:
    """Add a message to the index. `text` is the raw `indexed_source(body, subject)`."""
    conn.execute(
        "INSERT INTO search_index(rowid, text) VALUES (?, ?)", (message_id, index_text(text))
    )
    add_words(conn, [text])


def unindex_message(conn: sqlite3.Connection, message_id: int, text: str) -> None:
    """Remove a message from the index; `text` must be exactly the raw text it was indexed with.

    The index is contentless, so FTS5 (3.40) deletes by re-tokenizing the text we give it: a
    different text silently leaves stale tokens behind (and can corrupt the index's counts).
    Its words stay in search_words, harmlessly (see add_words).
    """
    conn.execute(
        "INSERT INTO search_index(search_index, rowid, text) VALUES ('delete', ?, ?)",
        (message_id, index_text(text)),
    )


def reindex_message(
    conn: sqlite3.Connection, message_id: int, old_text: str, new_text: str
) -> None:
    """Replace a message's indexed text (e.g. a local message edited, or its subject changed)."""
    unindex_message(conn, message_id, old_text)
    index_message(conn, message_id, new_text)
