"""Rebalance proposals with known answers (agentcli.domain.rebalance)."""

from __future__ import annotations

from agentcli.domain.clock import SLA_NEVER
from agentcli.domain.rebalance import Candidate, Move, Slot, Unmoved, propose

NOW = 1_795_176_000


def slot(login: str, langs: str, capacity: int, load: int, active: bool = True) -> Slot:
    return Slot(login, frozenset(langs.split(",")), capacity, load, active)


def test_moves_the_most_urgent_excess_to_speakers_with_room() -> None:
    slots = [
        slot("busy", "uk,en", capacity=2, load=5),  # 3 over
        slot("olena", "uk", capacity=4, load=2),  # room 2
        slot("sarah", "en", capacity=3, load=2),  # room 1
    ]
    tickets = [
        Candidate(10, "busy", "uk", priority=1, sla_due=NOW + 900),
        Candidate(11, "busy", "en", priority=3, sla_due=NOW + 60),
        Candidate(12, "busy", "uk", priority=1, sla_due=SLA_NEVER),
        Candidate(13, "busy", "uk", priority=2, sla_due=NOW + 900),  # same due, higher priority
        Candidate(14, "busy", "en", priority=1, sla_due=NOW + 5000),
    ]
    proposal = propose(slots, tickets)
    assert proposal.moves == [
        Move(11, "busy", "sarah", "en", 3, NOW + 60),
        Move(13, "busy", "olena", "uk", 2, NOW + 900),
        Move(10, "busy", "olena", "uk", 1, NOW + 900),
    ]
    assert proposal.unmoved == []  # busy is back at capacity: 12 and 14 stay
    assert proposal.by_target() == {"sarah": 1, "olena": 2}


def test_nobody_speaks_the_language_or_nobody_has_room_is_listed_not_moved() -> None:
    slots = [
        slot("li", "zh-CN", capacity=1, load=3),
        slot("olena", "uk", capacity=5, load=0),
        slot("wang", "zh-TW", capacity=1, load=1),  # speaks zh-TW, no room
        slot("gone", "zh-CN", capacity=9, load=0, active=False),  # inactive never takes work
    ]
    tickets = [
        Candidate(1, "li", "zh-CN", priority=3, sla_due=NOW),
        Candidate(2, "li", "zh-TW", priority=1, sla_due=NOW + 10),
    ]
    proposal = propose(slots, tickets)
    assert proposal.moves == []
    assert [(c.ticket_id, why) for c, why in proposal.unmoved] == [
        (1, Unmoved.LANGUAGE),
        (2, Unmoved.CAPACITY),
    ]


def test_never_fills_a_target_over_capacity_and_spreads_by_room() -> None:
    slots = [
        slot("a", "en", capacity=0, load=6),
        slot("b", "en", capacity=3, load=1),  # room 2
        slot("c", "en", capacity=3, load=0),  # room 3
    ]
    tickets = [Candidate(i, "a", "en", priority=1, sla_due=NOW + i) for i in range(1, 7)]
    proposal = propose(slots, tickets)
    assert [(m.ticket_id, m.target) for m in proposal.moves] == [
        (1, "c"),
        (2, "b"),  # b and c tie on room (2) and load (1): login decides
        (3, "c"),
        (4, "b"),
        (5, "c"),
    ]
    assert [(c.ticket_id, why) for c, why in proposal.unmoved] == [(6, Unmoved.CAPACITY)]


def test_deterministic_whatever_the_input_order() -> None:
    slots = [slot("x", "en", 1, 4), slot("y", "en", 2, 0), slot("z", "en", 2, 0)]
    tickets = [Candidate(i, "x", "en", priority=i % 4, sla_due=NOW + (i * 7) % 5) for i in range(8)]
    first = propose(slots, tickets)
    assert propose(list(reversed(slots)), list(reversed(tickets))) == first
    assert len(first.moves) == 3
