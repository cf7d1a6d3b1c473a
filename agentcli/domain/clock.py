"""Time helpers shared by every layer: UTC now, and Unix seconds <-> aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

# Sort key for "no SLA running": later than any real due time, so `ORDER BY sla_due` puts
# paused, solved and closed tickets last without NULL handling in keyset comparisons.
SLA_NEVER = 2**53


def now_epoch() -> int:
    return int(datetime.now(UTC).timestamp())


def to_epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def from_epoch(seconds: int | None) -> datetime | None:
    if seconds is None or seconds >= SLA_NEVER:
        return None
    return datetime.fromtimestamp(seconds, UTC)
