"""Bulk inserts below SQLAlchemy's per-row parameter processing: for seeding large stores, and
for a pushed batch's multi-row inserts on PostgreSQL.

SQLAlchemy Core's executemany builds a parameter dict per row (~40 µs each here); at 100k
tickets (~1M rows with messages and the change log) that alone takes most of a minute. We hand
plain tuples to the driver inside the caller's transaction instead: `executemany` on SQLite
(~275k rows/s in WAL) and `COPY ... FROM STDIN` on PostgreSQL (one stream, no per-row round trip).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import BigInteger, Connection, Integer, RowMapping, Table
from sqlalchemy.sql.dml import ReturningInsert


def insert_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert tuples in `columns` order into `table` within `conn`'s open transaction."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    names = ", ".join(columns)
    try:
        if conn.dialect.name == "postgresql":
            # COPY's text format written by hand: psycopg's per-value dumpers cost time and,
            # in a long test session, failed inside psycopg_binary (IntDumper/get_dumper_by_oid
            # raising AttributeError after modules were re-imported); plain text has no state.
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                chunk: list[str] = []
                for row in rows:
                    chunk.append("\t".join(map(_copy_text, row)))
                    if len(chunk) >= 2000:
                        copy.write("\n".join(chunk) + "\n")
                        chunk.clear()
                if chunk:
                    copy.write("\n".join(chunk) + "\n")
        else:
            marks = ", ".join("?" * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    finally:
        cursor.close()


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).translate(_COPY_ESCAPES)


def log_inserted(
    conn: Connection,
    kind: str,
    table: str,
    fields: Sequence[str],
    time_fields: set[str],
    json_fields: set[str],
    id_range: tuple[int, int],
    now: int,
) -> None:
    """Append change-log rows for `table` rows with ids in `id_range`, building each payload
    in SQL (json_object / json_build_object): the same JSON `wire.to_wire` makes, at C speed,
    where encoding ~600k payloads in Python took most of a 100k-ticket seed."""
    postgres = conn.dialect.name == "postgresql"
    parts = []
    for name in fields:
        if name in time_fields:
            value = (
                f"to_char(to_timestamp({name}) AT TIME ZONE 'UTC', "
                '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\')'
                if postgres
                else f"strftime('%Y-%m-%dT%H:%M:%SZ', {name}, 'unixepoch')"
            )
        elif name in json_fields:
            value = f"CAST({name} AS json)" if postgres else f"json({name})"
        else:
            value = name
        parts.append(f"'{name}', {value}")
    build = "json_build_object" if postgres else "json_object"
    conn.exec_driver_sql(
        f"INSERT INTO change_log (kind, entity_id, payload, created_at) "
        f"SELECT '{kind}', CAST(id AS TEXT), {build}({', '.join(parts)}), {int(now)} "
        # `{table}.id`, not `id`: PostgreSQL would sort by the output column CAST(id AS TEXT),
        # which it also names id, so seqs followed text order (1, 10, 11, ..., 2).
        f"FROM {table} WHERE id BETWEEN {int(id_range[0])} AND {int(id_range[1])}"
        f" ORDER BY {table}.id"
    )


def insert_returning(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], returning: Sequence[str]
) -> list[RowMapping]:
    """Insert `rows` (the same keys in each) in one statement; the `returning` columns of the
    new rows, in the rows' order. `returning` includes the table's serial key.

    PostgreSQL: one binary array parameter per column (`unnest`). SQLAlchemy's multi-row VALUES
    binds one parameter per value, which psycopg parses anew for every statement of more than
    50 (a third of a 100-reply push's CPU); text arrays cost as much again in escaping. The
    rows are inserted in order (ORDER BY the ordinal: PostgreSQL draws serials in that order,
    as SQLAlchemy's `sort_by_parameter_order` relies on too) and sorted back by key. SQLite:
    SQLAlchemy's sorted multi-row insert.
    """
    if not rows:
        return []
    if conn.dialect.name != "postgresql":
        return list(conn.execute(_sorted_insert(table, tuple(returning)), list(rows)).mappings())
    names = tuple(rows[0])
    params = {f"c{i}": [row[name] for row in rows] for i, name in enumerate(names)}
    inserted = conn.exec_driver_sql(_unnest_insert(table, names, tuple(returning)), params)
    (key,) = table.primary_key.columns.keys()
    return sorted(inserted.mappings(), key=lambda row: row[key])


_SORTED_INSERTS: dict[tuple[str, tuple[str, ...]], ReturningInsert[Any]] = {}
_UNNEST_INSERTS: dict[tuple[str, tuple[str, ...], tuple[str, ...]], str] = {}


def _sorted_insert(table: Table, returning: tuple[str, ...]) -> ReturningInsert[Any]:
    key = (table.name, returning)
    if key not in _SORTED_INSERTS:
        columns = [table.c[name] for name in returning]
        _SORTED_INSERTS[key] = table.insert().returning(*columns, sort_by_parameter_order=True)
    return _SORTED_INSERTS[key]


def _unnest_insert(table: Table, names: tuple[str, ...], returning: tuple[str, ...]) -> str:
    """The statement for psycopg (`%(c0)b`: a binary parameter)."""
    key = (table.name, names, returning)
    if key not in _UNNEST_INSERTS:
        columns = _quoted(names)
        # Text arrays for strings: casting to varchar(n)[] would cut an over-long value where
        # inserting it into the column refuses it.
        arrays = ", ".join(
            f"%(c{i})b::{'bigint' if _is_integer(table, name) else 'text'}[]"
            for i, name in enumerate(names)
        )
        _UNNEST_INSERTS[key] = (
            f"INSERT INTO {table.name} ({columns}) SELECT {columns}"
            f" FROM unnest({arrays}) WITH ORDINALITY AS rows_({columns}, ordinal_)"
            f" ORDER BY ordinal_ RETURNING {_quoted(returning)}"
        )
    return _UNNEST_INSERTS[key]


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)  # "old" and "new" are keywords


def _is_integer(table: Table, name: str) -> bool:
    return isinstance(table.c[name].type, BigInteger | Integer)
