"""SLA policies: which first-reply, next-reply and resolution targets apply to a ticket.

Parsed from plain values (the server reads the TOML file and resolves the timezone; this stays
pure). Policies are tried in file order and the first whose priorities and tiers both match
wins, so a file lists its specific rules first and a catch-all last.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from agentcli.domain.business_hours import Calendar, parse_weekly
from agentcli.domain.vocabulary import Priority, Tier

TARGETS = ("first_reply", "next_reply", "resolution")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$")


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Targets:
    """Business seconds allowed for each target (None: no such target)."""

    first_reply: int | None
    next_reply: int | None
    resolution: int | None


@dataclass(frozen=True)
class Policy:
    name: str
    priorities: frozenset[Priority] | None  # None: any
    tiers: frozenset[Tier] | None
    targets: Targets

    def matches(self, priority: Priority, tier: Tier) -> bool:
        return (self.priorities is None or priority in self.priorities) and (
            self.tiers is None or tier in self.tiers
        )


@dataclass(frozen=True)
class SlaConfig:
    calendar: Calendar
    policies: tuple[Policy, ...]

    def targets(self, priority: str, tier: str) -> Targets:
        for policy in self.policies:
            if policy.matches(Priority(priority), Tier(tier)):
                return policy.targets
        return Targets(None, None, None)


def parse_duration(text: str) -> int:
    """ "4h", "30m", "1h30m" -> seconds of business time."""
    found = _DURATION.match(text)
    if not found or not any(found.groups()):
        raise PolicyError(f"bad duration {text!r}: use e.g. 30m, 4h or 1h30m")
    hours, minutes = (int(g or 0) for g in found.groups())
    return hours * 3600 + minutes * 60


def _set(values: Sequence[str] | None, kind: type, what: str) -> frozenset[Any] | None:
    if values is None:
        return None
    try:
        return frozenset(kind(v) for v in values)
    except ValueError as error:
        raise PolicyError(f"{what}: {error}") from None


def parse_config(data: Mapping[str, Any], zone: tzinfo) -> SlaConfig:
    """`data` is the parsed TOML; `zone` the resolved `[calendar] timezone`."""
    calendar_data = data.get("calendar", {})
    try:
        weekly = parse_weekly(calendar_data.get("hours", {}))
        holidays = frozenset(
            h if isinstance(h, date) else date.fromisoformat(h)
            for h in calendar_data.get("holidays", [])
        )
    except ValueError as error:
        raise PolicyError(f"[calendar]: {error}") from None
    policies = []
    for index, raw in enumerate(data.get("policy", [])):
        name = raw.get("name", f"policy {index + 1}")
        targets = Targets(
            *(parse_duration(raw[t]) if t in raw else None for t in TARGETS)  # type: ignore[arg-type]
        )
        policies.append(
            Policy(
                name,
                _set(raw.get("priority"), Priority, name),
                _set(raw.get("tier"), Tier, name),
                targets,
            )
        )
    if not policies:
        raise PolicyError("no [[policy]] entries")
    return SlaConfig(Calendar(zone, weekly, holidays), tuple(policies))
