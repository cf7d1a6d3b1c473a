"""Mutations: every change a user makes, as the client sends it and the server settles it."""

from __future__ import annotations

import uuid
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
