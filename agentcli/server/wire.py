"""Server rows -> the JSON the change feed and API carry (the shape agentcli.domain.wire checks).

Times go out as ISO 8601 UTC; lists and maps stored as JSON text go out as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agentcli.domain.clock import from_epoch

_TIME_FIELDS = {
    "created_at",
    "updated_at",
    "first_reply_due",
    "next_reply_due",
    "resolution_due",
    "snoozed_until",
    "placed_at",
    "shipped_at",
    "delivered_at",
    "at",  # ticket_events
}
_JSON_FIELDS = {"tags", "handles", "items", "languages", "queues"}

TICKET_FIELDS = [
    "id",
    "subject",
    "status",
    "priority",
    "channel",
    "queue",
    "assignee",
    "requester_id",
    "language",
    "tags",
    "order_id",
    "case_type",
    "case_state",
    "created_at",
    "updated_at",
    "first_reply_due",
    "next_reply_due",
    "resolution_due",
    "snoozed_until",
    "version",
]
MESSAGE_FIELDS = [
    "id",
    "ticket_id",
    "kind",
    "author_kind",
    "author",
    "channel",
    "body",
    "created_at",
]
CUSTOMER_FIELDS = ["id", "name", "locale", "tier", "email", "phone", "handles"]
ORDER_FIELDS = [
    "id",
    "number",
    "customer_id",
    "items",
    "total",
    "currency",
    "placed_at",
    "carrier",
    "tracking_number",
    "shipped_at",
    "delivered_at",
]
TIME_FIELDS = _TIME_FIELDS  # public names for SQL-side payload building (server.bulk)
JSON_FIELDS = _JSON_FIELDS

AGENT_FIELDS = ["login", "name", "role", "languages", "capacity", "queues", "active"]
EVENT_FIELDS = ["id", "ticket_id", "at", "actor", "client", "field", "old", "new"]

FIELDS_BY_KIND = {
    "ticket": TICKET_FIELDS,
    "message": MESSAGE_FIELDS,
    "customer": CUSTOMER_FIELDS,
    "order": ORDER_FIELDS,
    "agent": AGENT_FIELDS,
    "event": EVENT_FIELDS,
}


def iso(seconds: int | None) -> str | None:
    moment = from_epoch(seconds)
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def to_wire(kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in FIELDS_BY_KIND[kind]:
        value = row[name]
        if name in _TIME_FIELDS:
            value = iso(value)
        elif name in _JSON_FIELDS:
            value = json.loads(value) if isinstance(value, str) else value
        elif name == "active":
            value = bool(value)
        out[name] = value
    return out
