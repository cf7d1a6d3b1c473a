"""The Liquid context for one ticket, built from plain dicts (rows of the local store).

Values that are NULL/None are left out, so a template that outputs them reports a missing
variable instead of sending blank text ("tracking number: ."), while `{% if %}` on them is
simply false.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from agentcli.domain.vocabulary import Priority

DEFAULT_SHOP: dict[str, Any] = {
    "name": "Demo Shop",
    "support_hours": "09:00–21:00",
    "return_address": "",
    "return_window_days": 7,
    "refund_days": 3,
}


def _json(value: Any, default: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return default if value is None else value


def _time(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return value


def _clean(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None and v != ""}


def build_context(
    ticket: Mapping[str, Any],
    customer: Mapping[str, Any] | None = None,
    order: Mapping[str, Any] | None = None,
    agent: Mapping[str, Any] | None = None,
    shop: Mapping[str, Any] | None = None,
    vars: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    priority = ticket.get("priority")
    if isinstance(priority, int) and not isinstance(priority, bool):
        priority = str(Priority.from_rank(priority))
    context: dict[str, Any] = {
        "ticket": _clean(
            {
                "id": ticket.get("id"),
                "subject": ticket.get("subject"),
                "status": ticket.get("status"),
                "priority": priority,
                "channel": ticket.get("channel"),
                "queue": ticket.get("queue"),
                "language": ticket.get("language"),
                "tags": _json(ticket.get("tags"), []),
                "assignee": ticket.get("assignee") or None,
                "snoozed_until": ticket.get("snoozed_until"),
            }
        ),
        "customer": _clean(
            {k: (customer or {}).get(k) for k in ("name", "tier", "locale", "email")}
        ),
        "order": _order(order) if order else {},
        "case": _clean({"type": ticket.get("case_type"), "state": ticket.get("case_state")}),
        "agent": _clean({k: (agent or {}).get(k) for k in ("name", "login")}),
        "shop": _clean({**DEFAULT_SHOP, **(shop or {})}),
        "vars": dict(vars or {}),
    }
    return context


def _order(order: Mapping[str, Any]) -> dict[str, Any]:
    currency = order.get("currency")
    items = []
    for item in _json(order.get("items"), []):
        price = item.get("unit_price")
        if not isinstance(price, Mapping):
            price = {"amount": Decimal(str(price)), "currency": currency} if price else None
        items.append(
            _clean(
                {
                    "title": item.get("title"),
                    "quantity": item.get("quantity"),
                    "sku": item.get("sku"),
                    "unit_price": price,
                }
            )
        )
    total = order.get("total")
    return _clean(
        {
            "number": order.get("number"),
            "items": items,
            "total": {"amount": Decimal(str(total)), "currency": currency} if total else None,
            "carrier": order.get("carrier"),
            "tracking_number": order.get("tracking_number"),
            "placed_at": _time(order.get("placed_at")),
            "shipped_at": _time(order.get("shipped_at")),
            "delivered_at": _time(order.get("delivered_at")),
        }
    )
