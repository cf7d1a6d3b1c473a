"""Rebalance proposals: move tickets from agents over capacity to agents with room who speak
the customer's language. Pure and deterministic (same input, same proposal), so a preview the
supervisor accepted is exactly what gets queued.

Rules:
- only tickets of over-capacity agents move, at most as many as each one is over;
- a target must be active, speak the ticket's language and stay within its capacity;
- the most urgent tickets move first: earliest SLA due, then highest priority, then id;
- among suitable targets the one with most room left takes it (then the lower load, then
  login), which spreads the work instead of filling one agent up;
- a ticket nobody suitable can take is listed with the reason, never moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Slot:
    """An agent as the rebalance sees them."""

    login: str
    languages: frozenset[str]
    capacity: int
    load: int  # unresolved tickets held now
    active: bool = True

    @property
    def excess(self) -> int:
        return max(0, self.load - self.capacity)

    @property
    def room(self) -> int:
        return max(0, self.capacity - self.load) if self.active else 0


@dataclass(frozen=True, slots=True)
class Candidate:
    ticket_id: int
    assignee: str
    language: str
    priority: int  # Priority.rank: 3 urgent .. 0 low
    sla_due: int  # epoch seconds; SLA_NEVER when no clock runs


@dataclass(frozen=True, slots=True)
class Move:
    ticket_id: int
    source: str
    target: str
    language: str
    priority: int
    sla_due: int


class Unmoved(StrEnum):
    LANGUAGE = "language"  # no other active agent speaks it
    CAPACITY = "capacity"  # speakers exist, none has room left


@dataclass(frozen=True, slots=True)
class Proposal:
    moves: list[Move] = field(default_factory=list)
    unmoved: list[tuple[Candidate, Unmoved]] = field(default_factory=list)

    def by_target(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for move in self.moves:
            out[move.target] = out.get(move.target, 0) + 1
        return out


def urgency(candidate: Candidate) -> tuple[int, int, int]:
    return (candidate.sla_due, -candidate.priority, candidate.ticket_id)


def propose(slots: list[Slot], candidates: list[Candidate]) -> Proposal:
    """Moves from over-capacity to under-capacity agents; see the module rules."""
    excess = {slot.login: slot.excess for slot in slots if slot.excess}
    room = {slot.login: slot.room for slot in slots if slot.room}
    load = {slot.login: slot.load for slot in slots}
    proposal = Proposal()
    for candidate in sorted(candidates, key=urgency):
        source = candidate.assignee
        if excess.get(source, 0) <= 0:
            continue  # not over capacity (or already brought down to it)
        speakers = [
            slot.login
            for slot in slots
            if slot.login != source and slot.active and candidate.language in slot.languages
        ]
        if not speakers:
            proposal.unmoved.append((candidate, Unmoved.LANGUAGE))
            continue
        open_targets = [login for login in speakers if room.get(login, 0) > 0]
        if not open_targets:
            proposal.unmoved.append((candidate, Unmoved.CAPACITY))
            continue
        target = min(open_targets, key=lambda login: (-room[login], load[login], login))
        room[target] -= 1
        load[target] += 1
        excess[source] -= 1
        proposal.moves.append(
            Move(
                candidate.ticket_id,
                source,
                target,
                candidate.language,
                candidate.priority,
                candidate.sla_due,
            )
        )
    return proposal
