"""Hand-built tickets for the metrics tests: a store row per ticket, its public posts and
status/CSAT events, at Shanghai wall-clock times, with a calendar and policy to match."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from agentcli.domain.business_hours import Calendar, parse_weekly
from agentcli.domain.clock import SLA_NEVER
from agentcli.domain.sla_policy import Policy, SlaConfig, Targets

SHANGHAI = ZoneInfo("Asia/Shanghai")
H = 3600
OFFICE = Calendar(
    SHANGHAI,
    parse_weekly({d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}),
    frozenset({date(2025, 6, 13)}),
)
CONFIG = SlaConfig(OFFICE, (Policy("all", None, None, Targets(4 * H, 2 * H, 8 * H)),))
# The same calendar and targets as a policy file, for `agentcli report --sla-policy`.
POLICY_TOML = """
[calendar]
timezone = "Asia/Shanghai"
holidays = ["2025-06-13"]
[calendar.hours]
mon = ["09:00-18:00"]
tue = ["09:00-18:00"]
wed = ["09:00-18:00"]
thu = ["09:00-18:00"]
fri = ["09:00-18:00"]
[[policy]]
name = "all"
first_reply = "4h"
next_reply = "2h"
resolution = "8h"
"""
ids = itertools.count(1)  # ticket, message and event ids, increasing like server ids


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp())


START, NOW = at("2025-06-02 00:00"), at("2025-06-09 18:00")  # Monday to the next one's end
SUNDAY_NIGHT = at("2025-06-08 23:00")


def add_ticket(
    db: sqlite_utils.Database,
    *,
    created: str,
    status: str,
    posts: list[tuple[str, str]],
    changes: Sequence[tuple[str, str, str]] = (),
    assignee: str = "mei",
    queue: str = "returns",
    csat: str | None = None,
) -> int:
    """A ticket with public posts [(time, 'customer'|'agent')] and status changes."""
    conn = db.conn
    ticket_id = next(ids)
    updated = max([at(created), *(at(t) for t, _ in posts), *(at(t) for t, _, _ in changes)])
    conn.execute(
        "INSERT INTO tickets(id, subject, status, priority, channel, queue, assignee,"
        " requester_id, language, case_type, created_at, updated_at, sla_due)"
        " VALUES (?, 'Broken kettle', ?, 1, 'chat', ?, ?, 1, 'zh-CN', 'exchange', ?, ?, ?)",
        (ticket_id, status, queue, assignee, at(created), updated, SLA_NEVER),
    )
    for moment, author in posts:
        conn.execute(
            "INSERT INTO messages(id, ticket_id, kind, author_kind, author, channel, body,"
            " created_at) VALUES (?, ?, 'public', ?, ?, 'chat', 'text', ?)",
            (next(ids), ticket_id, author, author, at(moment)),
        )
    for moment, old, new in changes:
        add_event(db, ticket_id, moment, "status", old, new)
    if csat:
        add_event(db, ticket_id, updated, "csat", None, csat)
    return ticket_id


def add_event(
    db: sqlite_utils.Database,
    ticket_id: int,
    moment: str | int,
    field: str,
    old: str | None,
    new: str | None,
) -> None:
    when = at(moment) if isinstance(moment, str) else moment
    db.conn.execute(
        "INSERT INTO ticket_events(id, ticket_id, at, actor, client, field, old, new)"
        " VALUES (?, ?, ?, 'mei', 'test', ?, ?, ?)",
        (next(ids), ticket_id, when, field, old, new),
    )
