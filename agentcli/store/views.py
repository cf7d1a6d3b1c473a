"""Sidebar views: the built-in ones (as query strings), saved views, and their counts.

A view is only a name and a query in the inbox language, so the sidebar, the filter bar and
`agentcli tickets QUERY` all mean the same thing by it. Counts must stay cheap at 1M tickets:
status/assignee/queue views are summed from the trigger-maintained view_counts table, SLA and
snooze views are index range counts (see inbox.count_query).
"""

from __future__ import annotations

from dataclasses import dataclass

from agentcli.domain.clock import now_epoch
from agentcli.domain.query import parse_query, quote_value
from agentcli.store.inbox import Db, connection, count_query

UNRESOLVED = "status:new,open,pending,on-hold"


@dataclass(frozen=True, slots=True)
class View:
    name: str
    query: str
    builtin: bool = True


BUILTIN_VIEWS: tuple[View, ...] = (
    View("My open", "assignee:me status:new,open sort:sla"),
    View("Unassigned", f"assignee:none {UNRESOLVED} sort:sla"),
    # Queue views go here, one per queue present (see builtin_views).
    View("SLA at risk", "sla:<1h sort:sla"),  # due within the hour, not yet breached
    View("Breached", "sla:breached sort:sla"),
    View("Pending", "status:pending"),
    View("Snoozed", "is:snoozed"),
    View("Unsynced", "is:pending"),  # local changes the server has not settled yet
    View("Solved", "status:solved"),
    View("All", ""),
)
_QUEUES_AFTER = 2  # queue views sit after My open and Unassigned


def queue_view(queue: str) -> View:
    return View(f"Queue: {queue}", f"queue:{quote_value(queue)} {UNRESOLVED} sort:sla")


def queues_present(db: Db) -> list[str]:
    """Queues with at least one ticket, from view_counts (never a tickets scan)."""
    sql = "SELECT queue FROM view_counts GROUP BY queue HAVING sum(n) > 0 ORDER BY queue"
    return [row[0] for row in connection(db).execute(sql)]


def builtin_views(db: Db) -> list[View]:
    queues = [queue_view(q) for q in queues_present(db)]
    return [*BUILTIN_VIEWS[:_QUEUES_AFTER], *queues, *BUILTIN_VIEWS[_QUEUES_AFTER:]]


# ---------------------------------------------------------------- saved views


class ViewError(ValueError):
    """A saved view that cannot be stored (empty name; the query's own errors propagate)."""


def save_view(db: Db, name: str, query: str) -> None:
    """Store (or replace) a saved view; raises QuerySyntaxError for a query that won't parse."""
    name = name.strip()
    if not name:
        raise ViewError("a saved view needs a name")
    parse_query(query)
    # No transaction of our own: autocommit alone, or part of the caller's transaction.
    connection(db).execute(
        "INSERT INTO saved_views(name, query) VALUES (?, ?)"
        " ON CONFLICT(name) DO UPDATE SET query = excluded.query",
        (name, query),
    )


def list_views(db: Db) -> list[View]:
    rows = connection(db).execute("SELECT name, query FROM saved_views ORDER BY name")
    return [View(name, query, builtin=False) for name, query in rows]


def delete_view(db: Db, name: str) -> bool:
    """Delete a saved view; False when there was none by that name."""
    cursor = connection(db).execute("DELETE FROM saved_views WHERE name = ?", (name,))
    return cursor.rowcount > 0


# ---------------------------------------------------------------- counts


def sidebar_counts(
    db: Db, *, me: str | None, now: int | None = None, include_saved: bool = False
) -> list[tuple[str, str, int]]:
    """(view name, query, count) for every built-in view, then saved ones if asked.

    Saved views are off by default: an arbitrary query (full text, say) can cost far more
    than the whole built-in sidebar, so callers count those lazily.
    """
    now = now_epoch() if now is None else now
    views = builtin_views(db) + (list_views(db) if include_saved else [])
    return [(v.name, v.query, count_query(db, parse_query(v.query), me=me, now=now)) for v in views]
