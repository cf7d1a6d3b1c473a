"""Which rows of a huge keyset-paged list are in memory, and how to fetch a missing one.

Keyset pages can only continue from a known row, so a fetch is always planned from a
neighbour: forward from the row above, backward (the reversed query) from the row below, or
from either end. `j`, `ctrl+d`, page down, `g` and `G` therefore never need OFFSET; only a
jump into the unknown middle (dragging the scrollbar) finds its start with one OFFSET probe.
Rows live in an LRU capped at `max_rows`, so memory stays flat at any store size.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace

from agentcli.domain.query import InboxQuery, Sort
from agentcli.store.inbox import Db, InboxRow, PageKey, compile_query, connection, inbox_page

PAGE_ROWS = 100
MAX_CACHED_ROWS = 4_000
# A gap up to this many rows from a known row is read in one keyset query; past it, OFFSET.
WALK_LIMIT = 2_000


@dataclass(frozen=True, slots=True)
class Fetch:
    """Read `limit` rows into indexes start, start+1, … (or start, start-1, … backward)."""

    start: int
    backward: bool
    after: PageKey | None  # the neighbour's key; None reads from that end of the list
    limit: int
    offset: int = 0  # rows to skip from the end first (only for jumps into the unknown)


class RowCache:
    def __init__(self, page_rows: int = PAGE_ROWS, max_rows: int = MAX_CACHED_ROWS) -> None:
        self.page_rows = page_rows
        self.max_rows = max_rows
        self.total: int | None = None
        self._rows: OrderedDict[int, InboxRow] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, index: int) -> bool:
        return index in self._rows

    def get(self, index: int) -> InboxRow | None:
        row = self._rows.get(index)
        if row is not None:
            self._rows.move_to_end(index)
        return row

    def peek(self, index: int) -> InboxRow | None:
        """The row without touching the LRU order (for painting checks)."""
        return self._rows.get(index)

    def put(self, fetch_start: int, rows: list[InboxRow], *, backward: bool, at_end: bool) -> None:
        step = -1 if backward else 1
        for offset, row in enumerate(rows):
            self._rows[fetch_start + step * offset] = row
            self._rows.move_to_end(fetch_start + step * offset)
        if at_end and not backward:
            # A forward read that ran out tells us the true length.
            self.total = fetch_start + len(rows)
        while len(self._rows) > self.max_rows:
            self._rows.popitem(last=False)

    def index_of(self, ticket_id: int) -> int | None:
        return next((i for i, row in self._rows.items() if row.id == ticket_id), None)

    def plan(self, index: int) -> Fetch:
        """How to read the page holding `index` (which is missing)."""
        rows, page = self._rows, self.page_rows
        last = None if self.total is None else self.total - 1
        if index == 0 or (index - 1) in rows:
            after = rows[index - 1].key if index > 0 else None
            return Fetch(index, False, after, page)
        if index == last or (index + 1) in rows:
            after = rows[index + 1].key if index != last else None
            return Fetch(index, True, after, page)
        below = max((i for i in rows if i < index), default=None)
        above = min((i for i in rows if i > index), default=None)
        if below is not None and index - below <= WALK_LIMIT:
            return Fetch(below + 1, False, rows[below].key, index - below + page)
        if above is not None and above - index <= WALK_LIMIT:
            return Fetch(above - 1, True, rows[above].key, above - index + page)
        if index < WALK_LIMIT:
            return Fetch(0, False, None, index + page)
        if last is not None and last - index < WALK_LIMIT:
            return Fetch(last, True, None, last - index + page)
        if last is not None and last - index < index:
            return Fetch(index, True, None, page, offset=last - index)
        return Fetch(index, False, None, page, offset=index)


def reversed_query(q: InboxQuery) -> InboxQuery:
    """The same rows in the opposite order (ties on id flip too), to page up from the end."""
    return replace(q, sort=Sort(q.sort.key, not q.sort.descending))


def read(
    db: Db, q: InboxQuery, fetch: Fetch, *, me: str | None, now: int
) -> tuple[list[InboxRow], bool]:
    """Run `fetch` against the store: (rows in fetch order, whether the list ended)."""
    query = reversed_query(q) if fetch.backward else q
    after = fetch.after
    if fetch.offset:
        after = _key_at(db, query, fetch.offset - 1, me=me, now=now)
        if after is None:
            return [], True
    page = inbox_page(db, query, me=me, now=now, limit=fetch.limit, after=after)
    return page.rows, page.next_key is None


def _key_at(db: Db, q: InboxQuery, position: int, *, me: str | None, now: int) -> PageKey | None:
    """The page key of the row at `position` (0-based) in q's order: one OFFSET probe that
    reads only the sort column and id, for a jump into the middle of a long list."""
    where, params, order = compile_query(q, me=me, now=now)
    sql = (
        f"SELECT t.{order.column}, t.id FROM tickets t WHERE {where}"
        f" ORDER BY {order.sql()} LIMIT 1 OFFSET ?"
    )
    row = connection(db).execute(sql, [*params, position]).fetchone()
    return PageKey(row[0], row[1]) if row else None
