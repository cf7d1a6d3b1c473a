"""Reports over a real store file: known timelines in, known figures out, cache kept honest."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlite_utils

from agentcli.domain.sla_policy import Policy, SlaConfig, Targets
from agentcli.store.db import open_store
from agentcli.store.metrics import backlog_by_day, first_reply_by_day, report
from tests.metrics_timelines import (
    CONFIG,
    NOW,
    OFFICE,
    SHANGHAI,
    START,
    SUNDAY_NIGHT,
    H,
    add_event,
    add_ticket,
    at,
    ids,
)


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    store = open_store(tmp_path / "store.db")
    store.conn.execute("INSERT INTO customers(id, name, locale) VALUES (1, 'Li Wei', 'zh-CN')")
    return store


def week(db, by: str = "agent", now: int = NOW):
    return report(db, CONFIG, by=by, start=START, end=now + 1, now=now)


def test_report_by_agent_on_known_timelines(db) -> None:
    # Friday 17:00 -> Monday 10:00 over the weekend: 2h of business time, solved with one reply.
    add_ticket(
        db,
        created="2025-06-06 17:00",
        status="solved",
        posts=[("2025-06-06 17:00", "customer"), ("2025-06-09 10:00", "agent")],
        changes=[("2025-06-09 10:00", "new", "solved")],
        csat="good",
    )
    # Pending overnight: full resolution 12h, SLA clock 4h; two replies; reopened once.
    add_ticket(
        db,
        created="2025-06-02 09:00",
        status="solved",
        posts=[
            ("2025-06-02 09:00", "customer"),
            ("2025-06-02 10:00", "agent"),
            ("2025-06-03 09:00", "customer"),
            ("2025-06-03 11:00", "agent"),
        ],
        changes=[
            ("2025-06-02 10:00", "new", "pending"),
            ("2025-06-02 11:00", "pending", "solved"),
            ("2025-06-03 09:00", "solved", "open"),
            ("2025-06-03 12:00", "open", "solved"),
        ],
        csat="bad",
    )
    # Thursday 17:00 before the Friday holiday, unanswered: 10h by Monday 18:00, breached.
    add_ticket(
        db, created="2025-06-05 17:00", status="new", posts=[("2025-06-05 17:00", "customer")]
    )
    # Another agent's; and one created before the period, which no figure includes.
    add_ticket(
        db,
        created="2025-06-04 09:00",
        status="open",
        assignee="taras",
        posts=[("2025-06-04 09:00", "customer"), ("2025-06-04 12:00", "agent")],
    )
    add_ticket(
        db,
        created="2025-05-30 09:00",
        status="open",
        posts=[("2025-05-30 09:00", "customer"), ("2025-06-04 12:00", "agent")],
    )

    result = week(db)
    assert [(row.key, row.summary.tickets) for row in result.rows] == [("mei", 3), ("taras", 1)]
    mei = result.rows[0].summary
    assert mei.first_reply.count == 2 and mei.first_reply.median == 1.5 * H  # 2h and 1h
    assert mei.next_reply.median == 2 * H
    assert mei.resolution.median == (2 * H + 12 * H) / 2  # to the latest solve, paused or not
    assert mei.attainment["first_reply"] == 2 / 3  # 2h, 1h met; the unanswered one breached
    assert mei.attainment["resolution"] == 2 / 3  # the pause kept 12h down to 4h of clock
    assert mei.solved == 2 and mei.one_touch_rate == 0.5 and mei.reopen_rate == 0.5
    assert mei.csat == 0.5 and mei.csat_responses == 2
    assert mei.backlog == 1
    assert result.total.tickets == 4 and result.total.first_reply.median == 2 * H
    assert result.recomputed == 4
    assert week(db).recomputed == 0  # nothing moved: all from the cache

    by_queue = week(db, "queue")
    assert [(row.key, row.summary.tickets) for row in by_queue.rows] == [("returns", 4)]
    assert [row.key for row in week(db, "case").rows] == ["exchange"]


def test_new_messages_events_and_time_refresh_the_cache(db) -> None:
    ticket = add_ticket(
        db, created="2025-06-02 09:00", status="new", posts=[("2025-06-02 09:00", "customer")]
    )
    early = week(db, now=at("2025-06-02 11:00"))
    assert early.total.judged["first_reply"] == 0  # 2h of 4h used: not decided yet
    # Two hours later the target is overdue: the cached row is rechecked, not trusted.
    late = week(db, now=at("2025-06-02 13:30"))
    assert late.recomputed == 1 and late.total.attainment["first_reply"] == 0.0
    # A reply and a rating arrive through the change feed (new ids): recomputed.
    db.conn.execute(
        "INSERT INTO messages(id, ticket_id, kind, author_kind, author, channel, body,"
        " created_at) VALUES (?, ?, 'public', 'agent', 'mei', 'chat', 'hi', ?)",
        (next(ids), ticket, at("2025-06-02 14:00")),
    )
    add_event(db, ticket, "2025-06-02 15:00", "csat", None, "good")
    after = week(db, now=at("2025-06-02 16:00"))
    assert after.recomputed == 1
    assert after.total.first_reply.median == 5 * H and after.total.csat == 1.0


def test_changed_policy_recomputes_everything(db) -> None:
    add_ticket(
        db,
        created="2025-06-02 09:00",
        status="open",
        posts=[("2025-06-02 09:00", "customer"), ("2025-06-02 14:00", "agent")],
    )
    assert week(db).total.attainment["first_reply"] == 0.0  # 5h > 4h
    lenient = SlaConfig(OFFICE, (Policy("all", None, None, Targets(6 * H, None, None)),))
    result = report(db, lenient, by="agent", start=START, end=NOW + 1, now=NOW)
    assert result.recomputed == 1 and result.total.attainment["first_reply"] == 1.0


def test_backlog_by_day_walks_back_from_now(db) -> None:
    # Open from Tuesday on; solved Wednesday noon and reopened Thursday; still open now.
    add_ticket(
        db,
        created="2025-06-03 10:00",
        status="open",
        posts=[("2025-06-03 10:00", "customer")],
        changes=[("2025-06-04 12:00", "new", "solved"), ("2025-06-05 10:00", "solved", "open")],
    )
    # Created Monday, solved Friday (no audit trail: its last update stands in).
    add_ticket(
        db,
        created="2025-06-02 10:00",
        status="solved",
        posts=[("2025-06-02 10:00", "customer"), ("2025-06-06 10:00", "agent")],
    )
    # Created the week before, solved Tuesday.
    add_ticket(
        db,
        created="2025-05-28 10:00",
        status="closed",
        posts=[("2025-05-28 10:00", "customer")],
        changes=[("2025-06-03 09:00", "open", "closed")],
    )
    series = backlog_by_day(db, CONFIG, START, SUNDAY_NIGHT)
    days = [datetime.fromtimestamp(mark, SHANGHAI).strftime("%a") for mark, _ in series]
    assert days == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    # At each local midnight: Mon 1 (last week's), Tue 2, Wed 2, Thu 1, Fri 2, Sat 1, Sun 1.
    assert [count for _, count in series] == [1, 2, 2, 1, 2, 1, 1]


def test_first_reply_by_day(db) -> None:
    add_ticket(
        db,
        created="2025-06-02 09:00",
        status="open",
        posts=[("2025-06-02 09:00", "customer"), ("2025-06-02 10:00", "agent")],
    )
    add_ticket(
        db,
        created="2025-06-02 12:00",
        status="open",
        posts=[("2025-06-02 12:00", "customer"), ("2025-06-02 15:00", "agent")],
    )
    series = first_reply_by_day(db, CONFIG, START, SUNDAY_NIGHT)
    assert series[0] == (START, 2 * H)  # median of 1h and 3h
    assert all(value is None for _, value in series[1:])
