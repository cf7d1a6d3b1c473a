"""Bulk inserts below SQLAlchemy's per-row parameter processing, for seeding large stores.

SQLAlchemy Core's executemany builds a parameter dict per row (~40 µs each here); at 100k
tickets (~1M rows with messages and the change log) that alone takes most of a minute. We hand
plain tuples to the driver inside the caller's transaction instead: `executemany` on SQLite
(~275k rows/s in WAL) and `COPY ... FROM STDIN` on PostgreSQL (one stream, no per-row round trip).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection


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
