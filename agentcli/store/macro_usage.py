"""Which macros agents used on tickets like this one: the `macro` events of the audit trail.

The server records one `ticket_events` row with field 'macro' per macro a reply or note was
written with, and the change feed brings them here. "Similar" is the same case type (or no
case on both) and the same customer language. The case *state* is left out on purpose: a
ticket's current state is the one after the macros used on it (a solved refund is
"refunded", whatever was used while it was "requested"), so matching current states would
count only macros that did not move a case; whether a macro's case step fits this ticket now
is `suggest`'s own check.

Cost is bounded whatever the store holds: the newest `limit` macro events of the last
`days` are read from the (field, at) index, then each is joined to its ticket by primary key.
"""

from __future__ import annotations

import sqlite_utils

from agentcli.domain.clock import now_epoch

WINDOW_DAYS = 90
# Each event costs a row read and a ticket lookup: 1,000 take ~1.5-7 ms on a 1M-ticket store
# (idle vs busy 2-core machine), 2,000 twice that. Suggest gives at most +3 (4 uses), so the
# newest 1,000 uses still separate the common macros of a case type from the rare ones.
EVENT_LIMIT = 1_000
DAY = 86_400

# Parameters: since, limit, ticket id, case type, language. The subquery's ORDER BY + LIMIT
# walks the (field, at) index backwards from the newest event and stops; `IS ?` lets a
# ticket without a case match others without one.
USAGE_SQL = (
    "SELECT e.new, count(DISTINCT e.ticket_id) FROM ("
    "   SELECT ticket_id, new FROM ticket_events"
    "   WHERE field = 'macro' AND at >= ? ORDER BY at DESC LIMIT ?"
    ") AS e JOIN tickets AS t ON t.id = e.ticket_id"
    " WHERE t.id != ? AND t.case_type IS ? AND t.language = ? AND e.new IS NOT NULL"
    " GROUP BY e.new"
)


def similar_macro_usage(
    db: sqlite_utils.Database,
    ticket_id: int,
    *,
    now: int | None = None,
    days: int = WINDOW_DAYS,
    limit: int = EVENT_LIMIT,
) -> dict[str, int]:
    """{macro id: number of similar tickets it was used on}, the ticket itself left out."""
    found = db.conn.execute(
        "SELECT case_type, language FROM tickets WHERE id = ?", (ticket_id,)
    ).fetchone()
    if found is None:
        return {}
    case_type, language = found
    since = (now_epoch() if now is None else now) - days * DAY
    rows = db.conn.execute(USAGE_SQL, (since, limit, ticket_id, case_type, language)).fetchall()
    return {str(macro_id): int(count) for macro_id, count in rows}
