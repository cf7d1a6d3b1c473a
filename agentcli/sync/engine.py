"""The sync engine: push the outbox, pull the change feed, settle answers, retry with backoff.

Plain functions and one class over an open store and a Client, so it runs the same in
`agentcli sync` (main thread) and as the TUI's background worker (`live.SyncWorker`, one
thread that owns its own SQLite connection). Crash safety comes from the store, not from
here: pulled pages are applied with their cursor in one transaction, each answer settles in
one transaction, and mutation ids make a re-sent push a "duplicate" with the original answer,
so after a `kill -9` the next run resumes from the stored cursor and outbox.

Order in a cycle: push, then pull (then push anything queued meanwhile). Pushing first means
a reply whose answer was lost is settled as a duplicate — learning its server message id —
before the pull brings the server's copy, so the thread never shows it twice.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Protocol

import sqlite_utils

from agentcli.domain.wire import WireError
from agentcli.store.changes import apply_checked, read_cursor
from agentcli.store.db import transaction
from agentcli.store.outbox import mutation_of, note_attempt, push_batch, queued_count, settle_in
from agentcli.sync.client import Client, ProtocolError, RateLimited, SyncError
from agentcli.sync.fetcher import Fetched, Item, PullProcess, PullThread
from agentcli.sync.status import last_synced, record_error, record_success

log = logging.getLogger("agentcli.sync")

# Pages fetched ahead of the store, and applied together at most: one transaction of this
# many holds the store's write lock for a fraction of a second at most.
PAGES_AHEAD = 8


@dataclass
class SyncConfig:
    page_size: int = 1000  # the server's maximum
    push_batch: int = 500  # the server's maximum: the server's per-request cost dominates a drain
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    poll_interval: float = 30.0  # between cycles when no live nudge comes
    max_push_rounds: int = 10_000  # a guard against a server that never settles anything
    # A pull at least this far behind the server's head fetches in a child process (fetcher).
    process_from: int = 50_000


@dataclass
class Progress:
    """Pull progress for a progress bar: counts so far and the server's head, if known."""

    start_cursor: int = 0
    cursor: int = 0
    head: int | None = None
    changes: int = 0
    tickets: int = 0
    messages: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.changes / elapsed if elapsed > 0 else 0.0

    @property
    def total(self) -> int | None:
        """Changes expected in this pull (seqs are dense enough to estimate with)."""
        if self.head is None:
            return None
        return max(self.head - self.start_cursor, self.changes)


@dataclass
class SyncReport:
    pushed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    pulled: int = 0
    cursor: int = 0


class _Pages(Protocol):
    def get(self) -> Item: ...
    def get_nowait(self) -> Item: ...


def _take(pages: _Pages) -> tuple[list[Fetched], bool, BaseException | None]:
    """Wait for a page, then take the pages already waiting behind it (PAGES_AHEAD at most).

    Returns the pages, whether the fetch ended (None or an error came after them; an empty
    list always ends it) and the error it ended with."""
    batch: list[Fetched] = []
    item = pages.get()
    while isinstance(item, Fetched):
        batch.append(item)
        if not item.more or len(batch) == PAGES_AHEAD:
            return batch, False, None
        try:
            item = pages.get_nowait()
        except queue.Empty:
            return batch, False, None
    return batch, True, item


def backoff_delay(attempt: int, config: SyncConfig, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: uniform in [half, full] of min(cap, base * 2^attempt),
    so many clients coming back after an outage do not retry in lockstep."""
    ceiling = min(config.backoff_cap, config.backoff_base * 2**attempt)
    return (rng or random).uniform(ceiling / 2, ceiling)


class Cancelled(Exception):
    """A pull stopped between two of its transactions because `Engine.cancel` was set (the
    console is quitting during a long first sync); the next pull resumes from the cursor."""


class Engine:
    def __init__(
        self,
        db: sqlite_utils.Database,
        client: Client,
        config: SyncConfig | None = None,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.config = config or SyncConfig()
        self.on_progress = on_progress
        self.cancel = cancel

    # --- push -------------------------------------------------------------------------

    def push(self, report: SyncReport | None = None) -> SyncReport:
        """Send queued mutations in batches (in order per ticket) until none are queued."""
        report = report or SyncReport()
        for _ in range(self.config.max_push_rounds):
            rows = push_batch(self.db, self.config.push_batch)
            if not rows:
                return report
            ids = [row["client_id"] for row in rows]
            try:
                results = self.client.push([mutation_of(row) for row in rows])
            except SyncError as error:
                note_attempt(self.db, ids, str(error))
                raise
            # All answers of a batch settle in one transaction: one fsync, and a crash keeps
            # either all or none (none: the re-sent batch is answered "duplicate").
            with transaction(self.db) as conn:
                for result in results:
                    settle_in(
                        conn,
                        result.client_id,
                        result.outcome,
                        result.reason,
                        version=result.version,
                        message_id=result.message_id,
                        current=result.current,
                    )
            report.pushed += len(results)
            for result in results:
                key = str(result.outcome)
                report.outcomes[key] = report.outcomes.get(key, 0) + 1
        raise ProtocolError("push: the outbox does not drain (the server settles nothing)")

    # --- pull -------------------------------------------------------------------------

    def pull(self, report: SyncReport | None = None, *, head: int | None = None) -> SyncReport:
        """Apply pages after the stored cursor until the server has no more.

        A fetcher (fetcher.py) fetches and checks the next pages (a few ahead at most) while
        this thread applies earlier ones. The pages waiting when the store is free are
        applied together, in one transaction with the last cursor; a page that fails its
        check comes as its WireError, after the pages before it.
        """
        report = report or SyncReport()
        after = read_cursor(self.db)
        if head is None and self._may_fork() and last_synced(self.db) is None:
            head = self.client.head()  # a first sync: is it big enough for a child process?
        progress = Progress(start_cursor=after, cursor=after, head=head)
        pages = self._fetcher(after, head)
        try:
            while True:
                batch, ended, error = _take(pages)
                if batch:  # what came before an error is applied first, as fetched
                    self._apply(batch, report, progress)
                if error is not None:
                    raise error
                if ended or not batch[-1].more:
                    break
                if self.cancel is not None and self.cancel.is_set():
                    raise Cancelled(f"pull stopped at cursor {progress.cursor}")
        except WireError as error:
            log.warning("page after cursor %s rejected: %s", read_cursor(self.db), error)
            raise
        finally:
            pages.close()
        report.cursor = read_cursor(self.db)
        return report

    def _may_fork(self) -> bool:
        """Only a plain Client can be rebuilt in a child from its settings."""
        return type(self.client) is Client

    def _fetcher(self, after: int, head: int | None) -> PullThread | PullProcess:
        limit = self.config.page_size
        if self._may_fork() and head is not None and head - after >= self.config.process_from:
            # A store thread without a fetcher thread never waits for the GIL; two batches
            # ahead keep the child busy while the store applies one.
            return PullProcess(self.client.settings, after, limit, 2 * PAGES_AHEAD)
        return PullThread(self.client, after, limit, PAGES_AHEAD)

    def _apply(self, batch: list[Fetched], report: SyncReport, progress: Progress) -> None:
        applied = apply_checked(self.db, [fetched.page for fetched in batch])
        report.pulled += applied
        progress.changes += applied
        progress.cursor = batch[-1].page.next
        for fetched in batch:
            kinds = Counter(map(attrgetter("kind"), fetched.page.changes))
            progress.tickets += kinds["ticket"]
            progress.messages += kinds["message"]
        if self.on_progress is not None:
            self.on_progress(progress)

    # --- one cycle --------------------------------------------------------------------

    def sync_once(self, *, head: int | None = None) -> SyncReport:
        """Push, pull, push again if the user queued more meanwhile; record the status."""
        report = SyncReport()
        try:
            self.push(report)
            self.pull(report, head=head)
            if queued_count(self.db):
                self.push(report)
        except SyncError as error:
            record_error(self.db, str(error), online=isinstance(error, RateLimited))
            raise
        except WireError as error:
            # The server answered, wrongly: we are online, the page is refused whole.
            record_error(self.db, f"page rejected: {error}", online=True)
            raise
        record_success(self.db)
        return report


def run_loop(
    engine: Engine,
    stop: threading.Event,
    nudge: threading.Event,
    *,
    on_cycle: Callable[[SyncReport | None, BaseException | None], None] | None = None,
    rng: random.Random | None = None,
) -> None:
    """Sync until `stop`: a cycle, then wait for a nudge (live event, new local change) or the
    poll interval; after a failure, back off with jitter (or as long as 429 asked)."""
    attempt = 0
    while not stop.is_set():
        nudge.clear()
        error: BaseException | None = None
        report: SyncReport | None = None
        try:
            report = engine.sync_once()
            attempt = 0
            wait = engine.config.poll_interval
        except Cancelled:
            return
        except RateLimited as limited:
            error, wait = limited, limited.retry_after
        except (SyncError, WireError) as failure:
            error = failure
            if isinstance(failure, SyncError) and not failure.retryable:
                log.error("sync stopped: %s", failure)
                if on_cycle is not None:
                    on_cycle(None, failure)
                return
            wait = backoff_delay(attempt, engine.config, rng)
            attempt += 1
            log.info("sync failed (%s); retrying in %.1fs", failure, wait)
        if on_cycle is not None:
            on_cycle(report, error)
        if error is None:
            nudge.wait(wait)
        else:
            stop.wait(wait)  # a nudge must not cut a backoff short: that would hammer
