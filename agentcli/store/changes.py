"""Applying pages of server changes to the local store, atomically with the sync cursor.

A page is validated whole first (agentcli.domain.wire, in check_page); then every row and the
new cursor are written in one transaction, so a crash or a bad page never leaves a
half-applied state. Several checked pages may share a transaction (apply_checked).

Rows are written per kind with executemany (tickets as one JSON array in one statement, see
_insert_sql), and existence, opening-message and outbox lookups are one query per batch, not
one per change: a first sync applies ~400k changes, and per-row statements were most of its
cost. The result is the same as applying the changes one by one
in seq order (`apply_changes_one_by_one`, kept as the reference the tests compare against):

- a page is cut into segments wherever a ticket change follows a message of the same ticket,
  so a message never sees a later state of its ticket (the subject indexed with the opening
  message is the one current when it arrived);
- within a segment, customers, orders, agents and tickets go first, then messages; rows of
  one kind keep their seq order, so the last state of an entity wins as before;
- tickets with a pending overlay (a `ticket_base` row) go through the overlay one by one;
- audit events are append-only rows keyed by their server id: a repeat is ignored.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import msgspec
import sqlite_utils

from agentcli.domain.text import index_text, index_words, indexed_source
from agentcli.domain.wire import SCHEMAS, Change, WireError, parse_changes
from agentcli.store.db import transaction
from agentcli.store.outbox import drop_local_message
from agentcli.store.overlay import (
    TICKET_COLUMNS,
    rebuild,
    store_server_state,
    ticket_row,
    ticket_values,
)
from agentcli.store.prepared import NOTHING, Prepared, merged, prepare
from agentcli.store.search import add_words, index_message, record_words

CURSOR_KEY = "cursor"
# Host parameters per IN (...) query: well under SQLite's limit on every build we meet.
_CHUNK = 900


@dataclass(frozen=True, slots=True)
class CheckedPage:
    """A page of changes validated against the cursor it follows (checked_page)."""

    after: int
    next: int
    changes: list[Change]
    prepared: Prepared  # made with the check, in the pull's fetcher thread


def checked_page(changes: list[Change], next_cursor: int, *, after: int) -> CheckedPage:
    """A page of changes already checked (wire) to follow cursor `after`, up to `next_cursor`."""
    return CheckedPage(after, next_cursor, changes, prepare(changes))


def read_cursor(db: sqlite_utils.Database) -> int:
    return _cursor(db.conn)


def _cursor(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM sync_state WHERE key = ?", (CURSOR_KEY,)).fetchone()
    return int(row[0]) if row else 0


def apply_page(db: sqlite_utils.Database, raw_changes: Any, next_cursor: Any) -> int:
    """Validate and apply one page; return the number of changes applied.

    Raises WireError (nothing applied) when the page is malformed or the cursor goes back.
    """
    return apply_checked(db, [check_page(raw_changes, next_cursor, after=read_cursor(db))])


def check_page(raw_changes: Any, next_cursor: Any, *, after: int) -> CheckedPage:
    """Validate a page that follows cursor `after`; WireError names its first problem.

    Needs no store, so the pull checks the next pages while the store applies earlier ones.
    """
    changes = parse_changes(raw_changes, after=after)
    if isinstance(next_cursor, bool) or not isinstance(next_cursor, int):
        raise WireError("next: expected an integer cursor")
    last_seq = changes[-1].seq if changes else after
    if next_cursor < last_seq:
        raise WireError(f"next: cursor {next_cursor} is behind the page's last seq {last_seq}")
    return checked_page(changes, next_cursor, after=after)


def apply_checked(db: sqlite_utils.Database, pages: Sequence[CheckedPage]) -> int:
    """Apply consecutive checked pages in one transaction with the last page's cursor (one
    commit for several pages: a first sync's commits were a fifth of its store time); return
    the number of changes applied.

    Raises WireError (nothing applied) unless they follow the stored cursor one after another
    (another sync of this store applied pages since they were checked).
    """
    changes: list[Change] = []
    with transaction(db) as conn:
        cursor = _cursor(conn)
        for page in pages:
            if page.after != cursor:
                raise WireError(
                    f"a page checked after cursor {page.after} does not follow cursor {cursor}"
                )
            changes += page.changes
            cursor = page.next
        apply_changes(conn, changes, merged(page.prepared for page in pages))
        _write_cursor(conn, cursor)
    return len(changes)


def _write_cursor(conn: sqlite3.Connection, cursor: int) -> None:
    conn.execute(
        "INSERT INTO sync_state(key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (CURSOR_KEY, str(cursor)),
    )


def apply_changes(
    conn: sqlite3.Connection, changes: list[Change], prepared: Prepared = NOTHING
) -> None:
    """Apply checked changes inside the caller's transaction, batched (see the module doc);
    `prepared`: what of it was made ahead (store.prepared)."""
    indexed = _Indexed()
    for segment in _segments(changes):
        _apply_segment(conn, segment, prepared, indexed)
    indexed.record_words(conn, prepared)


def apply_changes_one_by_one(conn: sqlite3.Connection, changes: list[Change]) -> None:
    """The reference semantics: each change applied on its own, in seq order."""
    for change in changes:
        _APPLY[change.kind](conn, change)


def _segments(changes: list[Change]) -> Iterable[list[Change]]:
    """Cut where a ticket change follows a message of that ticket in the current segment."""
    start = 0
    with_messages: set[int] = set()
    for index, change in enumerate(changes):
        if change.kind == "message":
            with_messages.add(change.data["ticket_id"])
        elif change.kind == "ticket" and change.data["id"] in with_messages:
            yield changes[start:index]
            start, with_messages = index, set()
    yield changes[start:]


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def _select_in(conn: sqlite3.Connection, sql: str, values: Iterable[Any]) -> list[tuple[Any, ...]]:
    """Rows of `sql` (one `{marks}` placeholder for an IN list) over `values`, chunked."""
    out: list[tuple[Any, ...]] = []
    for chunk in _chunks(list(values)):
        out += conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk).fetchall()
    return out


def _upsert_sql(table: str, key: str, names: list[str]) -> str:
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name != key)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        f" ON CONFLICT({key}) DO UPDATE SET {updates}"
    )


def _insert_sql(table: str, names: list[str], tail: str = "") -> tuple[str, str]:
    """The statement inserting one row, and the one inserting the rows of a JSON array of
    arrays (values in `names` order) in order; `tail` is an upsert clause.

    One statement for a whole batch: SQLite does the row work without the GIL, which
    executemany takes back for every row, so the pull's fetcher thread decodes and checks the
    next pages meanwhile. Only for tickets: as cheap as executemany for their short values
    (nine indexes make each row costly), while long texts (messages, the search index) cost
    SQLite's JSON functions twice the CPU. (`WHERE true` lets an upsert follow a SELECT.)
    """
    values = ", ".join(f"value ->> {i}" for i in range(len(names)))
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}){tail}",
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {values} FROM json_each(?)"
        f" WHERE true{tail}",
    )


def _insert_rows(conn: sqlite3.Connection, sql: tuple[str, str], rows: list[Any]) -> None:
    text = msgspec.json.encode(rows)  # integers fit SQLite's: wire checks keep them to 64 bits
    if b"\\u0000" in text:  # SQLite's JSON would end such a string there: bind it as it is
        conn.executemany(sql[0], rows)
    else:
        conn.execute(sql[1], (text.decode(),))


_TICKET_NAMES = list(TICKET_COLUMNS)
_MESSAGE_NAMES = list(SCHEMAS["message"])
_EVENT_NAMES = list(SCHEMAS["event"])
# A row's values in column order, picked in C (a first sync builds ~400k of them).
_MESSAGE_VALUES = itemgetter(*_MESSAGE_NAMES)
_EVENT_VALUES = itemgetter(*_EVENT_NAMES)
_TICKET_INSERT = _insert_sql(
    "tickets",
    _TICKET_NAMES,
    " ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _TICKET_NAMES[1:]),
)
_SQL = {
    "customer": _upsert_sql("customers", "id", list(SCHEMAS["customer"])),
    "order": _upsert_sql("orders", "id", list(SCHEMAS["order"])),
    "agent": _upsert_sql("agents", "login", list(SCHEMAS["agent"])),
    "message": (
        f"INSERT INTO messages ({', '.join(_MESSAGE_NAMES)})"
        f" VALUES ({', '.join('?' * len(_MESSAGE_NAMES))})"
    ),
    "event": (
        f"INSERT OR IGNORE INTO ticket_events ({', '.join(_EVENT_NAMES)})"
        f" VALUES ({', '.join('?' * len(_EVENT_NAMES))})"
    ),
}


def _apply_segment(
    conn: sqlite3.Connection, changes: list[Change], prepared: Prepared, indexed: _Indexed
) -> None:
    by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in SCHEMAS}
    tickets: list[Change] = []
    for change in changes:
        if change.kind == "ticket":
            tickets.append(change)
        else:
            by_kind[change.kind].append(change.data)
    for kind, encode in (
        ("customer", _customer_values),
        ("order", _order_values),
        ("agent", _agent_values),
    ):
        if by_kind[kind]:
            conn.executemany(_SQL[kind], [encode(data) for data in by_kind[kind]])
    if tickets:
        _apply_tickets(conn, tickets, prepared.tickets)
    if by_kind["message"]:
        _apply_messages(conn, by_kind["message"], prepared.texts, indexed)
    if by_kind["event"]:
        conn.executemany(_SQL["event"], map(_EVENT_VALUES, by_kind["event"]))


def _customer_values(data: dict[str, Any]) -> list[Any]:
    row = dict(data)
    row["handles"] = json.dumps(row["handles"], ensure_ascii=False)
    return list(row.values())


def _order_values(data: dict[str, Any]) -> list[Any]:
    row = dict(data)
    row["items"] = json.dumps(row["items"], ensure_ascii=False)
    return list(row.values())


def _agent_values(data: dict[str, Any]) -> list[Any]:
    row = dict(data)
    row["languages"] = ",".join(row["languages"])
    row["queues"] = ",".join(row["queues"])
    row["active"] = int(row["active"])
    return list(row.values())


def _apply_tickets(
    conn: sqlite3.Connection, changes: list[Change], rows: dict[int, list[Any]]
) -> None:
    based = {
        row[0]
        for row in _select_in(
            conn,
            "SELECT ticket_id FROM ticket_base WHERE ticket_id IN ({marks})",
            {change.data["id"] for change in changes},
        )
    }
    # Ticket changes carry the whole state: without an overlay only the last one matters.
    # Tickets with an overlay keep every state, in order (a later one may drop the base).
    latest: dict[int, Change] = {}
    for change in changes:
        if change.data["id"] in based:
            _apply_ticket_data(conn, change.data)
        else:
            latest[change.data["id"]] = change
    if not latest:
        return
    values = [rows.get(change.seq) or ticket_values(change.data) for change in latest.values()]
    _insert_rows(conn, _TICKET_INSERT, values)
    conn.executemany("DELETE FROM ticket_tags WHERE ticket_id = ?", [(id_,) for id_ in latest])
    conn.executemany(
        "INSERT OR IGNORE INTO ticket_tags(tag, ticket_id) VALUES (?, ?)",
        [(tag, change.data["id"]) for change in latest.values() for tag in change.data["tags"]],
    )


def _apply_messages(
    conn: sqlite3.Connection, datas: list[dict[str, Any]], texts: dict[str, str], indexed: _Indexed
) -> None:
    ids = [data["id"] for data in datas]
    present = {
        row[0] for row in _select_in(conn, "SELECT id FROM messages WHERE id IN ({marks})", ids)
    }
    new: list[dict[str, Any]] = []
    for data in datas:
        if data["id"] not in present:  # append-only: a repeat is already applied and indexed
            present.add(data["id"])
            new.append(data)
    if not new:
        return
    ticket_ids = {data["ticket_id"] for data in new}
    # The opening message (lowest server id of its ticket) is indexed with the subject.
    lowest: dict[int, int] = dict(
        _select_in(
            conn,
            "SELECT ticket_id, min(id) FROM messages WHERE id > 0 AND ticket_id IN ({marks})"
            " GROUP BY ticket_id",
            ticket_ids,
        )
    )
    openings: list[dict[str, Any]] = []
    for data in new:
        ticket_id, message_id = data["ticket_id"], data["id"]
        if message_id > 0 and message_id < lowest.get(ticket_id, message_id + 1):
            lowest[ticket_id] = message_id
            openings.append(data)
    subjects: dict[int, str] = dict(
        _select_in(
            conn,
            "SELECT id, subject FROM tickets WHERE id IN ({marks})",
            {data["ticket_id"] for data in openings},
        )
    )
    subject_of = {
        data["id"]: subjects[ticket_id]
        for data in openings
        if (ticket_id := data["ticket_id"]) in subjects
    }
    conn.executemany(_SQL["message"], map(_MESSAGE_VALUES, new))
    conn.executemany(
        "INSERT INTO search_index(rowid, text) VALUES (?, ?)", _index_rows(new, subject_of, texts)
    )
    indexed.add(new, subject_of)
    newest: dict[int, int] = {}
    for data in new:
        newest[data["ticket_id"]] = max(newest.get(data["ticket_id"], data["id"]), data["id"])
    conn.executemany(
        "UPDATE tickets SET last_message_id = max(coalesce(last_message_id, 0), ?) WHERE id = ?",
        [(message_id, ticket_id) for ticket_id, message_id in newest.items()],
    )
    sent = _select_in(
        conn,
        "SELECT message_id, seq FROM outbox WHERE state = 'applied' AND message_id IN ({marks})",
        [data["id"] for data in new],
    )
    if sent:
        echoed = dict(sent)
        for data in new:
            if data["id"] in echoed:
                _replace_local_copy(conn, data["id"], data["ticket_id"])


def _index_rows(
    messages: list[dict[str, Any]], subject_of: dict[int, str], texts: dict[str, str]
) -> list[tuple[int, str]]:
    """(id, index_text(indexed_source(body, subject))) of each message. index_text works
    character by character, so an opening message's subject part is joined to its body's,
    which was usually made ahead (`texts`). Inline, not a call per message: ~300k of them in
    a first sync, where the call alone cost the store 0.3 s."""
    made = texts.get
    rows = [(data["id"], made(data["body"]) or index_text(data["body"])) for data in messages]
    if not subject_of:
        return rows
    return [
        (id_, index_text(indexed_source("", subject_of[id_])) + text)
        if id_ in subject_of
        else (id_, text)
        for id_, text in rows
    ]


class _Indexed:
    """The messages one apply_changes call indexed, whose words go to search_words at its end."""

    def __init__(self) -> None:
        self.runs: list[tuple[list[dict[str, Any]], dict[int, str]]] = []  # messages, subjects
        self.count = 0

    def add(self, messages: list[dict[str, Any]], subject_of: dict[int, str]) -> None:
        self.runs.append((messages, subject_of))
        self.count += len(messages)

    def record_words(self, conn: sqlite3.Connection, prepared: Prepared) -> None:
        """Prefix searches expand to the words these messages bring (search.add_words)."""
        if not self.count:
            return
        if self.count == prepared.messages:  # all were new: their bodies' words are made
            words, left = index_words([s for _, subjects in self.runs for s in subjects.values()])
            record_words(conn, prepared.words | words, [*prepared.left, *left])
            return
        add_words(
            conn,
            [
                indexed_source(data["body"], subjects.get(data["id"]))
                for messages, subjects in self.runs
                for data in messages
            ],
        )


# --- one change at a time (overlay tickets, and the reference semantics) ----------------------


def _upsert(conn: sqlite3.Connection, table: str, key: str, row: dict[str, Any]) -> None:
    conn.execute(_upsert_sql(table, key, list(row)), list(row.values()))


def _apply_ticket(conn: sqlite3.Connection, change: Change) -> None:
    _apply_ticket_data(conn, change.data)


def _apply_ticket_data(conn: sqlite3.Connection, data: dict[str, Any]) -> None:
    row = ticket_row(data)
    # A ticket with unsettled local changes keeps them visible over the new server state.
    if store_server_state(conn, row):
        return
    tags: list[str] = data["tags"]
    _upsert(conn, "tickets", "id", row)
    conn.execute("DELETE FROM ticket_tags WHERE ticket_id = ?", (row["id"],))
    conn.executemany(
        "INSERT OR IGNORE INTO ticket_tags(tag, ticket_id) VALUES (?, ?)",
        [(tag, row["id"]) for tag in tags],
    )


def _apply_message(conn: sqlite3.Connection, change: Change) -> None:
    row = change.data
    if conn.execute("SELECT 1 FROM messages WHERE id = ?", (row["id"],)).fetchone():
        return  # messages are append-only: a repeat is already applied and indexed
    _upsert(conn, "messages", "id", dict(row))
    opening = conn.execute(
        "SELECT min(id) FROM messages WHERE ticket_id = ? AND id > 0", (row["ticket_id"],)
    ).fetchone()[0]
    subject = None
    if opening == row["id"]:
        found = conn.execute("SELECT subject FROM tickets WHERE id = ?", (row["ticket_id"],))
        subject = (found.fetchone() or (None,))[0]
    index_message(conn, row["id"], indexed_source(row["body"], subject))
    conn.execute(
        "UPDATE tickets SET last_message_id = max(coalesce(last_message_id, 0), ?) WHERE id = ?",
        (row["id"], row["ticket_id"]),
    )
    _replace_local_copy(conn, row["id"], row["ticket_id"])


def _replace_local_copy(conn: sqlite3.Connection, message_id: int, ticket_id: int) -> None:
    """The server's copy of a reply we sent arrived: the local (negative id) copy goes, in
    the same transaction, so the thread never shows the reply twice nor misses it."""
    found = conn.execute(
        "SELECT seq FROM outbox WHERE message_id = ? AND state = 'applied'", (message_id,)
    ).fetchone()
    if found is None:
        return
    drop_local_message(conn, -found[0])
    conn.execute("DELETE FROM outbox WHERE seq = ?", (found[0],))
    rebuild(conn, ticket_id)


def _apply_customer(conn: sqlite3.Connection, change: Change) -> None:
    row = dict(change.data)
    row["handles"] = json.dumps(row["handles"], ensure_ascii=False)
    _upsert(conn, "customers", "id", row)


def _apply_order(conn: sqlite3.Connection, change: Change) -> None:
    row = dict(change.data)
    row["items"] = json.dumps(row["items"], ensure_ascii=False)
    _upsert(conn, "orders", "id", row)


def _apply_agent(conn: sqlite3.Connection, change: Change) -> None:
    row = dict(change.data)
    row["languages"] = ",".join(row["languages"])
    row["queues"] = ",".join(row["queues"])
    row["active"] = int(row["active"])
    _upsert(conn, "agents", "login", row)


def _apply_event(conn: sqlite3.Connection, change: Change) -> None:
    conn.execute(_SQL["event"], _EVENT_VALUES(change.data))


_APPLY = {
    "event": _apply_event,
    "ticket": _apply_ticket,
    "message": _apply_message,
    "customer": _apply_customer,
    "order": _apply_order,
    "agent": _apply_agent,
}
