"""Turning store rows into the plain JSON-ready dicts the CLI and TUI show.

Times become ISO 8601 UTC strings, priority ranks become names, '' assignee becomes None.
"""

from __future__ import annotations

import json
from typing import Any

from agentcli.domain.clock import from_epoch
from agentcli.domain.vocabulary import Priority

_TIME_FIELDS = (
    "created_at",
    "updated_at",
    "first_reply_due",
    "next_reply_due",
    "resolution_due",
    "sla_due",
    "snoozed_until",
    "placed_at",
    "shipped_at",
    "delivered_at",
)


def iso(seconds: int | None) -> str | None:
    moment = from_epoch(seconds)
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def ticket_record(row: dict[str, Any]) -> dict[str, Any]:
    record = dict(row)
    record["priority"] = str(Priority.from_rank(row["priority"]))
    record["assignee"] = row["assignee"] or None
    record["tags"] = json.loads(row["tags"])
    record["pending"] = bool(row["pending"])
    return _times(record)


def message_record(row: dict[str, Any]) -> dict[str, Any]:
    record = dict(row)
    record["pending"] = bool(row["pending"])
    return _times(record)


def customer_record(row: dict[str, Any]) -> dict[str, Any]:
    record = dict(row)
    record["handles"] = json.loads(row["handles"])
    return record


def order_record(row: dict[str, Any]) -> dict[str, Any]:
    record = dict(row)
    record["items"] = json.loads(row["items"])
    return _times(record)


def _times(record: dict[str, Any]) -> dict[str, Any]:
    for name in _TIME_FIELDS:
        if name in record:
            record[name] = iso(record[name])
    return record
