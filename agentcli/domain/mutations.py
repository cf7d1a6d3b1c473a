"""Mutations: every change a user makes, as the client sends it and the server settles it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class MutationType(StrEnum):
    REPLY = "reply"
    NOTE = "note"
    SET_STATUS = "set-status"
    SET_PRIORITY = "set-priority"
    ASSIGN = "assign"
    SET_QUEUE = "set-queue"
    TAG = "tag"  # payload: {"add": [...], "remove": [...]}
    SET_CASE = "set-case"  # payload: {"type": ..., "state": ...}
    SNOOZE = "snooze"  # payload: {"until": ISO time or null}


# Fields whose changes are compare-and-set against the version the user saw.
COMPARE_AND_SET = frozenset({MutationType.ASSIGN, MutationType.SET_STATUS, MutationType.SET_CASE})
# Messages are append-only and never conflict.
APPEND_ONLY = frozenset({MutationType.REPLY, MutationType.NOTE})


# A reply or note may name the macros it was written with (payload "macros"): the server
# records one audit event each, which `macro suggest` counts on similar tickets. Bounded so
# a hostile client cannot bloat the trail.
MAX_MACROS = 10
MAX_MACRO_ID = 64


def macros_problem(value: Any) -> str | None:
    """Why `value` is not a valid "macros" payload (a list of short ids), or None."""
    if (
        not isinstance(value, list)
        or len(value) > MAX_MACROS
        or not all(isinstance(item, str) and _short_id(item) for item in value)
    ):
        return (
            f"payload.macros must be a list of at most {MAX_MACROS} macro ids"
            f" (1-{MAX_MACRO_ID} printable characters each)"
        )
    return None


def applied_macros(ids: Iterable[str]) -> list[str]:
    """The ids a sender puts in "macros": each once, in order, cut to what the server takes
    (the count is a ranking hint, so a 12th stacked macro is dropped, not the reply)."""
    return [item for item in dict.fromkeys(ids) if _short_id(item)][:MAX_MACROS]


def _short_id(item: str) -> bool:
    return 0 < len(item) <= MAX_MACRO_ID and item.isprintable() and item == item.strip()


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Mutation:
    type: MutationType
    ticket_id: int
    base_version: int | None
    payload: dict[str, Any] = field(default_factory=dict)
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def is_compare_and_set(self) -> bool:
        return self.type in COMPARE_AND_SET


@dataclass(frozen=True, slots=True)
class MutationResult:
    client_id: str
    outcome: Outcome
    version: int | None = None
    seq: int | None = None
    reason: str | None = None
    current: dict[str, Any] | None = None  # server state on conflict
