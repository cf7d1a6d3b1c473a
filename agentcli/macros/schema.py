"""The Liquid context a macro may use, as a tree, so lint can check every variable path.

A dict is an object with those keys; a one-element list is a list of that element; None is
a scalar; ANY accepts every key below it (user `vars`).
"""

from __future__ import annotations

from typing import Any

ANY = "any"
_MONEY = {"amount": None, "currency": None}
CONTEXT_SCHEMA: dict[str, Any] = {
    "ticket": {
        "id": None,
        "subject": None,
        "status": None,
        "priority": None,
        "channel": None,
        "queue": None,
        "language": None,
        "tags": [None],
    },
    "customer": {"name": None, "tier": None, "locale": None, "email": None},
    "order": {
        "number": None,
        "items": [{"title": None, "quantity": None, "sku": None, "unit_price": _MONEY}],
        "total": _MONEY,
        "carrier": None,
        "tracking_number": None,
        "placed_at": None,
        "shipped_at": None,
        "delivered_at": None,
    },
    "case": {"type": None, "state": None},
    "agent": {"name": None, "login": None},
    "shop": {
        "name": None,
        "support_hours": None,
        "return_address": None,
        "return_window_days": None,
        "refund_days": None,
        "timezone": None,
    },
    "vars": ANY,
}
# Properties Liquid gives every list (and `size` every string).
_LIST_PROPERTIES = frozenset({"size", "first", "last"})


def check_path(segments: list[Any], schema: dict[str, Any] = CONTEXT_SCHEMA) -> str | None:
    """None when `segments` (e.g. ["order", "items", 0, "title"]) exist; else the problem."""
    node: Any = schema
    walked: list[str] = []
    for segment in segments:
        if node == ANY:
            return None
        if isinstance(segment, list):  # a computed index, order.items[i]: can't check further
            return None
        label = ".".join(walked) or "the context"
        if isinstance(node, list):
            if isinstance(segment, int):
                node = node[0]
            elif segment in _LIST_PROPERTIES:
                node = node[0] if segment != "size" else None
            else:
                return f"{label} is a list; it has no {segment!r}"
        elif isinstance(node, dict):
            if segment not in node:
                known = ", ".join(sorted(node)) if node is not schema else ", ".join(schema)
                return f"unknown variable {_join([*walked, str(segment)])} ({label} has: {known})"
            node = node[segment]
        else:  # a scalar: only `size` makes sense
            if segment == "size":
                node = None
                continue
            return f"{_join(walked)} is a plain value; it has no {segment!r}"
        walked.append(str(segment))
    return None


def _join(parts: list[str]) -> str:
    return ".".join(parts)
