"""Business-hours arithmetic for SLA clocks: pure (no I/O), on Unix seconds.

A `Calendar` is a timezone, weekly opening intervals and holidays. Intervals are wall-clock
minutes from local midnight; an interval whose end is not after its start runs past midnight
into the next day (a 22:00-02:00 night shift). Each interval becomes real instants through the
zone, so a day on which DST changes inside opening hours really is an hour shorter or longer:
SLA targets count elapsed working time, not wall-clock differences.

Holidays are local dates on which no interval *starts* (a night shift begun the evening before
runs to its end). The server and the supervisors' metrics both use these functions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
_SEARCH_DAYS = 3 * 366  # no opening hours within 3 years: the calendar is empty


class EmptyCalendar(ValueError):
    """The calendar has no opening hours, so no target can ever be reached."""


@dataclass(frozen=True)
class Calendar:
    zone: tzinfo
    # weekday (0 = Monday) -> (start minute, end minute) intervals; end <= start: past midnight
    weekly: Mapping[int, Sequence[tuple[int, int]]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def intervals(self, start: int) -> Iterator[tuple[int, int]]:
        """Opening intervals as (start, end) Unix seconds, in order, from the one covering
        (or following) `start` onwards; starts on the previous local day for night shifts."""
        day = datetime.fromtimestamp(start, self.zone).date() - timedelta(days=1)
        for _ in range(_SEARCH_DAYS):
            if day not in self.holidays:
                for begin, end in sorted(self.weekly.get(day.weekday(), ())):
                    if end <= begin:
                        end += DAY_MINUTES
                    lo, hi = _instant(day, begin, self.zone), _instant(day, end, self.zone)
                    if hi > start and hi > lo:
                        yield lo, hi
            day += timedelta(days=1)


def _instant(day: date, minutes: int, zone: tzinfo) -> int:
    # Wall-clock arithmetic first, zone second: 24:00 is the next local midnight even on a
    # 23- or 25-hour day. A wall time inside a spring-forward gap resolves with fold=0 (the
    # offset before the change), which zoneinfo defines; it lands just after the gap.
    wall = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return int(wall.replace(tzinfo=zone).timestamp())


def add_business_seconds(calendar: Calendar, start: int, seconds: int) -> int:
    """The instant at which `seconds` of opening time have elapsed after `start`."""
    if seconds <= 0:
        return start
    cursor, remaining = start, seconds
    for lo, hi in calendar.intervals(start):
        begin = max(lo, cursor)
        if begin >= hi:
            continue  # overlapping intervals: already counted
        if hi - begin >= remaining:
            return begin + remaining
        remaining -= hi - begin
        cursor = hi
    raise EmptyCalendar("no opening hours in the calendar")


def business_seconds_between(calendar: Calendar, start: int, end: int) -> int:
    """Opening time elapsed from `start` to `end` (0 when end <= start)."""
    if end <= start:
        return 0
    total, cursor = 0, start
    for lo, hi in calendar.intervals(start):
        if lo >= end:
            return total
        begin, finish = max(lo, cursor), min(hi, end)
        if finish > begin:
            total += finish - begin
            cursor = finish
        if hi >= end:
            return total
    return total


def is_open(calendar: Calendar, moment: int) -> bool:
    lo, hi = next(calendar.intervals(moment), (moment + 1, moment + 1))
    return lo <= moment < hi


# --- parsing the config file's plain values (the server reads the file; this stays pure) ---


def parse_clock(text: str) -> int:
    """ "09:30" -> 570 minutes; "24:00" allowed as an end."""
    hours, _, minutes = text.strip().partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not (0 <= int(minutes or 0) < 60 and 0 <= value <= DAY_MINUTES):
        raise ValueError(f"bad clock time {text!r}")
    return value


def parse_weekly(hours: Mapping[str, Sequence[str]]) -> dict[int, list[tuple[int, int]]]:
    """{"mon": ["09:00-18:00"], "fri": ["22:00-02:00"]} -> weekday intervals."""
    weekly: dict[int, list[tuple[int, int]]] = {}
    for name, spans in hours.items():
        if name not in WEEKDAYS:
            raise ValueError(f"unknown weekday {name!r} (use {', '.join(WEEKDAYS)})")
        day = WEEKDAYS.index(name)
        for span in spans:
            begin, sep, end = span.partition("-")
            if not sep:
                raise ValueError(f"bad interval {span!r}: use HH:MM-HH:MM")
            weekly.setdefault(day, []).append((parse_clock(begin), parse_clock(end)))
    return weekly


ALWAYS_OPEN = Calendar(UTC, {day: [(0, DAY_MINUTES)] for day in range(7)})
