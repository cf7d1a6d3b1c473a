"""The search index's FTS5 merge settings, read and set through FTS5's own command.

A big load (the seeder, migration 9's re-index) writes with merging switched off and merges
once at the end (`optimize`): FTS5's default incremental merges rewrite every segment about
log4(segments) times during a million-ticket load, one final merge writes it once and leaves a
single segment, the fastest shape to search.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

# While loading: no merging (crisismerge is capped below FTS5's 2000 segments).
LOAD = {"automerge": 0, "crisismerge": 1999}
# FTS5's own defaults, for keys a store never set.
DEFAULTS = {"automerge": 4, "crisismerge": 16}


def merge_settings(conn: sqlite3.Connection) -> dict[str, int]:
    """The search index's current merge settings (FTS5's defaults where never set)."""
    stored = dict(
        conn.execute(
            "SELECT k, v FROM search_index_config WHERE k IN ('automerge', 'crisismerge')"
        ).fetchall()
    )
    return {key: int(stored.get(key, default)) for key, default in DEFAULTS.items()}


def set_options(conn: sqlite3.Connection, options: Mapping[str, object]) -> None:
    # FTS5's command, never a write to search_index_config: it invalidates FTS5's cached
    # configuration in every connection.
    for key, value in options.items():
        conn.execute("INSERT INTO search_index(search_index, rank) VALUES (?, ?)", (key, value))


def optimize(conn: sqlite3.Connection) -> None:
    """Merge every segment of the search index into one."""
    conn.execute("INSERT INTO search_index(search_index) VALUES ('optimize')")
