"""The ordered change log: append inside a write transaction, read pages after a cursor."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from agentcli.domain.clock import now_epoch
from agentcli.server.bulk import insert_returning, insert_rows
from agentcli.server.schema import change_log
from agentcli.server.wire import to_wire

# Built once: `insert().values(...)` per call regenerates its cache key (~0.1 ms each, three or
# more appends per pushed mutation).
_APPEND = change_log.insert()


def append_change(conn: Connection, kind: str, row: Mapping[str, Any]) -> int:
    """Log the entity's state after a change; return its seq.

    Must run inside `db.write_tx`, whose writer lock makes seqs visible in commit order.
    """
    return int(conn.execute(_APPEND, _entry(kind, row, now_epoch())).inserted_primary_key[0])


def append_change_list(
    conn: Connection, entries: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[int]:
    """Log several entities in the given order; return their seqs in that order.

    One statement on PostgreSQL (`bulk.insert_returning`); SQLite runs it row by row. Same
    contract as `append_change`: inside `db.write_tx`.
    """
    if not entries:
        return []
    now = now_epoch()
    rows = [_entry(kind, row, now) for kind, row in entries]
    return [int(new["seq"]) for new in insert_returning(conn, change_log, rows, ["seq"])]


def _entry(kind: str, row: Mapping[str, Any], now: int) -> dict[str, Any]:
    data = to_wire(kind, row)
    return {
        "kind": kind,
        "entity_id": str(data["login"] if kind == "agent" else data["id"]),
        "payload": json.dumps(data, ensure_ascii=False),
        "created_at": now,
    }


def append_changes(conn: Connection, kind: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Log many entities in one executemany (bulk seeding): one round trip, not one per row.

    Same contract as `append_change`: inside `db.write_tx`, so the seqs stay in commit order.
    """
    if not rows:
        return
    now = now_epoch()
    key = "login" if kind == "agent" else "id"
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    entries = ((kind, str(row[key]), dumps(to_wire(kind, row)), now) for row in rows)
    insert_rows(conn, "change_log", ("kind", "entity_id", "payload", "created_at"), entries)


def read_changes(
    conn: Connection, after: int, limit: int
) -> tuple[list[dict[str, Any]], int, bool]:
    """Changes with seq > after, in seq order: (changes, next cursor, whether more remain)."""
    rows = conn.execute(
        select(change_log.c.seq, change_log.c.kind, change_log.c.payload, change_log.c.created_at)
        .where(change_log.c.seq > after)
        .order_by(change_log.c.seq)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    changes = [{"seq": r.seq, "kind": r.kind, "data": json.loads(r.payload)} for r in rows]
    return changes, (rows[-1].seq if rows else after), more


def read_changes_json(conn: Connection, after: int, limit: int) -> bytes:
    """The same page as `read_changes`, as the response body, without decoding the payloads.

    Payloads are stored as the JSON the client receives, so splicing them into the page
    skips a json.loads and a re-serialization per change: a full pull is dominated by that.
    """
    rows = conn.execute(_PAGE, {"after": after, "limit": limit + 1}).all()
    more = len(rows) > limit
    rows = rows[:limit]
    kinds = _KIND_JSON
    items = ",".join(
        [
            f'{{"seq":{seq},"kind":{kinds.get(kind) or json.dumps(kind)},"data":{payload}}}'
            for seq, kind, payload in rows
        ]
    )
    next_seq = rows[-1][0] if rows else after
    return f'{{"changes":[{items}],"next":{next_seq},"more":{json.dumps(more)}}}'.encode()


# Built once, and the kinds' JSON strings made once: per row they were a tenth of a page.
_PAGE = (
    select(change_log.c.seq, change_log.c.kind, change_log.c.payload)
    .where(change_log.c.seq > bindparam("after"))
    .order_by(change_log.c.seq)
    .limit(bindparam("limit"))
)
_KIND_JSON = {
    kind: json.dumps(kind) for kind in ("ticket", "message", "customer", "order", "agent", "event")
}


def last_seq(conn: Connection) -> int:
    return conn.execute(select(func.coalesce(func.max(change_log.c.seq), 0))).scalar_one()
