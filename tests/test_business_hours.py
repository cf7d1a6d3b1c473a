"""Business-hours arithmetic on hand-built timelines: weekends, holidays, night shifts, DST."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from agentcli.domain.business_hours import (
    ALWAYS_OPEN,
    Calendar,
    EmptyCalendar,
    add_business_seconds,
    business_seconds_between,
    is_open,
    parse_weekly,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
KYIV = ZoneInfo("Europe/Kyiv")
H = 3600


def at(zone: ZoneInfo, text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).timestamp())


def local(zone: ZoneInfo, epoch: int) -> str:
    return datetime.fromtimestamp(epoch, zone).strftime("%Y-%m-%d %H:%M")


WEEKDAYS_9_18 = parse_weekly({d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")})
OFFICE = Calendar(SHANGHAI, WEEKDAYS_9_18)


def test_within_one_day() -> None:
    start = at(SHANGHAI, "2025-06-02 10:00")  # a Monday
    assert local(SHANGHAI, add_business_seconds(OFFICE, start, 2 * H)) == "2025-06-02 12:00"
    assert business_seconds_between(OFFICE, start, start + 2 * H) == 2 * H


def test_before_opening_starts_at_opening() -> None:
    start = at(SHANGHAI, "2025-06-02 07:30")
    assert local(SHANGHAI, add_business_seconds(OFFICE, start, H)) == "2025-06-02 10:00"
    assert business_seconds_between(OFFICE, start, at(SHANGHAI, "2025-06-02 10:00")) == H


def test_friday_evening_rolls_over_the_weekend() -> None:
    start = at(SHANGHAI, "2025-06-06 17:00")  # Friday
    due = add_business_seconds(OFFICE, start, 4 * H)
    assert local(SHANGHAI, due) == "2025-06-09 12:00"  # 1h Friday + 3h Monday
    assert business_seconds_between(OFFICE, start, due) == 4 * H
    saturday = at(SHANGHAI, "2025-06-07 12:00")
    assert not is_open(OFFICE, saturday)
    assert business_seconds_between(OFFICE, saturday, at(SHANGHAI, "2025-06-08 23:00")) == 0


def test_holidays_are_skipped() -> None:
    # Dragon Boat Festival 2025-05-31..06-02: Monday 06-02 is a holiday.
    calendar = Calendar(SHANGHAI, WEEKDAYS_9_18, frozenset({date(2025, 6, 2)}))
    start = at(SHANGHAI, "2025-05-30 17:00")  # Friday
    assert local(SHANGHAI, add_business_seconds(calendar, start, 2 * H)) == "2025-06-03 10:00"


def test_night_shift_across_midnight() -> None:
    night = Calendar(SHANGHAI, parse_weekly({"mon": ["22:00-02:00"], "tue": ["22:00-02:00"]}))
    start = at(SHANGHAI, "2025-06-02 23:00")  # Monday 23:00
    assert local(SHANGHAI, add_business_seconds(night, start, 2 * H)) == "2025-06-03 01:00"
    # 3h: 23-02 is all of Monday's shift; the last hour is Tuesday 22:00-23:00.
    assert local(SHANGHAI, add_business_seconds(night, start, 4 * H)) == "2025-06-03 23:00"
    inside = at(SHANGHAI, "2025-06-03 01:30")  # Tuesday 01:30, still Monday's shift
    assert is_open(night, inside)
    assert business_seconds_between(night, inside, at(SHANGHAI, "2025-06-03 22:30")) == H


def test_holiday_does_not_cut_a_shift_begun_the_evening_before() -> None:
    calendar = Calendar(
        SHANGHAI, parse_weekly({"mon": ["22:00-02:00"]}), frozenset({date(2025, 6, 3)})
    )
    start = at(SHANGHAI, "2025-06-02 22:00")
    assert local(SHANGHAI, add_business_seconds(calendar, start, 4 * H)) == "2025-06-03 02:00"


def test_spring_forward_day_is_an_hour_shorter() -> None:
    # Kyiv: 2025-03-30 03:00 -> 04:00. A 00:00-24:00 Sunday has 23 real hours.
    sunday = Calendar(KYIV, parse_weekly({"sun": ["00:00-24:00"]}))
    start = at(KYIV, "2025-03-30 00:00")
    assert business_seconds_between(sunday, start, at(KYIV, "2025-03-31 00:00")) == 23 * H
    # 4 real hours after midnight is 05:00 wall time, not 04:00.
    assert local(KYIV, add_business_seconds(sunday, start, 4 * H)) == "2025-03-30 05:00"


def test_fall_back_day_is_an_hour_longer() -> None:
    sunday = Calendar(KYIV, parse_weekly({"sun": ["00:00-24:00"]}))
    start = at(KYIV, "2025-10-26 00:00")
    assert business_seconds_between(sunday, start, at(KYIV, "2025-10-27 00:00")) == 25 * H
    # Office hours 09-18 on the fall-back day are untouched (the change is at 04:00).
    office = Calendar(KYIV, parse_weekly({"sun": ["09:00-18:00"]}))
    assert business_seconds_between(office, start, at(KYIV, "2025-10-27 00:00")) == 9 * H


def test_add_and_between_are_inverse_over_a_month() -> None:
    start = at(SHANGHAI, "2025-06-04 16:20")
    for hours in (0, 1, 7, 9, 10, 45, 100):
        due = add_business_seconds(OFFICE, start, hours * H)
        assert business_seconds_between(OFFICE, start, due) == hours * H


def test_always_open_and_empty_calendars() -> None:
    assert add_business_seconds(ALWAYS_OPEN, 1000, 5000) == 6000
    with pytest.raises(EmptyCalendar):
        add_business_seconds(Calendar(SHANGHAI, {}), 0, 60)


def test_bad_config_values_are_errors() -> None:
    with pytest.raises(ValueError):
        parse_weekly({"someday": ["09:00-18:00"]})
    with pytest.raises(ValueError):
        parse_weekly({"mon": ["09:00"]})
    with pytest.raises(ValueError):
        parse_weekly({"mon": ["09:75-18:00"]})
