"""Support metrics on hand-built timelines with known answers: weekends, holidays, pauses."""

from __future__ import annotations

import random
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from agentcli.domain.business_hours import (
    ALWAYS_OPEN,
    Calendar,
    business_seconds_between,
    parse_weekly,
)
from agentcli.domain.metrics import (
    BusinessClock,
    StatusChange,
    TicketMetrics,
    Timeline,
    parse_period,
    percentile,
    summarize,
    ticket_metrics,
)
from agentcli.domain.sla_policy import Targets

SHANGHAI = ZoneInfo("Asia/Shanghai")
H = 3600
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# Mon-Fri 09:00-18:00 in Shanghai; Friday 2025-06-13 is a (made-up) holiday.
OFFICE = Calendar(
    SHANGHAI, parse_weekly({d: ["09:00-18:00"] for d in WEEKDAYS}), frozenset({date(2025, 6, 13)})
)
TARGETS = Targets(first_reply=4 * H, next_reply=2 * H, resolution=8 * H)


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp())


def clock(calendar: Calendar = OFFICE) -> BusinessClock:
    return BusinessClock(calendar, at("2025-05-01 00:00"), at("2025-07-01 00:00"))


def metrics(timeline: Timeline, now: str = "2025-06-30 12:00", **kw: int) -> TicketMetrics:
    targets = Targets(**{**TARGETS.__dict__, **kw}) if kw else TARGETS
    return ticket_metrics(timeline, targets, clock(), at(now))


def test_first_reply_across_a_weekend_counts_business_hours_only() -> None:
    # Friday 17:00 -> Monday 10:00: 65 hours on the wall, 1h Friday + 1h Monday of business.
    created = at("2025-06-06 17:00")
    timeline = Timeline(
        created, "open", created, [(created, False), (at("2025-06-09 10:00"), True)]
    )
    result = metrics(timeline)
    assert result.first_reply == 2 * H
    assert ("first_reply", True) in result.sla
    # With a 1h target the same reply is late.
    assert ("first_reply", False) in metrics(timeline, first_reply=H).sla


def test_holiday_is_skipped() -> None:
    # Thursday 17:00, Friday a holiday, reply Monday 11:00: 1h + 2h.
    created = at("2025-06-12 17:00")
    timeline = Timeline(
        created, "open", created, [(created, False), (at("2025-06-16 11:00"), True)]
    )
    assert metrics(timeline).first_reply == 3 * H


def test_pending_pauses_the_resolution_target_but_not_full_resolution_time() -> None:
    created = at("2025-06-02 09:00")  # Monday
    timeline = Timeline(
        created,
        "solved",
        at("2025-06-03 12:00"),
        posts=[
            (created, False),
            (at("2025-06-02 10:00"), True),  # first reply after 1h
            (at("2025-06-03 09:00"), False),  # the customer answers next morning
            (at("2025-06-03 11:00"), True),  # next reply after 2h
        ],
        changes=[
            StatusChange(at("2025-06-02 09:30"), "new", "open"),
            StatusChange(at("2025-06-02 10:00"), "open", "pending"),  # waiting on the customer
            StatusChange(at("2025-06-03 09:00"), "pending", "open"),
            StatusChange(at("2025-06-03 12:00"), "open", "solved"),
        ],
    )
    result = metrics(timeline, resolution=5 * H)
    assert result.first_reply == H
    assert result.next_replies == (2 * H,)
    # Full resolution: Monday 09-18 (9h) + Tuesday 09-12 (3h), paused or not.
    assert result.resolution == 12 * H
    # The SLA clock ran Monday 09-10 and Tuesday 09-12 only: 4h <= 5h.
    assert ("resolution", True) in result.sla
    assert ("next_reply", True) in result.sla
    assert result.solved and not result.one_touch  # two public agent replies
    assert result.reopens == 0
    # Without the pause the same 12h would miss the target.
    unpaused = Timeline(
        created,
        "solved",
        timeline.updated,
        timeline.posts,
        [StatusChange(at("2025-06-03 12:00"), "open", "solved")],
    )
    assert ("resolution", False) in metrics(unpaused, resolution=5 * H).sla


def test_on_hold_over_a_weekend_pauses_the_first_reply_clock() -> None:
    created = at("2025-06-06 16:00")  # Friday
    timeline = Timeline(
        created,
        "open",
        created,
        posts=[(created, False), (at("2025-06-09 12:00"), True)],
        changes=[
            StatusChange(at("2025-06-06 17:00"), "new", "on-hold"),
            StatusChange(at("2025-06-09 11:00"), "on-hold", "open"),
        ],
    )
    result = metrics(timeline, first_reply=2 * H + 30 * 60)
    assert result.first_reply == 2 * H + 3 * H  # Friday 16-18, Monday 09-12
    assert ("first_reply", True) in result.sla  # ran only Friday 16-17 and Monday 11-12


def test_one_touch_reopen_and_latest_solve() -> None:
    created = at("2025-06-02 09:00")
    one_touch = Timeline(
        created,
        "solved",
        at("2025-06-02 11:00"),
        posts=[(created, False), (at("2025-06-02 10:00"), True)],
        changes=[StatusChange(at("2025-06-02 10:00"), "new", "solved")],
    )
    result = metrics(one_touch)
    assert result.one_touch and result.resolution == H and result.reopens == 0

    reopened = Timeline(
        created,
        "solved",
        at("2025-06-04 10:00"),
        posts=[
            (created, False),
            (at("2025-06-02 10:00"), True),
            (at("2025-06-03 09:00"), False),
            (at("2025-06-04 10:00"), True),
        ],
        changes=[
            StatusChange(at("2025-06-02 10:00"), "new", "solved"),
            StatusChange(at("2025-06-03 09:00"), "solved", "open"),
            StatusChange(at("2025-06-04 10:00"), "open", "solved"),
        ],
    )
    result = metrics(reopened)
    assert result.reopens == 1 and not result.one_touch
    assert result.resolution == 9 * H + 9 * H + H  # to the latest solve: Mon, Tue, Wed 09-10
    # The next reply took Tuesday 09-18 plus Wednesday 09-10: 10h against a 2h target.
    assert result.next_replies == (10 * H,)
    assert ("next_reply", False) in result.sla
    # The clock stopped Monday 10:00 to Tuesday 09:00 while solved: 1h + 10h = 11h > 8h.
    assert ("resolution", False) in result.sla


def test_unanswered_ticket_is_breached_only_once_overdue() -> None:
    created = at("2025-06-02 09:00")
    timeline = Timeline(created, "new", created, [(created, False)])
    early = metrics(timeline, now="2025-06-02 11:00")
    assert early.first_reply is None and early.sla == ()
    # 2h used of 4h: overdue one second after 13:00 the same day.
    assert early.recheck_at == at("2025-06-02 13:00") + 1
    late = metrics(timeline, now="2025-06-02 13:30")
    assert ("first_reply", False) in late.sla
    assert ("resolution", False) not in late.sla  # 4.5h of 8h: still running
    paused = Timeline(
        created, "pending", created, [(created, False)], [StatusChange(created, "new", "pending")]
    )
    assert metrics(paused, now="2025-06-20 13:30").sla == ()  # pending: the clock never ran
    assert metrics(paused, now="2025-06-20 13:30").recheck_at is None


def test_solved_ticket_without_an_audit_trail_uses_its_last_activity() -> None:
    created = at("2025-06-02 09:00")
    timeline = Timeline(
        created,
        "closed",
        at("2025-06-02 15:00"),
        [(created, False), (at("2025-06-02 10:00"), True)],
    )
    result = metrics(timeline)
    assert result.resolution == 6 * H and result.solved and result.one_touch


def test_aggregates() -> None:
    created = at("2025-06-02 09:00")

    def ticket(reply_hours: int, status: str = "solved", csat: str | None = None) -> TicketMetrics:
        reply = created + reply_hours * H
        return metrics(
            Timeline(
                created,
                status,
                reply,
                [(created, False), (reply, True)],
                [StatusChange(reply, "new", status)] if status != "open" else (),
                csat,
            )
        )

    summary = summarize(
        [
            ticket(1, csat="good"),
            ticket(2, csat="good"),
            ticket(3, csat="bad"),
            ticket(5),
            ticket(6, "open"),
        ]
    )
    assert summary.tickets == 5
    assert summary.first_reply.median == 3 * H and summary.first_reply.count == 5
    assert summary.first_reply.p90 == 6 * H
    assert summary.attainment["first_reply"] == 3 / 5  # 1h, 2h, 3h within 4h
    assert summary.solved == 4 and summary.one_touch_rate == 1.0
    assert summary.csat == 2 / 3 and summary.csat_responses == 3
    assert summary.backlog == 1
    assert summary.resolution.median == 2.5 * H  # 1, 2, 3, 5: the two middle values averaged


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 11))
    assert percentile(values, 0.9) == 9
    assert percentile(values, 0.5) == 5
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.9) is None


def test_business_clock_agrees_with_business_hours() -> None:
    night = Calendar(SHANGHAI, parse_weekly({"fri": ["22:00-02:00"], "sat": ["01:00-03:00"]}))
    rng = random.Random(7)
    lo, hi = at("2025-05-01 00:00"), at("2025-07-01 00:00")
    for calendar in (OFFICE, night, ALWAYS_OPEN):
        fast = clock(calendar)
        for _ in range(300):
            a = rng.randrange(lo - 5 * 86400, hi + 5 * 86400)  # some fall outside the window
            b = a + rng.randrange(0, 20 * 86400)
            assert fast.between(a, b) == business_seconds_between(calendar, a, b)


@pytest.mark.parametrize(
    ("text", "seconds"), [("7d", 7 * 86400), ("24h", 86400), ("2W", 14 * 86400)]
)
def test_parse_period(text: str, seconds: int) -> None:
    assert parse_period(text) == seconds


@pytest.mark.parametrize("text", ["", "7", "0d", "7x", "-1d", "1.5d"])
def test_bad_period(text: str) -> None:
    with pytest.raises(ValueError, match="bad period"):
        parse_period(text)


def test_a_ticket_opened_by_an_agent_counts_from_the_next_agent_post() -> None:
    created = at("2025-06-02 09:00")
    timeline = Timeline(
        created,
        "open",
        created,
        [(created, True), (at("2025-06-02 11:00"), False), (at("2025-06-02 12:00"), True)],
    )
    result = metrics(timeline)
    assert result.first_reply == 3 * H  # the outbound opener is not a reply
    assert result.next_replies == ()
