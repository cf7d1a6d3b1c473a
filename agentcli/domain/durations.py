"""Short human durations for SLA countdowns: "in 25m", "3h 10m overdue"."""

from __future__ import annotations


def compact(seconds: int) -> str:
    """A duration in its two largest units: 45s, 25m, 3h 10m, 2d 4h."""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{secs}s"


def elapsed(moment: int | None, now: int) -> str:
    """Time since `moment`: 45s, 25m, 3h 10m, 1d 18h ("" when unknown)."""
    if moment is None:
        return ""
    return compact(max(0, now - moment))


def countdown(due: int | None, now: int) -> str:
    """An SLA due time relative to now: "" when no clock runs."""
    if due is None:
        return ""
    left = due - now
    return f"in {compact(left)}" if left >= 0 else f"{compact(left)} overdue"
