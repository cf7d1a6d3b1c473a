"""Support metrics: per-ticket figures from a ticket's timeline, and their aggregates.

Pure (no I/O), on Unix seconds. Definitions follow docs/metrics.md (Zendesk's where they
exist): first reply time, next reply times and full resolution time are business seconds in
the SLA policy's calendar; SLA targets are judged the way the server's SLA clock runs them,
so time spent pending or on-hold (and after a solve) does not count toward any target.
"""

from __future__ import annotations

import math
import re
import statistics
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

from agentcli.domain.business_hours import (
    Calendar,
    add_business_seconds,
    business_seconds_between,
)
from agentcli.domain.sla_policy import TARGETS, Targets

ACTIVE = frozenset({"new", "open"})  # the SLA clock runs
RESOLVED = frozenset({"solved", "closed"})
_PERIOD = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_PERIOD_UNITS = {"h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_period(text: str) -> int:
    """ "7d", "24h", "2w" -> seconds."""
    found = _PERIOD.match(text.lower())
    if not found or int(found.group(1)) == 0:
        raise ValueError(f"bad period {text!r}: use e.g. 24h, 7d or 4w")
    return int(found.group(1)) * _PERIOD_UNITS[found.group(2)]


class BusinessClock:
    """Business seconds between two instants in two binary searches.

    The calendar's opening intervals inside [start, end) are merged and summed once, so a
    report over 100,000s of tickets does not walk the calendar per ticket; instants outside
    that window fall back to business_hours.business_seconds_between (same answer, slower).
    """

    def __init__(self, calendar: Calendar, start: int, end: int) -> None:
        self.calendar = calendar
        self.start, self.end = start, end
        self._lo: list[int] = []
        self._hi: list[int] = []
        self._cum: list[int] = []  # opening seconds in the window before interval i
        total = 0
        for lo, hi in calendar.intervals(start):
            if lo >= end:
                break
            lo = max(lo, start)
            if self._hi and lo <= self._hi[-1]:  # overlapping night shifts: merge
                if hi > self._hi[-1]:
                    total += hi - self._hi[-1]
                    self._hi[-1] = hi
                continue
            self._lo.append(lo)
            self._hi.append(hi)
            self._cum.append(total)
            total += hi - lo

    def _cumulative(self, moment: int) -> int:
        i = bisect_right(self._lo, moment) - 1
        if i < 0:
            return 0
        return self._cum[i] + min(moment, self._hi[i]) - self._lo[i]

    def between(self, start: int, end: int) -> int:
        if end <= start:
            return 0
        if start < self.start or end > self.end:
            return business_seconds_between(self.calendar, start, end)
        return self._cumulative(end) - self._cumulative(start)


@dataclass(frozen=True, slots=True)
class StatusChange:
    at: int
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Timeline:
    """What the metrics need of one ticket.

    `posts` are its public messages as (time, by an agent?) in time order (customer posts
    are False; notes and system events never count). `changes` are its status changes in
    time order; a store with no audit trail for a solved ticket has none, and then
    `updated` (its last activity) stands in for the solve.
    """

    created: int
    status: str
    updated: int
    posts: Sequence[tuple[int, bool]]
    changes: Sequence[StatusChange] = ()
    csat: str | None = None  # the latest rating: "good" | "bad"


@dataclass(frozen=True, slots=True)
class TicketMetrics:
    first_reply: int | None  # business seconds to the first public agent reply
    next_replies: tuple[int, ...]  # business seconds, one per answered customer follow-up
    resolution: int | None  # business seconds from creation to the latest solve
    sla: tuple[tuple[str, bool], ...]  # (target, met) per decided target instance
    solved: bool
    one_touch: bool  # solved with exactly one public agent reply
    reopens: int  # solved -> unresolved again
    csat: str | None
    # When a target still running would become overdue (these figures go stale then);
    # None when nothing runs, since only a change to the ticket can move it again.
    recheck_at: int | None = None


def _windows(created: int, changes: Sequence[StatusChange]) -> list[tuple[int, int | None]]:
    """[start, end) spans during which the SLA clock ran (end None: still running)."""
    spans: list[tuple[int, int | None]] = []
    running_since: int | None = created
    for change in changes:
        if change.new in ACTIVE and running_since is None:
            running_since = change.at
        elif change.new not in ACTIVE and running_since is not None:
            spans.append((running_since, change.at))
            running_since = None
    if running_since is not None:
        spans.append((running_since, None))
    return spans


def _active(clock: BusinessClock, spans: list[tuple[int, int | None]], start: int, end: int) -> int:
    """Business seconds in [start, end) while the clock ran."""
    total = 0
    for lo, hi in spans:
        hi_ = end if hi is None else min(hi, end)
        lo_ = max(lo, start)
        if hi_ > lo_:
            total += clock.between(lo_, hi_)
    return total


def _judge(
    out: list[tuple[str, bool]],
    name: str,
    target: int | None,
    used: int,
    done: bool,
) -> int | None:
    """Record a decided target; for one still running return the time used so far, or None.

    A target not yet met and not yet overdue is not decided, so it is left out of attainment.
    """
    if target is None:
        return None
    if done:
        out.append((name, used <= target))
    elif used > target:
        out.append((name, False))
    else:
        return target - used
    return None


def ticket_metrics(
    timeline: Timeline, targets: Targets, clock: BusinessClock, now: int
) -> TicketMetrics:
    created = timeline.created
    changes = timeline.changes
    if not changes and timeline.status in RESOLVED:
        changes = (StatusChange(max(timeline.updated, created), "open", timeline.status),)
    simple = not changes  # never paused: active time is plain business time
    spans = [] if simple else _windows(created, changes)

    def active(start: int, end: int) -> int:
        return clock.between(start, end) if simple else _active(clock, spans, start, end)

    sla: list[tuple[str, bool]] = []
    first_reply: int | None = None
    next_replies: list[int] = []
    agent_posts = 0
    waiting_since: int | None = None
    posts = timeline.posts
    if posts and posts[0][1]:
        # Opened by an agent (an outbound message): its opening post is not a reply, so the
        # first reply is the next public agent post (Zendesk's exception, too).
        posts = posts[1:]
    for at, by_agent in posts:
        if by_agent:
            agent_posts += 1
            if first_reply is None:
                first_reply = clock.between(created, at)
                _judge(sla, "first_reply", targets.first_reply, active(created, at), True)
            elif waiting_since is not None:
                next_replies.append(clock.between(waiting_since, at))
                _judge(sla, "next_reply", targets.next_reply, active(waiting_since, at), True)
                waiting_since = None
        elif first_reply is not None and waiting_since is None:
            waiting_since = at  # the server starts the next-reply clock here
    left: list[int | None] = []  # business seconds each running target has left
    if first_reply is None:
        left.append(_judge(sla, "first_reply", targets.first_reply, active(created, now), False))
    elif waiting_since is not None:
        used = active(waiting_since, now)
        left.append(_judge(sla, "next_reply", targets.next_reply, used, False))

    solved = timeline.status in RESOLVED
    solved_at: int | None = None
    reopens = 0
    for change in changes:
        if change.new in RESOLVED and change.old not in RESOLVED:
            solved_at = change.at
        elif change.old in RESOLVED and change.new not in RESOLVED:
            reopens += 1
    resolution = None
    if solved and solved_at is not None:
        resolution = clock.between(created, solved_at)
        _judge(sla, "resolution", targets.resolution, active(created, solved_at), True)
    else:
        left.append(_judge(sla, "resolution", targets.resolution, active(created, now), False))
    running = [seconds for seconds in left if seconds is not None]
    recheck_at = None
    if running and timeline.status in ACTIVE:
        # Overdue means more than the target used: one second past the time left.
        recheck_at = add_business_seconds(clock.calendar, now, min(running) + 1)
    return TicketMetrics(
        first_reply=first_reply,
        next_replies=tuple(next_replies),
        resolution=resolution,
        sla=tuple(sla),
        solved=solved,
        one_touch=solved and agent_posts == 1,
        reopens=reopens,
        csat=timeline.csat,
        recheck_at=recheck_at,
    )


# --- aggregates ---


def percentile(values: Sequence[int], fraction: float) -> int | None:
    """Nearest-rank percentile of sorted `values` (the smallest value with at least
    `fraction` of all values at or below it); None for no values."""
    if not values:
        return None
    return values[max(math.ceil(fraction * len(values)), 1) - 1]


@dataclass(frozen=True, slots=True)
class Spread:
    count: int
    median: float | None
    p90: int | None

    @classmethod
    def of(cls, values: list[int]) -> Spread:
        values.sort()
        median = statistics.median(values) if values else None
        return cls(len(values), median, percentile(values, 0.9))


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


@dataclass(slots=True)
class Tally:
    """Running totals for one group of tickets; `summary()` turns them into the figures."""

    tickets: int = 0
    first_reply: list[int] = field(default_factory=list)
    next_reply: list[int] = field(default_factory=list)
    resolution: list[int] = field(default_factory=list)
    met: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TARGETS, 0))
    judged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TARGETS, 0))
    solved: int = 0
    one_touch: int = 0
    reopened: int = 0
    good: int = 0
    bad: int = 0
    backlog: int = 0  # unresolved at the end of the period

    def add(self, metrics: TicketMetrics) -> None:
        self.tickets += 1
        if metrics.first_reply is not None:
            self.first_reply.append(metrics.first_reply)
        self.next_reply.extend(metrics.next_replies)
        if metrics.resolution is not None:
            self.resolution.append(metrics.resolution)
        for name, ok in metrics.sla:
            self.judged[name] += 1
            self.met[name] += ok
        if metrics.solved:
            self.solved += 1
            self.one_touch += metrics.one_touch
            self.reopened += metrics.reopens > 0
        else:
            self.backlog += 1
        if metrics.csat == "good":
            self.good += 1
        elif metrics.csat == "bad":
            self.bad += 1

    def merge(self, other: Tally) -> None:
        """Fold another group's totals into this one (for the all-groups line)."""
        self.tickets += other.tickets
        self.first_reply += other.first_reply
        self.next_reply += other.next_reply
        self.resolution += other.resolution
        for target in TARGETS:
            self.met[target] += other.met[target]
            self.judged[target] += other.judged[target]
        self.solved += other.solved
        self.one_touch += other.one_touch
        self.reopened += other.reopened
        self.good += other.good
        self.bad += other.bad
        self.backlog += other.backlog

    def summary(self) -> Summary:
        return Summary(
            tickets=self.tickets,
            first_reply=Spread.of(self.first_reply),
            next_reply=Spread.of(self.next_reply),
            resolution=Spread.of(self.resolution),
            attainment={t: rate(self.met[t], self.judged[t]) for t in TARGETS},
            judged=dict(self.judged),
            solved=self.solved,
            one_touch_rate=rate(self.one_touch, self.solved),
            reopen_rate=rate(self.reopened, self.solved),
            csat=rate(self.good, self.good + self.bad),
            csat_responses=self.good + self.bad,
            backlog=self.backlog,
        )


@dataclass(frozen=True, slots=True)
class Summary:
    tickets: int
    first_reply: Spread
    next_reply: Spread
    resolution: Spread
    attainment: dict[str, float | None]  # target -> share of decided instances met
    judged: dict[str, int]
    solved: int
    one_touch_rate: float | None  # of solved tickets
    reopen_rate: float | None  # of solved tickets
    csat: float | None  # good / (good + bad)
    csat_responses: int
    backlog: int


def summarize(metrics: Iterable[TicketMetrics]) -> Summary:
    tally = Tally()
    for item in metrics:
        tally.add(item)
    return tally.summary()


def day_starts(zone: tzinfo, start: int, end: int) -> list[int]:
    """Local midnights in `zone` from the day holding `start` up to (not including) `end`."""
    day = datetime.fromtimestamp(start, zone).date()
    out: list[int] = []
    while True:
        moment = int(datetime.combine(day, time(), tzinfo=zone).timestamp())
        if moment >= end:
            return out
        out.append(moment)
        day += timedelta(days=1)


def backlog_series(open_now: int, net_opened_since: Sequence[int]) -> list[int]:
    """Unresolved tickets at past instants, walking back from the count now.

    `net_opened_since[i]` is how many more tickets are unresolved now than at instant i
    (created + reopened - solved since then), so the backlog then is the difference.
    """
    return [open_now - change for change in net_opened_since]
