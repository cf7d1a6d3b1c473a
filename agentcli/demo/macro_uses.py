"""Demo audit events: the macros agents sent along solved tickets, so `macro suggest` has uses
on similar tickets to learn from in a demo helpdesk.

Derived from each generated ticket row alone, with no draw from the generator's random
stream, so the generated content (and every test pinned to it) stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentcli.demo.generator import TICKET_COLUMNS, Row

EVENT_COLUMNS = ("ticket_id", "at", "actor", "client", "field", "old", "new")
CLIENT = "demo"
# One solved ticket in EVERY has its macros recorded: enough to rank by, small to seed.
EVERY = 3
HOUR = 3_600

# The shipped macros an agent typically sends along a case of each type, in order.
CASE_MACROS: dict[str | None, tuple[str, ...]] = {
    "return-and-refund": (
        "return-request-received",
        "seven-day-return-eligible",
        "return-received-refunded",
    ),
    "refund-only": ("refund-approved", "refund-timing"),
    "exchange": ("exchange-approved", "exchange-dispatched"),
    "reship": ("missing-item-reship", "reship-dispatched"),
    "repair": ("warranty-repair-approved", "warranty-repair-completed"),
    "price-protection": ("price-protection-approved",),
    "complaint": ("complaint-acknowledged", "follow-up-after-resolution"),
    None: ("order-status",),  # no case: most are "where is my order"
}

_ID, _STATUS, _ASSIGNEE, _CASE_TYPE, _UPDATED = (
    TICKET_COLUMNS.index(name) for name in ("id", "status", "assignee", "case_type", "updated_at")
)


def macro_event_rows(tickets: Iterable[Row]) -> list[Row]:
    """`ticket_events` rows (EVENT_COLUMNS order) for generated `tickets` rows: each macro
    of the ticket's case type, by its assignee, an hour apart before the last update."""
    rows: list[Row] = []
    for ticket in tickets:
        ticket_id, assignee = ticket[_ID], ticket[_ASSIGNEE]
        macros = CASE_MACROS.get(ticket[_CASE_TYPE], ())
        if ticket[_STATUS] not in ("solved", "closed") or not assignee or ticket_id % EVERY:
            continue
        for step, macro_id in enumerate(macros):
            at = ticket[_UPDATED] - (len(macros) - step) * HOUR
            rows.append((ticket_id, at, assignee, CLIENT, "macro", None, macro_id))
    return rows
