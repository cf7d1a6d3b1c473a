"""Demo audit events: the status changes and satisfaction ratings behind generated tickets, so
a demo helpdesk's metrics have resolution times, reopens and CSAT to show.

Derived from each generated ticket row alone, with no draw from the generator's random
stream, so the generated content (and every test pinned to it) stays as it was:
- a ticket that is not open was moved to its status by its assignee at its last update;
- one resolved ticket in REOPENED_EVERY was solved, reopened by the customer, then solved
  again (a third and half way through its life);
- RATED_PER_TEN in ten resolved tickets were rated by the customer when solved; one rating
  in BAD_EVERY is bad, some with a comment in the customer's language.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentcli.demo.generator import TICKET_COLUMNS, Row
from agentcli.demo.macro_uses import CLIENT

RESOLVED = ("solved", "closed")
REOPENED_EVERY = 33
RATED_PER_TEN = 3
BAD_EVERY = 7
# What unhappy customers wrote beside a bad rating, by ticket language.
BAD_COMMENTS = {
    "zh-CN": "退款太慢了，等了一个多星期",
    "zh-TW": "換貨流程太麻煩，客服回覆很慢",
    "uk": "Повернення коштів зайняло забагато часу",
    "en": "Took far too long to get my refund",
}

_ID, _STATUS, _ASSIGNEE, _LANGUAGE, _CREATED, _UPDATED = (
    TICKET_COLUMNS.index(name)
    for name in ("id", "status", "assignee", "language", "created_at", "updated_at")
)


def ticket_history_rows(tickets: Iterable[Row]) -> list[Row]:
    """`ticket_events` rows (macro_uses.EVENT_COLUMNS order) for generated `tickets` rows."""
    rows: list[Row] = []
    for ticket in tickets:
        ticket_id, status = ticket[_ID], ticket[_STATUS]
        if status in ("new", "open"):
            continue
        created, updated = ticket[_CREATED], ticket[_UPDATED]
        actor = ticket[_ASSIGNEE] or "system"
        if status in RESOLVED and ticket_id % REOPENED_EVERY == 0:
            span = max(updated - created, 3)
            rows.append((ticket_id, created + span // 3, actor, CLIENT, "status", "open", "solved"))
            rows.append(
                (ticket_id, created + span // 2, "customer", CLIENT, "status", "solved", "open")
            )
        rows.append((ticket_id, updated, actor, CLIENT, "status", "open", status))
        if status in RESOLVED and ticket_id % 10 < RATED_PER_TEN:
            bad = ticket_id % BAD_EVERY == 0
            rows.append(
                (ticket_id, updated, "customer", CLIENT, "csat", None, "bad" if bad else "good")
            )
            if bad and ticket_id % 2 == 0:
                comment = BAD_COMMENTS.get(ticket[_LANGUAGE], BAD_COMMENTS["en"])
                rows.append((ticket_id, updated, "customer", CLIENT, "csat_comment", None, comment))
    return rows
