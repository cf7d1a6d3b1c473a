"""The pending overlay: a ticket's last server state kept apart while local changes are unsettled.

Why: a pulled server change for a ticket with queued mutations must not make the user's change
vanish from view before it settles, and a rejected or lost (conflict) change must fall back to
exactly the server's state. So while a ticket has unsettled local changes we keep the server's
row in `ticket_base`, write pulled states there, and rebuild the visible `tickets` row as
base + the outstanding mutations re-applied in outbox order. With nothing outstanding the base
is dropped and pulled states go straight to `tickets`, so a large first sync pays one indexed
lookup per ticket and nothing more.

Outstanding = queued, or applied by the server but not yet seen in the change feed (an
`applied` outbox row whose `result_version` is newer than the base): without the second kind,
pulling an older page after the push answer would briefly undo the user's change on screen.
"""

from __future__ import annotations

import json
import sqlite3
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any

from agentcli.domain.mutations import Mutation, MutationType
from agentcli.domain.sla import running_due
from agentcli.domain.wire import SCHEMAS
from agentcli.store.effects import local_effect

# Columns that are not server state: the pending count and the newest message we hold.
_LOCAL_ONLY = ("pending", "last_message_id")


# The `tickets` columns a pulled state sets: the wire fields, then the running SLA due time.
TICKET_COLUMNS = (*SCHEMAS["ticket"], "sla_due")
_WIRE_VALUES = itemgetter(*SCHEMAS["ticket"])
_ASSIGNEE, _TAGS = TICKET_COLUMNS.index("assignee"), TICKET_COLUMNS.index("tags")


def ticket_values(data: dict[str, Any]) -> list[Any]:
    """A checked wire ticket (agentcli.domain.wire) -> its `tickets` values, TICKET_COLUMNS order.

    Cheap on purpose: a first sync makes ~100k of them."""
    values = list(_WIRE_VALUES(data))
    values[_ASSIGNEE] = values[_ASSIGNEE] or ""
    values[_TAGS] = tags_json(values[_TAGS])
    values.append(
        running_due(
            data["status"], data["first_reply_due"], data["next_reply_due"], data["resolution_due"]
        )
    )
    return values


def ticket_row(data: dict[str, Any]) -> dict[str, Any]:
    """A checked wire ticket -> the local `tickets` row (no local-only columns)."""
    return dict(zip(TICKET_COLUMNS, ticket_values(data), strict=True))


def tags_json(tags: list[str]) -> str:
    """json.dumps(tags, ensure_ascii=False), a tenth of its cost (no encoder built per call)."""
    return "[" + ", ".join(map(encode_basestring, tags)) + "]"


def snapshot_base(conn: sqlite3.Connection, ticket: dict[str, Any]) -> None:
    """Keep the ticket's current (server) state unless a base is already held."""
    data = {name: value for name, value in ticket.items() if name not in _LOCAL_ONLY}
    conn.execute(
        "INSERT OR IGNORE INTO ticket_base(ticket_id, data) VALUES (?, ?)",
        (ticket["id"], json.dumps(data, ensure_ascii=False)),
    )


def read_base(conn: sqlite3.Connection, ticket_id: int) -> dict[str, Any] | None:
    found = conn.execute("SELECT data FROM ticket_base WHERE ticket_id = ?", (ticket_id,))
    row = found.fetchone()
    return None if row is None else json.loads(row[0])


def store_server_state(conn: sqlite3.Connection, row: dict[str, Any]) -> bool:
    """Record a server state for a ticket with a base and rebuild it; False if it has none.

    A state older than the base (a conflict answer already brought a newer one) is ignored.
    """
    base = read_base(conn, row["id"])
    if base is None:
        return False
    if row["version"] >= base["version"]:
        base.update(row)
        conn.execute(
            "UPDATE ticket_base SET data = ? WHERE ticket_id = ?",
            (json.dumps(base, ensure_ascii=False), row["id"]),
        )
    rebuild(conn, row["id"])
    return True


def outstanding(conn: sqlite3.Connection, ticket_id: int, version: int) -> list[dict[str, Any]]:
    cursor = conn.execute(
        "SELECT * FROM outbox WHERE ticket_id = ? AND (state = 'queued'"
        " OR (state = 'applied' AND coalesce(result_version, 0) > ?)) ORDER BY seq",
        (ticket_id, version),
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def rebuild(conn: sqlite3.Connection, ticket_id: int) -> None:
    """Visible row = base + outstanding mutations; drop the base when nothing is outstanding."""
    queued_count = "(SELECT count(*) FROM outbox WHERE ticket_id = ? AND state = 'queued')"
    base = read_base(conn, ticket_id)
    if base is None:
        conn.execute(
            f"UPDATE tickets SET pending = {queued_count} WHERE id = ?", (ticket_id, ticket_id)
        )
        return
    version = base["version"]
    # Field changes the server state already contains need no overlay (and no row) any more;
    # sent replies wait for their message to arrive instead (see changes._apply_message).
    conn.execute(
        "DELETE FROM outbox WHERE ticket_id = ? AND state = 'applied' AND message_id IS NULL"
        " AND coalesce(result_version, 0) <= ?",
        (ticket_id, version),
    )
    rows = outstanding(conn, ticket_id, version)
    ticket = dict(base)
    conn.execute("DELETE FROM ticket_tags WHERE ticket_id = ?", (ticket_id,))
    conn.executemany(
        "INSERT OR IGNORE INTO ticket_tags(tag, ticket_id) VALUES (?, ?)",
        [(tag, ticket_id) for tag in json.loads(ticket["tags"])],
    )
    for row in rows:
        mutation = Mutation(
            MutationType(row["type"]),
            ticket_id,
            row["base_version"],
            json.loads(row["payload"]),
            row["client_id"],
        )
        try:
            changes = local_effect(
                conn,
                ticket,
                mutation,
                author="",
                seq=row["seq"],
                now=row["created_at"],
                replay=True,
            )
        except (KeyError, TypeError, ValueError):
            continue  # no longer applies over the server's state: the server's answer decides
        changes["updated_at"] = max(ticket["updated_at"], row["created_at"])
        ticket.update(changes)
    names = [name for name in ticket if name != "id"]
    assignments = ", ".join(f"{name} = ?" for name in names)
    conn.execute(
        f"UPDATE tickets SET {assignments}, pending = {queued_count} WHERE id = ?",
        [*(ticket[name] for name in names), ticket_id, ticket_id],
    )
    if not rows:
        conn.execute("DELETE FROM ticket_base WHERE ticket_id = ?", (ticket_id,))
