"""Inbox pages and counts: compile an `InboxQuery` to parameterized SQL over the local store.

Pages use keyset pagination on (sort value, id), never OFFSET, so page 10,000 costs what page 1
does. Without ANALYZE statistics SQLite's planner guesses, and at 1M tickets a wrong guess
costs 100x; so the page query steers it. Every column that should not drive the query is
written `+t.col` (a unary plus hides the column from index selection) and one access path is
left open, chosen in this order:

1. a *small* term (≤ SMALL_DRIVER rows by a capped count: a rare tag, a quiet assignee, an
   id list) is read first and its rows sorted (the sort keys are hidden too);
2. for `sort:sla`, an equality on assignee/queue/status walks that `(col, sla_due, id)` index;
3. otherwise the sort index itself is walked and the other terms filter, tags by an EXISTS
   probe of ticket_tags' primary key.

Counts leave every column open (the planner then picks a range), and queries over only
status/assignee/queue are answered from the trigger-maintained view_counts table.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlite_utils

from agentcli.domain.clock import SLA_NEVER, now_epoch
from agentcli.domain.query import (
    CasePresence,
    Compare,
    Duration,
    Field,
    Flag,
    InboxQuery,
    SlaState,
    SortKey,
    Term,
    Who,
)
from agentcli.domain.text import fts_query
from agentcli.domain.vocabulary import Priority

Db = sqlite_utils.Database | sqlite3.Connection
Params = list[Any]

# A term matching at most this many tickets is read first and sorted; above it, walking the
# sort index and filtering finds a page faster (measured: see tests/benchmarks/bench_inbox.py).
SMALL_DRIVER = 3000

SORT_COLUMNS = {
    SortKey.SLA: "sla_due",
    SortKey.UPDATED: "updated_at",
    SortKey.CREATED: "created_at",
    SortKey.PRIORITY: "priority",
}
# Columns with an index (col, sla_due, id): an equality on them + sort:sla is an index range.
SLA_PREFIX_FIELDS = (Field.ASSIGNEE, Field.QUEUE, Field.STATUS)
# Terms answerable from view_counts alone.
COUNTER_FIELDS = frozenset({Field.STATUS, Field.ASSIGNEE, Field.QUEUE})
# Terms whose capped count is an index range, so they may drive a page when small.
DRIVER_FIELDS = frozenset(
    {Field.ASSIGNEE, Field.QUEUE, Field.STATUS, Field.TAG, Field.REQUESTER, Field.ID, Field.IS}
)
_FIELD_COLUMN = {
    Field.STATUS: "status",
    Field.ASSIGNEE: "assignee",
    Field.QUEUE: "queue",
    Field.CHANNEL: "channel",
    Field.LANG: "language",
    Field.STATE: "case_state",
    Field.ID: "id",
}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}

ROW_COLUMNS = (
    "t.id, t.subject, t.status, t.priority, t.channel, t.queue, t.assignee, t.requester_id, "
    "t.language, t.tags, t.case_type, t.case_state, t.sla_due, t.updated_at, t.created_at, "
    "t.pending, t.version, t.snoozed_until"
)


class PageKey(NamedTuple):
    """Where a page ends: the last row's sort value and id; pass it as `after` for the next."""

    value: int
    id: int


@dataclass(frozen=True, slots=True)
class Order:
    """The page order: a tickets column, its direction, ties broken by id the same way."""

    column: str
    descending: bool
    hidden: bool = False  # write `+t.col` so no index is used for ordering

    def sql(self) -> str:
        plus = "+" if self.hidden else ""
        direction = "DESC" if self.descending else "ASC"
        return f"{plus}t.{self.column} {direction}, {plus}t.id {direction}"

    def after_sql(self) -> str:
        """Row-value keyset condition: strictly past (value, id) in this order."""
        plus = "+" if self.hidden else ""
        op = "<" if self.descending else ">"
        return f"({plus}t.{self.column}, {plus}t.id) {op} (?, ?)"


@dataclass(slots=True)  # not frozen: a frozen __init__ costs ~2x per row on a hot path
class InboxRow:
    id: int
    subject: str
    status: str
    priority: str
    channel: str
    queue: str
    assignee: str | None
    customer: str | None
    language: str
    tags: list[str]
    case_type: str | None
    case_state: str | None
    sla_due: int | None  # Unix seconds; None when no SLA clock runs
    updated_at: int
    created_at: int
    pending: bool
    version: int
    snoozed_until: int | None = None
    requester_id: int = 0
    key: PageKey = field(default=PageKey(0, 0), compare=False, repr=False)  # this row's place

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields (the page key is internal and left out)."""
        return {name: getattr(self, name) for name in _ROW_FIELDS}


_ROW_FIELDS = tuple(f for f in InboxRow.__dataclass_fields__ if f != "key")


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: list[InboxRow]
    next_key: PageKey | None  # None on the last page


# ---------------------------------------------------------------- full text

_SEARCH_SQL = (
    "SELECT m.ticket_id FROM search_index s JOIN messages m ON m.id = s.rowid "
    "WHERE search_index MATCH ?"
)


# ---------------------------------------------------------------- compiling


@dataclass
class _Compiler:
    """Turns terms into SQL; `open_columns` are the only ones written without a `+`."""

    me: str | None
    now: int
    open_columns: frozenset[str]
    tags_by_exists: bool  # probe ticket_tags per row (walks) or read it as a set (drivers)

    def col(self, name: str) -> str:
        return f"t.{name}" if name in self.open_columns else f"+t.{name}"

    def term(self, term: Term) -> tuple[str, Params]:
        sql, params = _TERM_COMPILERS[term.field](self, term.values)
        if term.negated:
            # coalesce: a NULL (no case, never snoozed) must negate to true, not to NULL.
            return f"NOT coalesce(({sql}), 0)", params
        return sql, params

    def membership(self, column: str, values: Sequence[Any]) -> tuple[str, Params]:
        if len(values) == 1:
            return f"{self.col(column)} = ?", [values[0]]
        marks = ", ".join("?" * len(values))
        return f"{self.col(column)} IN ({marks})", list(values)


def _any_of(parts: list[tuple[str, Params]]) -> tuple[str, Params]:
    if len(parts) == 1:
        return parts[0]
    sql = " OR ".join(f"({p})" for p, _ in parts)
    return f"({sql})", [v for _, params in parts for v in params]


def _plain(c: _Compiler, column: str, values: Sequence[Any]) -> tuple[str, Params]:
    return c.membership(column, [str(v) for v in values])


def _assignee(c: _Compiler, values: Sequence[Any]) -> tuple[str, Params]:
    logins = [c.me if v is Who.ME else "" if v is Who.NOBODY else str(v) for v in values]
    return c.membership("assignee", logins)


def _compare(column_sql: str, cmp: Compare) -> tuple[str, Params]:
    return f"{column_sql} {cmp.op} ?", [cmp.value]


def _priority(c: _Compiler, values: Sequence[Any]) -> tuple[str, Params]:
    ranks = [Priority(v).rank for v in values if isinstance(v, Priority)]
    parts = [c.membership("priority", ranks)] if ranks else []
    parts += [_compare(c.col("priority"), v) for v in values if isinstance(v, Compare)]
    return _any_of(parts)


def _tag(c: _Compiler, values: Sequence[Any]) -> tuple[str, Params]:
    marks = ", ".join("?" * len(values))
    if c.tags_by_exists:
        probe = f"SELECT 1 FROM ticket_tags tt WHERE tt.tag IN ({marks}) AND tt.ticket_id = t.id"
        sql = f"EXISTS ({probe})"
    else:
        sql = f"{c.col('id')} IN (SELECT ticket_id FROM ticket_tags WHERE tag IN ({marks}))"
    return sql, [str(v) for v in values]


def _case(c: _Compiler, values: Sequence[Any]) -> tuple[str, Params]:
    parts: list[tuple[str, Params]] = []
    types = [str(v) for v in values if not isinstance(v, CasePresence)]
    if types:
        parts.append(c.membership("case_type", types))
    if CasePresence.NONE in values:
        parts.append((f"{c.col('case_type')} IS NULL", []))
    if CasePresence.ANY in values:
        parts.append((f"{c.col('case_type')} IS NOT NULL", []))
    return _any_of(parts)


def _sla_value(c: _Compiler, value: Any) -> tuple[str, Params]:
    due = c.col("sla_due")
    if value is SlaState.BREACHED:
        return f"{due} <= ?", [c.now]
    if value is SlaState.NONE:
        return f"{due} >= ?", [SLA_NEVER]
    if value is SlaState.ANY:
        return f"{due} < ?", [SLA_NEVER]
    assert isinstance(value, Duration)
    limit = c.now + value.seconds
    if value.op in ("<", "<="):  # due within: still running, not yet breached
        return f"{due} > ? AND {due} {value.op} ?", [c.now, limit]
    return f"{due} {value.op} ? AND {due} < ?", [limit, SLA_NEVER]


def _sla(c: _Compiler, values: Sequence[Any]) -> tuple[str, Params]:
    return _any_of([_sla_value(c, v) for v in values])


def _time_value(c: _Compiler, column: str, value: Any) -> tuple[str, Params]:
    col = c.col(column)
    if isinstance(value, Duration):  # an age: older than 7d = before now - 7d
        return f"{col} {_FLIP[value.op]} ?", [c.now - value.seconds]
    assert isinstance(value, Compare)
    # A date names a span (a day, or a minute with a time); compare against its edges.
    start, end = value.value, value.value + value.span
    if value.op == "=":
        return f"{col} >= ? AND {col} < ?", [start, end]
    edge = {"<": start, "<=": end, ">": end, ">=": start}[value.op]
    op = {"<": "<", "<=": "<", ">": ">=", ">=": ">="}[value.op]
    return f"{col} {op} ?", [edge]


def _created(c: _Compiler, values: Sequence[Any]) -> tuple[str, Params]:
    return _any_of([_time_value(c, "created_at", v) for v in values])


def _updated(c: _Compiler, values: Sequence[Any]) -> tuple[str, Params]:
    return _any_of([_time_value(c, "updated_at", v) for v in values])


def _id(c: _Compiler, values: Sequence[Any]) -> tuple[str, Params]:
    ids = [v for v in values if isinstance(v, int)]
    parts = [c.membership("id", ids)] if ids else []
    parts += [_compare(c.col("id"), v) for v in values if isinstance(v, Compare)]
    return _any_of(parts)


def _requester(c: _Compiler, values: Sequence[Any]) -> tuple[str, Params]:
    ids = [v for v in values if isinstance(v, int)]
    parts = [c.membership("requester_id", ids)] if ids else []
    for name in (v for v in values if isinstance(v, str)):
        sub = "SELECT id FROM customers WHERE email = ? OR name = ?"
        parts.append((f"{c.col('requester_id')} IN ({sub})", [name, name]))
    return _any_of(parts)


def _is(c: _Compiler, values: Sequence[Any]) -> tuple[str, Params]:
    parts: list[tuple[str, Params]] = []
    if Flag.PENDING in values:
        parts.append((f"{c.col('pending')} != 0", []))
    if Flag.SNOOZED in values:
        parts.append((f"{c.col('snoozed_until')} > ?", [c.now]))
    return _any_of(parts)


def _column_term(column: str) -> Callable[[_Compiler, Sequence[Any]], tuple[str, Params]]:
    return lambda c, values: _plain(c, column, values)


_TERM_COMPILERS: dict[Field, Callable[[_Compiler, Sequence[Any]], tuple[str, Params]]] = {
    **{f: _column_term(col) for f, col in _FIELD_COLUMN.items() if f is not Field.ID},
    Field.ASSIGNEE: _assignee,
    Field.PRIORITY: _priority,
    Field.TAG: _tag,
    Field.CASE: _case,
    Field.SLA: _sla,
    Field.CREATED: _created,
    Field.UPDATED: _updated,
    Field.ID: _id,
    Field.REQUESTER: _requester,
    Field.IS: _is,
}


def _text_clauses(q: InboxQuery, id_column: str) -> tuple[list[str], Params]:
    clauses: list[str] = []
    params: Params = []
    for words, negated in [(w, False) for w in q.text] + [(w, True) for w in q.excluded_text]:
        expression = fts_query(words)  # the same translation as `agentcli search`
        if expression is None:
            continue  # nothing searchable (punctuation only): no constraint
        clauses.append(f"{id_column} {'NOT IN' if negated else 'IN'} ({_SEARCH_SQL})")
        params.append(expression)
    return clauses, params


def _where(c: _Compiler, q: InboxQuery) -> tuple[str, Params]:
    clauses: list[str] = []
    params: Params = []
    for term in q.terms:
        sql, term_params = c.term(term)
        clauses.append(f"({sql})")
        params += term_params
    text_sql, text_params = _text_clauses(q, c.col("id"))
    clauses += text_sql
    params += text_params
    return (" AND ".join(clauses) or "1"), params


def compile_query(
    q: InboxQuery, *, me: str | None, now: int, steer: _Steer | None = None
) -> tuple[str, Params, Order]:
    """WHERE clause (over `tickets t`), its parameters, and the page order.

    Without `steer`, every column may use an index (right for counts); `inbox_page` passes
    the access path it chose.
    """
    steer = steer or _Steer.open_all()
    compiler = _Compiler(me, now, steer.open_columns, steer.tags_by_exists)
    where, params = _where(compiler, q)
    order = Order(SORT_COLUMNS[q.sort.key], q.sort.descending, hidden=steer.hide_order)
    return where, params, order


# ---------------------------------------------------------------- choosing the access path


_ALL_COLUMNS = frozenset(
    {
        "status",
        "assignee",
        "queue",
        "channel",
        "priority",
        "language",
        "case_type",
        "case_state",
        "sla_due",
        "created_at",
        "updated_at",
        "id",
        "requester_id",
        "pending",
        "snoozed_until",
    }
)


@dataclass(frozen=True, slots=True)
class _Steer:
    open_columns: frozenset[str]
    tags_by_exists: bool
    hide_order: bool

    @classmethod
    def open_all(cls) -> _Steer:
        return cls(_ALL_COLUMNS, tags_by_exists=False, hide_order=False)


def _term_columns(term: Term) -> frozenset[str]:
    if term.field is Field.TAG:
        return frozenset({"id"})
    if term.field is Field.IS:
        return frozenset({"snoozed_until", "pending"})
    column = _FIELD_COLUMN.get(term.field) or {
        Field.REQUESTER: "requester_id",
        Field.PRIORITY: "priority",
        Field.CASE: "case_type",
    }.get(term.field)
    return frozenset({column}) if column else frozenset()


def _capped_count(
    conn: sqlite3.Connection, term: Term, *, me: str | None, now: int, cap: int
) -> int:
    """How many tickets `term` matches, counting no further than cap + 1."""
    if term.field is Field.TAG:
        marks = ", ".join("?" * len(term.values))
        sql = f"SELECT 1 FROM ticket_tags WHERE tag IN ({marks}) LIMIT ?"
        params: Params = [str(v) for v in term.values]
    else:
        compiler = _Compiler(me, now, _term_columns(term), tags_by_exists=False)
        where, params = compiler.term(term)
        sql = f"SELECT 1 FROM tickets t WHERE {where} LIMIT ?"
    row = conn.execute(f"SELECT count(*) FROM ({sql})", [*params, cap + 1]).fetchone()
    return int(row[0])


def _small_driver(
    conn: sqlite3.Connection,
    q: InboxQuery,
    me: str | None,
    now: int,
    skip: Term | None,
    small: int,
) -> Term | None:
    """The term matching fewest tickets, if it matches at most SMALL_DRIVER of them."""
    best: tuple[int, Term] | None = None
    for term in q.terms:
        if term is skip or term.negated or term.field not in DRIVER_FIELDS:
            continue
        if term.field is Field.IS and len(term.values) != 1:
            continue  # each flag has its own partial index; an OR of two has none
        if term.field is Field.ID and not all(isinstance(v, int) for v in term.values):
            continue
        n = _capped_count(conn, term, me=me, now=now, cap=small)
        if n <= small and (best is None or n < best[0]):
            best = (n, term)
    return best[1] if best else None


def _sla_prefix(q: InboxQuery) -> Term | None:
    if q.sort.key is not SortKey.SLA:
        return None
    for wanted in SLA_PREFIX_FIELDS:
        for term in q.terms:
            if term.field is wanted and not term.negated and len(term.values) == 1:
                return term
    return None


def choose_steer(
    conn: sqlite3.Connection,
    q: InboxQuery,
    *,
    me: str | None,
    now: int,
    small_driver: int = SMALL_DRIVER,
) -> _Steer:
    """Pick the one access path a page query may use (see the module docstring)."""
    sort_column = SORT_COLUMNS[q.sort.key]
    prefix = _sla_prefix(q)
    # The prefix term already walks its own index in order, so it needs no estimate.
    driver = _small_driver(conn, q, me, now, skip=prefix, small=small_driver)
    if driver is not None:
        return _Steer(_term_columns(driver), tags_by_exists=False, hide_order=True)
    # id stays open only for full text, where the search's id set may drive the query.
    columns = {sort_column, "id"} if q.text else {sort_column}
    if prefix is not None:
        columns |= _term_columns(prefix)
    return _Steer(frozenset(columns), tags_by_exists=True, hide_order=False)


# ---------------------------------------------------------------- pages and counts


def connection(db: Db) -> sqlite3.Connection:
    """The sqlite3 connection under a sqlite-utils Database (or the connection itself)."""
    return db.conn if isinstance(db, sqlite_utils.Database) else db


# Position of each sortable column in a ROW_COLUMNS record, for the page key.
_KEY_INDEX = {"priority": 3, "sla_due": 12, "updated_at": 13, "created_at": 14}
_PRIORITY_NAMES = tuple(Priority.from_rank(rank).value for rank in range(4))


def _row(record: tuple[Any, ...], customers: dict[int, str], key_index: int) -> InboxRow:
    # Positional on purpose: this runs for every row on screen, keep it cheap.
    (id_, subject, status, priority, channel, queue, assignee, requester_id, language, tags,
     case_type, case_state, sla_due, updated_at, created_at, pending, version,
     snoozed_until) = record  # fmt: skip
    return InboxRow(
        id_,
        subject,
        status,
        _PRIORITY_NAMES[priority] if priority in (0, 1, 2, 3) else str(priority),
        channel,
        queue,
        assignee or None,
        customers.get(requester_id),
        language,
        _tags(tags),
        case_type,
        case_state,
        None if sla_due >= SLA_NEVER else sla_due,
        updated_at,
        created_at,
        bool(pending),
        version,
        snoozed_until,
        requester_id,
        PageKey(record[key_index], id_),
    )


def _tags(raw: str | None) -> list[str]:
    if not raw or raw == "[]":
        return []
    try:
        tags = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(t) for t in tags] if isinstance(tags, list) else []


def _customer_names(conn: sqlite3.Connection, ids: set[int]) -> dict[int, str]:
    """Names for only the page's requesters: one indexed lookup per row, never a join scan."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    sql = f"SELECT id, name FROM customers WHERE id IN ({marks})"
    return dict(conn.execute(sql, list(ids)).fetchall())


def page_sql(
    q: InboxQuery, *, me: str | None, now: int, steer: _Steer, after: PageKey | None, limit: int
) -> tuple[str, Params]:
    where, params, order = compile_query(q, me=me, now=now, steer=steer)
    if after is not None:
        where = f"{order.after_sql()} AND ({where})"
        params = [after.value, after.id, *params]
    sql = f"SELECT {ROW_COLUMNS} FROM tickets t WHERE {where} ORDER BY {order.sql()} LIMIT ?"
    return sql, [*params, limit]


def inbox_page(
    db: Db,
    q: InboxQuery,
    *,
    me: str | None,
    now: int | None = None,
    limit: int = 50,
    after: PageKey | None = None,
    small_driver: int = SMALL_DRIVER,
) -> InboxPage:
    """One page of the inbox in `q`'s order, starting after `after` (None: the first page).

    `small_driver` tunes the access path (see the module docstring); tests set it to 0 or
    very high to force the index walk or the read-then-sort path on a small store.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    conn = connection(db)
    now = now_epoch() if now is None else now
    steer = choose_steer(conn, q, me=me, now=now, small_driver=small_driver)
    sql, params = page_sql(q, me=me, now=now, steer=steer, after=after, limit=limit + 1)
    records = conn.execute(sql, params).fetchall()
    more = len(records) > limit
    records = records[:limit]
    customers = _customer_names(conn, {r[7] for r in records})
    key_index = _KEY_INDEX[SORT_COLUMNS[q.sort.key]]
    rows = [_row(r, customers, key_index) for r in records]
    return InboxPage(rows, rows[-1].key if more else None)


def count_query(db: Db, q: InboxQuery, *, me: str | None, now: int | None = None) -> int:
    """How many tickets match `q`; from view_counts when only status/assignee/queue filter."""
    conn = connection(db)
    now = now_epoch() if now is None else now
    where, params, _ = compile_query(q, me=me, now=now)
    if q.fields() <= COUNTER_FIELDS and not q.text and not q.excluded_text:
        sql = f"SELECT coalesce(sum(n), 0) FROM view_counts t WHERE {where}"
    else:
        sql = f"SELECT count(*) FROM tickets t WHERE {where}"
    return int(conn.execute(sql, params).fetchone()[0])
