"""What the status line shows about sync: a plain value, cheap to import (the sync stack,
httpx included, loads only after the first paint, and only when there is a login)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SyncStatus:
    state: str  # local | online | offline | syncing
    last_sync: int | None = None
    conflicts: int = 0
    viewers: tuple[str, ...] = ()  # "olena:replying" for others on the ticket asked about
    agent: str | None = None
    rejected: int = 0
    error: str | None = None
