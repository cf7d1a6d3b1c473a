"""Every custom Textual message of the console, in one module.

Workers run in threads and hand results back with `post_message` (thread-safe); each result
carries the `generation` it was asked for, so an answer to an older query is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from agentcli.store.inbox import InboxRow


@dataclass
class RowsLoaded(Message):
    """Rows of the ticket list: forward from `start` (index order) or backward (reverse)."""

    generation: int
    start: int
    backward: bool
    rows: list[InboxRow]
    at_end: bool  # no more rows past these in the direction read
    total: int | None = None  # set when the worker had to count first (G before the count)


@dataclass
class CountLoaded(Message):
    generation: int
    total: int


@dataclass
class ListError(Message):
    generation: int
    error: str


@dataclass
class CursorMoved(Message):
    """The list cursor now rests on `row` (None: the list is empty)."""

    row: InboxRow | None
    index: int


@dataclass
class OpenTicket(Message):
    ticket_id: int


@dataclass
class PreviewLoaded(Message):
    ticket_id: int
    body: str | None
    author: str | None
    kind: str | None
    length: int = 0


@dataclass
class SidebarCounts(Message):
    counts: list[tuple[str, str, int]]  # (view name, query, count)


@dataclass
class TicketLoaded(Message):
    ticket_id: int
    detail: Any  # agentcli.tui.data.TicketDetail


@dataclass
class HistoryLoaded(Message):
    """A page of a ticket's audit trail; `older` pages go after those already shown."""

    ticket_id: int
    events: list[Any]  # agentcli.store.history.Event, newest first
    next_before: int | None
    older: bool


@dataclass
class Queued(Message):
    """Mutations were written to the outbox (and applied locally)."""

    ticket_ids: list[int]
    count: int
    error: str | None = None
    clear_draft: tuple[int, str] | None = None


@dataclass
class StatusSnapshot(Message):
    outbox: int
    state: str
    last_sync: int | None
    conflicts: int
    viewers: list[str] = field(default_factory=list)  # "login:activity" on `ticket_id`
    ticket_id: int | None = None
    rejected: int = 0
    error: str | None = None


@dataclass
class SyncCycle(Message):
    """The background sync finished a cycle (posted from its thread)."""

    pulled: int
    pushed: int
    error: str | None = None


@dataclass
class LibraryReady(Message):
    """The macro library finished loading (in a worker, after the first paint)."""

    library: Any
