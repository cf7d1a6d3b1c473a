"""Inbox pages, counts and sidebar views against real SQLite stores built row by row.

Each filter is checked against a plain-Python reference over the same rows, paging against a
full ORDER BY, counts against GROUP BY, and the counters against ticket updates (triggers).
"""

from __future__ import annotations

import json
import operator
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentcli.domain.cases import CaseState, CaseType
from agentcli.domain.clock import SLA_NEVER
from agentcli.domain.query import (
    CasePresence,
    Compare,
    Duration,
    Field,
    Flag,
    InboxQuery,
    QuerySyntaxError,
    SlaState,
    Term,
    Who,
    parse_query,
)
from agentcli.domain.text import index_text
from agentcli.domain.vocabulary import Channel, Priority, Status
from agentcli.store.db import open_store
from agentcli.store.inbox import (
    SMALL_DRIVER,
    SORT_COLUMNS,
    InboxRow,
    PageKey,
    compile_query,
    count_query,
    inbox_page,
)
from agentcli.store.views import (
    delete_view,
    list_views,
    queues_present,
    save_view,
    sidebar_counts,
)
from tests.test_query import grammar_queries

NOW = 1_795_000_000  # a fixed "now" (2026-11-18) so time filters are reproducible
ME = "me"
AGENTS = (ME, "olena", "li.wei", "sam")
QUEUES = ("returns", "billing", "повернення", "two words")
TAGS = ("破损", "vip", "delay", "two words", "fragile")
WORDS = ("refund", "доставка", "退款", "外包装破损", "broken", "物流", "hello")

# ---------------------------------------------------------------- the store


def ticket_row(rng: random.Random, ticket_id: int) -> dict[str, Any]:
    status = rng.choice(list(Status))
    created = NOW - rng.randrange(0, 30 * 86400, 1800)
    case_type = rng.choice([None, None, *CaseType])
    return {
        "id": ticket_id,
        "subject": f"subject {ticket_id}",
        "status": status.value,
        "priority": rng.randrange(4),
        "channel": rng.choice(list(Channel)).value,
        "queue": rng.choice(QUEUES),
        "assignee": rng.choice(("", *AGENTS)),
        "requester_id": rng.randrange(1, 21),
        "language": rng.choice(("zh-CN", "zh-TW", "en", "uk")),
        "tags": json.dumps(rng.sample(TAGS, rng.randrange(0, 3)), ensure_ascii=False),
        "case_type": case_type and case_type.value,
        "case_state": case_type and rng.choice(list(CaseState)).value,
        "created_at": created,
        # Ties on purpose: keyset paging must break them by id.
        "updated_at": created + rng.choice((0, 60, 3600)),
        "sla_due": (NOW + rng.randrange(-7200, 7200, 600) if status.is_active else SLA_NEVER),
        "snoozed_until": rng.choice((None, None, None, NOW - 60, NOW + 3600)),
        "pending": int(rng.random() < 0.1),
        "version": rng.randrange(1, 5),
    }


def build_store(path: Path, tickets: int = 240, seed: int = 7) -> sqlite_utils.Database:
    """`tickets` random tickets, 20 customers, their tags, and one message each."""
    rng = random.Random(seed)
    db = open_store(path)
    conn = db.conn
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO customers(id, name, locale, email) VALUES (?, ?, 'en', ?)",
        [(i, f"Customer {i}", f"c{i}@example.com") for i in range(1, 21)],
    )
    rows = [ticket_row(rng, i) for i in range(1, tickets + 1)]
    columns = ", ".join(rows[0])
    marks = ", ".join(f":{c}" for c in rows[0])
    conn.executemany(f"INSERT INTO tickets({columns}) VALUES ({marks})", rows)
    for row in rows:
        for tag in json.loads(row["tags"]):
            conn.execute("INSERT INTO ticket_tags(tag, ticket_id) VALUES (?, ?)", (tag, row["id"]))
        body = " ".join(rng.sample(WORDS, 2))
        conn.execute(
            "INSERT INTO messages(id, ticket_id, kind, author_kind, author, channel, body,"
            " created_at) VALUES (?, ?, 'public', 'customer', 'c', 'email', ?, ?)",
            (row["id"], row["id"], body, row["created_at"]),
        )
        conn.execute(
            "INSERT INTO search_index(rowid, text) VALUES (?, ?)", (row["id"], index_text(body))
        )
    conn.execute("COMMIT")
    return db


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> sqlite_utils.Database:
    return build_store(tmp_path_factory.mktemp("inbox") / "store.db")


def all_tickets(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    rows = db.conn.execute(
        "SELECT t.*, m.body FROM tickets t JOIN messages m ON m.ticket_id = t.id"
    )
    names = [d[0] for d in rows.description]
    return [dict(zip(names, r, strict=True)) for r in rows.fetchall()]


# ---------------------------------------------------------------- a reference in plain Python

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def date_matches(ts: int, cmp: Compare) -> bool:
    start, end = cmp.value, cmp.value + cmp.span
    return {
        "=": start <= ts < end,
        "<": ts < start,
        "<=": ts < end,
        ">": ts >= end,
        ">=": ts >= start,
    }[cmp.op]


def sla_matches(due: int, value: Any) -> bool:
    if value is SlaState.BREACHED:
        return due <= NOW
    if value is SlaState.NONE:
        return due >= SLA_NEVER
    if value is SlaState.ANY:
        return due < SLA_NEVER
    left = due - NOW
    if value.op in ("<", "<="):
        return due > NOW and OPS[value.op](left, value.seconds)
    return due < SLA_NEVER and OPS[value.op](left, value.seconds)


def value_matches(row: dict[str, Any], field: Field, value: Any) -> bool:
    match field:
        case Field.ASSIGNEE:
            login = ME if value is Who.ME else "" if value is Who.NOBODY else value
            return row["assignee"] == login
        case Field.PRIORITY:
            if isinstance(value, Compare):
                return OPS[value.op](row["priority"], value.value)
            return row["priority"] == Priority(value).rank
        case Field.TAG:
            return value in json.loads(row["tags"])
        case Field.CASE:
            if value is CasePresence.NONE:
                return row["case_type"] is None
            if value is CasePresence.ANY:
                return row["case_type"] is not None
            return row["case_type"] == value
        case Field.SLA:
            return sla_matches(row["sla_due"], value)
        case Field.CREATED | Field.UPDATED:
            ts = row["created_at" if field is Field.CREATED else "updated_at"]
            if isinstance(value, Duration):
                return OPS[value.op](NOW - ts, value.seconds)
            return date_matches(ts, value)
        case Field.ID:
            if isinstance(value, Compare):
                return OPS[value.op](row["id"], value.value)
            return row["id"] == value
        case Field.REQUESTER:
            if isinstance(value, int):
                return row["requester_id"] == value
            n = row["requester_id"]
            return value in (f"Customer {n}", f"c{n}@example.com")
        case Field.IS:
            if value is Flag.PENDING:
                return row["pending"] != 0
            return (row["snoozed_until"] or 0) > NOW
    column = {Field.LANG: "language", Field.STATE: "case_state"}.get(field, field.value)
    return row[column] == value


def term_matches(row: dict[str, Any], term: Term) -> bool:
    return any(value_matches(row, term.field, v) for v in term.values) != term.negated


def text_matches(row: dict[str, Any], words: str) -> bool:
    return words.strip('"') in row["body"]


def reference(rows: list[dict[str, Any]], q: InboxQuery) -> list[int]:
    """Ids matching `q`, in `q`'s order (ties by id, same direction)."""
    hits = [
        r
        for r in rows
        if all(term_matches(r, t) for t in q.terms)
        and all(text_matches(r, w) for w in q.text)
        and not any(text_matches(r, w) for w in q.excluded_text)
    ]
    column = SORT_COLUMNS[q.sort.key]
    hits.sort(key=lambda r: (r[column], r["id"]), reverse=q.sort.descending)
    return [r["id"] for r in hits]


# Access paths: 0 forces walking an index in sort order; a huge cap forces read-then-sort.
PATHS = [0, SMALL_DRIVER, 10**9]


def walk(
    db: sqlite_utils.Database, q: InboxQuery, limit: int = 7, small: int = SMALL_DRIVER
) -> list[InboxRow]:
    rows: list[InboxRow] = []
    after: PageKey | None = None
    for _ in range(10_000):
        page = inbox_page(db, q, me=ME, now=NOW, limit=limit, after=after, small_driver=small)
        rows += page.rows
        assert len(page.rows) <= limit
        if page.next_key is None:
            return rows
        assert len(page.rows) == limit
        after = page.next_key
    raise AssertionError("paging never ended")


# ---------------------------------------------------------------- filters

EVERY_FIELD = [
    "status:open",
    "status:new,pending",
    "-status:closed,solved",
    "assignee:me",
    "assignee:none",
    "assignee:olena,li.wei",
    "-assignee:me",
    "queue:повернення",
    'queue:"two words"',
    "channel:email,chat",
    "priority:high",
    "priority:>=high",
    "priority:<normal",
    "priority:low,>high",
    "-priority:urgent",
    "tag:破损",
    'tag:"two words"',
    "tag:破损 tag:vip",
    "tag:破损,vip",
    "tag:破损 -tag:vip",
    "lang:uk",
    "lang:zh-CN,zh-TW",
    "case:refund-only",
    "case:none",
    "case:any",
    "-case:refund-only",
    "state:approved,received",
    "-state:closed",
    "sla:<30m",
    "sla:<=1h",
    "sla:>30m",
    "sla:>=1h",
    "sla:breached",
    "sla:none",
    "sla:any",
    "-sla:breached",
    "sla:breached,<30m",
    "created:>7d",
    "created:<2d",
    "created:<=10d",
    "created:>=2026-11-01",
    "created:2026-11-01",
    "created:>2026-11-01",
    "created:<2026-11-01",
    "created:<=2026-11-01",
    "updated:<6h",
    "-updated:>7d",
    "updated:2026-11-10T12:00,2026-11-12",
    "id:5,17,99",
    "id:>200",
    "id:<=10,230",
    "requester:3",
    'requester:"Customer 4"',
    "requester:c5@example.com",
    "is:pending",
    "is:snoozed",
    "-is:snoozed",
    "is:pending,snoozed",
    "status:open,pending assignee:me priority:>=high -tag:vip sort:sla",
    "refund",
    "退款",
    "破损",
    '"外包装破损"',
    "退款 -refund",
    "-物流 status:open",
    "hello 退款 tag:delay",
]


@pytest.mark.parametrize("small", PATHS)
@pytest.mark.parametrize("text", EVERY_FIELD)
def test_each_filter_matches_the_reference(
    store: sqlite_utils.Database, text: str, small: int
) -> None:
    q = parse_query(text)
    expected = reference(all_tickets(store), q)
    assert [r.id for r in walk(store, q, limit=1000, small=small)] == expected
    assert count_query(store, q, me=ME, now=NOW) == len(expected)


def test_the_fixture_exercises_every_filter(store: sqlite_utils.Database) -> None:
    """Guard against vacuous passes: each filter matches some rows but not every row."""
    rows = all_tickets(store)
    for text in EVERY_FIELD:
        assert 0 < len(reference(rows, parse_query(text))) < len(rows), text


# ---------------------------------------------------------------- paging


@pytest.mark.parametrize(
    "sort",
    [
        "sla",
        "-sla",
        "updated",
        "+updated",
        "created",
        "created-asc",
        "priority",
        "priority-asc",
    ],
)
@pytest.mark.parametrize(
    "filters", ["", "status:new,open", "assignee:me", "tag:vip", "queue:returns", "id:<50"]
)
def test_keyset_walks_every_row_once_in_order(
    store: sqlite_utils.Database, sort: str, filters: str
) -> None:
    q = parse_query(f"{filters} sort:{sort}")
    where, params, order = compile_query(q, me=ME, now=NOW)
    full = store.conn.execute(
        f"SELECT t.id FROM tickets t WHERE {where} ORDER BY {order.sql()}", params
    )
    expected = [r[0] for r in full]
    for limit, small in ((1, 0), (7, 0), (7, 10**9), (50, SMALL_DRIVER)):
        ids = [r.id for r in walk(store, q, limit, small)]
        assert ids == expected
        assert len(set(ids)) == len(ids)


def test_rows_carry_display_fields(store: sqlite_utils.Database) -> None:
    page = inbox_page(store, parse_query("id:1,2,3,4,5,6,7,8 sort:+created"), me=ME, now=NOW)
    by_id = {r["id"]: r for r in all_tickets(store)}
    for row in page.rows:
        source = by_id[row.id]
        assert row.customer == f"Customer {source['requester_id']}"
        assert row.priority == Priority.from_rank(source["priority"]).value
        assert row.assignee == (source["assignee"] or None)
        assert row.tags == json.loads(source["tags"])
        assert row.sla_due == (None if source["sla_due"] == SLA_NEVER else source["sla_due"])
        assert row.pending is bool(source["pending"])
        assert json.dumps(row.as_dict(), ensure_ascii=False)


def test_user_values_never_reach_the_sql_text() -> None:
    q = parse_query("tag:\"x'); DROP TABLE tickets; --\" queue:q'1 assignee:o'k 'quoted'")
    where, params, _ = compile_query(q, me="m'e", now=NOW)
    assert "'" not in where and "DROP" not in where
    assert "x'); DROP TABLE tickets; --" in params


def test_a_page_past_the_end_is_empty(store: sqlite_utils.Database) -> None:
    page = inbox_page(store, InboxQuery(), me=ME, now=NOW, after=PageKey(0, 0))
    assert page.rows == [] and page.next_key is None


def test_limit_must_be_positive(store: sqlite_utils.Database) -> None:
    with pytest.raises(ValueError, match="limit"):
        inbox_page(store, InboxQuery(), me=ME, now=NOW, limit=0)


# ---------------------------------------------------------------- counts and sidebar


def test_counts_match_group_by(store: sqlite_utils.Database) -> None:
    conn = store.conn
    grouped = conn.execute(
        "SELECT status, assignee, queue, count(*) FROM tickets GROUP BY 1, 2, 3"
    ).fetchall()
    for status, assignee, queue, n in grouped:
        login = f'"{assignee}"' if assignee else "none"
        q = parse_query(f'status:{status} assignee:{login} queue:"{queue}"')
        assert count_query(store, q, me=ME, now=NOW) == n
    assert count_query(store, InboxQuery(), me=ME, now=NOW) == sum(g[3] for g in grouped)


def sidebar(db: sqlite_utils.Database) -> dict[str, int]:
    return {name: n for name, _, n in sidebar_counts(db, me=ME, now=NOW)}


def scanned(db: sqlite_utils.Database) -> dict[str, int]:
    """The same views counted by scanning tickets, bypassing view_counts."""
    out = {}
    for name, query, _ in sidebar_counts(db, me=ME, now=NOW):
        where, params, _ = compile_query(parse_query(query), me=ME, now=NOW)
        sql = f"SELECT count(*) FROM tickets t WHERE {where}"
        out[name] = db.conn.execute(sql, params).fetchone()[0]
    return out


def test_sidebar_counts_follow_ticket_updates(tmp_path: Path) -> None:
    db = build_store(tmp_path / "s.db", tickets=120, seed=3)
    names = list(sidebar(db))
    assert names[:2] == ["My open", "Unassigned"]
    assert [n for n in names if n.startswith("Queue: ")] == [f"Queue: {q}" for q in sorted(QUEUES)]
    assert sidebar(db) == scanned(db)
    conn = db.conn
    before = sidebar(db)
    conn.execute("UPDATE tickets SET assignee = 'me', status = 'open' WHERE id IN (1, 2, 3)")
    conn.execute("UPDATE tickets SET queue = 'brand new' WHERE id = 4")
    conn.execute("UPDATE tickets SET status = 'solved', sla_due = ? WHERE id = 5", (SLA_NEVER,))
    conn.execute("UPDATE tickets SET pending = 1, snoozed_until = ? WHERE id = 6", (NOW + 60,))
    conn.execute("DELETE FROM tickets WHERE id = 7")
    after = sidebar(db)
    assert after == scanned(db)
    assert after != before and "Queue: brand new" in after
    assert "brand new" in queues_present(db)


def test_saved_views(tmp_path: Path) -> None:
    db = build_store(tmp_path / "s.db", tickets=30)
    save_view(db, "Broken VIP", "tag:破损 tag:vip sort:sla")
    save_view(db, "Mine", "assignee:me")
    save_view(db, "Mine", "assignee:me status:open")  # replaces
    assert [(v.name, v.query) for v in list_views(db)] == [
        ("Broken VIP", "tag:破损 tag:vip sort:sla"),
        ("Mine", "assignee:me status:open"),
    ]
    with pytest.raises(QuerySyntaxError):
        save_view(db, "Bad", "status:opne")
    with pytest.raises(ValueError, match="name"):
        save_view(db, "  ", "status:open")
    counted = sidebar_counts(db, me=ME, now=NOW, include_saved=True)
    assert ("Mine", "assignee:me status:open") in [(n, q) for n, q, _ in counted]
    assert delete_view(db, "Mine") and not delete_view(db, "Mine")
    assert [v.name for v in list_views(db)] == ["Broken VIP"]


# ---------------------------------------------------------------- nothing else ever raises


def run_everything(db: sqlite_utils.Database, text: str) -> None:
    try:
        q = parse_query(text)
    except QuerySyntaxError:
        return
    page = inbox_page(db, q, me=ME, now=NOW, limit=5)
    if page.next_key is not None:
        inbox_page(db, q, me=ME, now=NOW, limit=5, after=page.next_key)
    count_query(db, q, me=ME, now=NOW)


PROPERTY = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(st.text())
def test_any_text_runs_or_is_a_syntax_error(store: sqlite_utils.Database, text: str) -> None:
    run_everything(store, text)


@PROPERTY
@given(grammar_queries)
def test_grammar_queries_run_or_are_syntax_errors(store: sqlite_utils.Database, text: str) -> None:
    run_everything(store, text)


@PROPERTY
@given(grammar_queries)
def test_grammar_queries_agree_with_the_reference(store: sqlite_utils.Database, text: str) -> None:
    try:
        q = parse_query(text)
    except QuerySyntaxError:
        return
    if q.text or q.excluded_text:
        return  # full-text semantics belong to the search module; covered by fixed cases
    expected = reference(all_tickets(store), q)
    for small in PATHS:
        assert [r.id for r in walk(store, q, limit=40, small=small)] == expected
